"""Triples as N-Triples text without an rdflib graph in between: the fast path of cohorts and provenance."""

from __future__ import annotations

from rdflib import BNode, Literal, URIRef
from rdflib.plugins.serializers.nt import _nt_row

_MEMO: dict[object, str] = {}


def term(t) -> str:
    """One RDF term in N-Triples syntax (literals escaped as rdflib's N-Triples serialiser does).

    >>> term(URIRef("https://w3id.org/spinekg/nsaid")), term(Literal(True)), term(Literal("a \\"b\\""))
    ('<https://w3id.org/spinekg/nsaid>', '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>', '"a \\\\"b\\\\""')
    """
    if type(t) is URIRef:
        return f"<{t}>"
    key = (t, getattr(t, "datatype", None), getattr(t, "language", None))
    text = _MEMO.get(key)
    if text is None:
        if isinstance(t, BNode):
            raise ValueError(f"blank node {t!r}: the fast path writes named resources only")
        row = _nt_row((URIRef("s:"), URIRef("p:"), t if isinstance(t, Literal) else URIRef(str(t))))
        text = row[len("<s:> <p:> ") : -len(" .\n")]
        if len(_MEMO) < 100_000:
            _MEMO[key] = text
    return text


_PLAIN: dict[str, str] = {}


def plain(text: str) -> str:
    """A plain string literal in N-Triples syntax, as :func:`term` writes ``Literal(text)``, remembered by its text
    (the same step labels recur in every case of a cohort, and an rdflib Literal is slow to make).

    >>> plain('say "hi"') == term(Literal('say "hi"'))
    True
    """
    made = _PLAIN.get(text)
    if made is None:
        made = term(Literal(text))
        if len(_PLAIN) < 100_000:
            _PLAIN[text] = made
    return made


class Triples(list):
    """A list of (s, p, o) rdflib terms that the case graph builder can write into (``add``), as N-Triples."""

    def add(self, triple) -> None:
        self.append(triple)

    def nt(self) -> str:
        """The triples as N-Triples text, in insertion order.

        >>> t = Triples(); t.add((URIRef("urn:a"), URIRef("urn:b"), Literal(3)))
        >>> t.nt()
        '<urn:a> <urn:b> "3"^^<http://www.w3.org/2001/XMLSchema#integer> .\\n'
        """
        return "".join(f"{term(s)} {term(p)} {term(o)} .\n" for s, p, o in self)
