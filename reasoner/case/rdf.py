"""Turtle and JSON-LD case text as a graph whose literals stay lexical forms, read back bounded and checked."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

from ..consts import RDF, XSD

#: The longest lexical form of a number read from an RDF case, refused before it is converted: the most digits an
#: integer of a YAML or JSON case may have (``case.MAX_DIGITS``). Every finite float a case may hold is written in
#: fewer (``5e-324`` as an ``xsd:decimal`` takes 326 characters). The size of what the number becomes is bounded by
#: the lexical form too: an ``xsd:decimal`` has no exponent (``"1E999999999"^^xsd:decimal`` once meant a 1 GB int),
#: an ``xsd:double`` becomes a float.
MAX_NUMBER_CHARS = 4300
#: The longest lexical form of any other typed literal read (the longest string a case may hold).
MAX_LITERAL_CHARS = 200
_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "json-ld": ox.RdfFormat.JSON_LD}
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DOUBLE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?INF|NaN")
_BOOLEAN = {"true": True, "1": True, "false": False, "0": False}
_FORMS = {
    XSD.decimal: "digits with an optional point, no exponent",
    XSD.double: "a number with an optional exponent, INF or NaN",
    XSD.float: "a number with an optional exponent, INF or NaN",
    XSD.boolean: "true, false, 1 or 0",
}
#: The integer types of XSD and their value ranges (None: unbounded on that side).
_INTEGERS: dict[URIRef, tuple[int | None, int | None]] = {
    XSD.integer: (None, None),
    XSD.nonNegativeInteger: (0, None),
    XSD.positiveInteger: (1, None),
    XSD.nonPositiveInteger: (None, 0),
    XSD.negativeInteger: (None, -1),
    XSD.long: (-(2**63), 2**63 - 1),
    XSD.int: (-(2**31), 2**31 - 1),
    XSD.short: (-(2**15), 2**15 - 1),
    XSD.byte: (-128, 127),
    XSD.unsignedLong: (0, 2**64 - 1),
    XSD.unsignedInt: (0, 2**32 - 1),
    XSD.unsignedShort: (0, 2**16 - 1),
    XSD.unsignedByte: (0, 255),
}
_MARKUP = {RDF.XMLLiteral: "rdf:XMLLiteral", RDF.HTML: "rdf:HTML"}
_STRING = ox.NamedNode(str(XSD.string))


class LexicalLiteral(Literal):
    """A literal kept as its lexical form: rdflib's conversion to a Python value never runs on it.

    rdflib converts every typed literal when it is made (an ``xsd:decimal`` to a Decimal whose lexical form it
    then writes out in full, an ``rdf:HTML`` one through an HTML parser); a literal of a case file is read by
    :func:`literal_value` instead, after its lexical form is bounded and checked.

    >>> LexicalLiteral("1E999999999", XSD.decimal).value is None
    True
    """

    __slots__ = ()

    def __new__(cls, lexical: str, datatype: URIRef | None = None, lang: str | None = None) -> LexicalLiteral:
        inst = str.__new__(cls, lexical)
        inst._language, inst._datatype, inst._value, inst._ill_typed = lang, datatype, None, None
        return inst


@dataclass(frozen=True)
class RefusedLiteral:
    """A literal of an RDF case that is not read: as shown (its N3, cut) and why (validation reports it at its field).

    >>> print(literal_value(LexicalLiteral("1" * 5000, XSD.integer)).shown)
    "1111111111111111111111111111111111111111…"^^xsd:integer
    """

    shown: str
    reason: str


def parse_graph(text: str, fmt: str, base: str) -> Graph:
    """The graph of Turtle or JSON-LD text (relative IRIs against ``base``), its literals kept lexical; pyoxigraph's
    SyntaxError when the text is not valid. Nothing is fetched: a remote JSON-LD context is a SyntaxError.

    >>> g = parse_graph('<a> <p> "1E999999999"^^<http://www.w3.org/2001/XMLSchema#decimal> .', "turtle", "urn:x:")
    >>> [(type(o).__name__, str(o)) for o in g.objects()]
    [('LexicalLiteral', '1E999999999')]
    """
    graph = Graph(bind_namespaces="none")
    nodes: dict = {}

    def node(term):
        found = nodes.get(term)
        if found is None:
            if isinstance(term, ox.NamedNode):
                found = URIRef(term.value)
            elif isinstance(term, ox.BlankNode):
                found = BNode(term.value)
            else:
                datatype = None if term.language or term.datatype == _STRING else URIRef(term.datatype.value)
                found = LexicalLiteral(term.value, datatype, term.language)
            nodes[term] = found
        return found

    for quad in ox.parse(text.encode("utf-8"), _FORMATS[fmt], base_iri=base, without_named_graphs=True):
        graph.add((node(quad.subject), node(quad.predicate), node(quad.object)))
    return graph


def _short(datatype: URIRef) -> str:
    """``xsd:decimal`` for an XSD or RDF datatype, else ``<IRI>``."""
    for prefix, iri in (("xsd:", str(XSD)), ("rdf:", str(RDF))):
        if datatype.startswith(iri):
            return prefix + datatype.removeprefix(iri)
    return f"<{datatype}>"


def _n3(term: Literal) -> str:
    """The literal in N3 with a short datatype, its lexical form cut to 40 characters (a JSON string's escapes)."""
    assert term.datatype is not None  # only a typed literal is shown this way
    lexical = str(term)
    cut = json.dumps(lexical if len(lexical) <= 40 else lexical[:40] + "…", ensure_ascii=False)
    return f"{cut}^^{_short(term.datatype)}"


def literal_value(term: Literal) -> object:
    """A literal as a case document gives the value, read from its lexical form by this module (never by rdflib):
    a string, a bool, an int or a float; a literal of another datatype its N3 form (which validation refuses where
    a value is wanted); a number or boolean that is not of its type's lexical form or range, a typed literal too
    long to read, or XML/HTML, a :class:`RefusedLiteral`.

    >>> literal_value(LexicalLiteral("45.0", XSD.decimal)), literal_value(LexicalLiteral("4.5E1", XSD.double))
    (45, 45.0)
    >>> literal_value(LexicalLiteral("1E999999999", XSD.decimal)).reason
    'is not a valid xsd:decimal (digits with an optional point, no exponent)'
    >>> literal_value(LexicalLiteral("<b>x</b>", RDF.HTML)).reason
    'is an rdf:HTML literal (XML and HTML literals are not read in a case)'
    """
    lexical, datatype = str(term), term.datatype
    if datatype is None or datatype == XSD.string:
        return lexical
    if datatype in _MARKUP:
        return RefusedLiteral(
            _n3(term), f"is an {_MARKUP[datatype]} literal (XML and HTML literals are not read in a case)"
        )
    numeric = datatype in _INTEGERS or datatype in (XSD.decimal, XSD.double, XSD.float)
    limit = MAX_NUMBER_CHARS if numeric else MAX_LITERAL_CHARS
    if len(lexical) > limit:
        what = "a number" if numeric else "a typed literal"
        return RefusedLiteral(_n3(term), f"is {what} of {len(lexical)} characters (at most {limit} are read)")
    number: int | Decimal
    if datatype in _INTEGERS and _INTEGER.fullmatch(lexical):
        number, (low, high) = int(lexical), _INTEGERS[datatype]
        if (low is None or number >= low) and (high is None or number <= high):
            return number
        return RefusedLiteral(_n3(term), f"is outside the range of {_short(datatype)}")
    if datatype == XSD.decimal and _DECIMAL.fullmatch(lexical):
        number = Decimal(lexical)
        return int(number) if number == number.to_integral_value() else float(number)
    if datatype in (XSD.double, XSD.float) and _DOUBLE.fullmatch(lexical):
        return float(lexical)
    if datatype == XSD.boolean and lexical in _BOOLEAN:
        return _BOOLEAN[lexical]
    if numeric or datatype == XSD.boolean:
        return RefusedLiteral(_n3(term), f"is not a valid {_short(datatype)} ({_FORMS.get(datatype, 'digits only')})")
    return term.n3()
