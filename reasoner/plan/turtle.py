"""N-Triples text re-written as Turtle or TriG with short names: the compact provenance syntax of cohorts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..consts import PREFIXES, RDF, SK

#: The prefixes a cohort's provenance is written with: the project's namespaces, and the spinekg sub-namespaces
#: of runs, rules, KB versions and agents (their local names have no ``/``, so each gets a prefix of its own).
COHORT_PREFIXES: dict[str, str] = {
    **{name: str(ns) for name, ns in PREFIXES.items()},
    "run": f"{SK}run/",
    "rule": f"{SK}rule/",
    "kb": f"{SK}kb/",
    "agent": f"{SK}agent/",
}
#: The base case IRIs are written against (``<ID/step/1>``): no prefix can shorten them, their paths have ``/``.
CASE_BASE = f"{SK}case/"

# Turtle 1.1 PN_LOCAL, ASCII only and without ':' or escapes (a stricter rule than the grammar's, so every
# parser reads it alike): a letter, digit or '_' first; '-' and '.' inside, '.' never last. No '/', '+', '%'.
_LOCAL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?")
# A relative IRI that resolves against the base by plain concatenation: path segments of unreserved characters,
# none empty and none '.' or '..' (resolution removes dot segments); no ':' (a first segment with one is a scheme).
_SEGMENT = r"(?!\.\.?(?:/|$))[A-Za-z0-9._~-]+"
_RELATIVE = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")
_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")  # PN_PREFIX, ASCII, no '.'
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^<>\"{}|^`\\\s]*")
# N-Triples terms: the form of each is checked, not every character N-Triples forbids inside an IRI.
_IRI = r"<[^<>\"\s]*>"
_BNODE = r"_:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?"
_LITERAL = r"\"[^\"\\\n\r]*(?:\\.[^\"\\\n\r]*)*\"(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^" + _IRI + ")?"
_TERM = re.compile(f"{_IRI}|{_BNODE}|{_LITERAL}")
_LINE = re.compile(rf"[ \t]*({_IRI}|{_BNODE})[ \t]+({_IRI})[ \t]+({_IRI}|{_BNODE}|{_LITERAL})[ \t]*\.[ \t]*(?:#.*)?")
_TYPE = f"<{RDF.type}>"
_NEXT = " ;\n  "
_MEMO_LIMIT = 50_000


@dataclass(frozen=True)
class Prefixes:
    """A prefix table (``prefix: namespace``, each namespace ending in ``/`` or ``#``) and an optional base.

    >>> p = Prefixes({"sk": "https://w3id.org/spinekg/"}, base="https://w3id.org/spinekg/case/")
    >>> p.short("<https://w3id.org/spinekg/nsaid>"), p.short("<https://w3id.org/spinekg/case/a.b/step/1>")
    ('sk:nsaid', '<a.b/step/1>')
    >>> p.short("<https://w3id.org/spinekg/kb/0.1.0+3ef8>"), p.short("<https://w3id.org/spinekg/x.>")
    ('<https://w3id.org/spinekg/kb/0.1.0+3ef8>', '<https://w3id.org/spinekg/x.>')
    """

    names: dict[str, str]
    base: str | None = None
    _by_namespace: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)
    _memo: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)
    _predicates: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)
    # an IRI under the base, as one match: where no namespace lies under the base, no prefixed name can be its
    # short form (a namespace ends at the IRI's last '/' or '#'), so its relative form is, when it has one
    _under_base: re.Pattern | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for prefix, ns in self.names.items():
            if not (prefix == "" or _PREFIX.fullmatch(prefix)):
                raise ValueError(f"prefix {prefix!r}: not a Turtle prefix name")
            if not ns.endswith(("/", "#")) or not _ABSOLUTE.fullmatch(ns):
                raise ValueError(f"prefix {prefix!r}: namespace {ns!r} must be an IRI ending in '/' or '#'")
            self._by_namespace.setdefault(ns, prefix)
        if self.base is not None:
            if not _ABSOLUTE.fullmatch(self.base):
                raise ValueError(f"base {self.base!r}: not an absolute IRI")
            if not any(ns.startswith(self.base) for ns in self.names.values()):
                under = re.compile(rf"<{re.escape(self.base)}({_RELATIVE.pattern})>")
                object.__setattr__(self, "_under_base", under)

    def header(self) -> str:
        """The ``@base`` and ``@prefix`` lines, once at the top of a file, and a blank line.

        >>> print(Prefixes({"sk": "https://w3id.org/spinekg/"}, base="https://w3id.org/spinekg/case/").header(), end="")
        @base <https://w3id.org/spinekg/case/> .
        @prefix sk: <https://w3id.org/spinekg/> .
        <BLANKLINE>
        """
        lines = [f"@base <{self.base}> .\n"] if self.base is not None else []
        lines += [f"@prefix {prefix}: <{ns}> .\n" for prefix, ns in self.names.items()]
        return "".join(lines) + "\n"

    def short(self, term: str) -> str:
        """One N-Triples term (``<iri>``, ``_:label`` or a literal) in its shortest Turtle form here: an IRI as
        ``prefix:local`` where ``local`` is a PN_LOCAL, else relative to the base where that resolves back to it,
        else as it is; a literal's datatype likewise (its lexical form and language tag as they are, escapes and
        all: N-Triples literals are Turtle literals). A text that is no term is a ``ValueError``."""
        text = self._memo.get(term)
        if text is not None:
            return text
        under = self._under_base.fullmatch(term) if self._under_base is not None else None
        if under is not None:
            text = f"<{under[1]}>"
        elif not _TERM.fullmatch(term):
            raise ValueError(f"not an N-Triples term: {term[:200]!r}")
        elif term[0] == "<":
            text = self._iri(term[1:-1])
        elif term[-1] == ">":  # a literal with a datatype
            cut = term.rfind('"^^<') + 3
            text = term[:cut] + self._iri(term[cut + 1 : -1])
        else:
            text = term
        if len(self._memo) >= _MEMO_LIMIT:  # a cohort's case IRIs are new every case: keep the memo bounded
            self._memo.clear()
        self._memo[term] = text
        return text

    def predicate(self, term: str) -> str:
        """A predicate (an IRI) in its shortest Turtle form: ``a`` for ``rdf:type``, else as :meth:`short`."""
        text = self._predicates.get(term)
        if text is None:
            if term[0] != "<":
                raise ValueError(f"not an IRI, so no predicate: {term[:200]!r}")
            text = "a" if term == _TYPE else self.short(term)
            if len(self._predicates) < _MEMO_LIMIT:
                self._predicates[term] = text
        return text

    def _iri(self, iri: str) -> str:
        cut = max(iri.rfind("/"), iri.rfind("#")) + 1
        prefix = self._by_namespace.get(iri[:cut])
        if prefix is not None and (cut == len(iri) or _LOCAL.fullmatch(iri, cut)):
            return f"{prefix}:{iri[cut:]}"
        base = self.base
        if base is not None and iri.startswith(base) and len(iri) > len(base):
            rest = iri[len(base) :]
            if _RELATIVE.fullmatch(rest):
                return f"<{rest}>"
        return f"<{iri}>"


#: The prefix table and base of a cohort's ``.ttl`` and ``.trig`` provenance.
COHORT = Prefixes(COHORT_PREFIXES, base=CASE_BASE)


def turtle(nt: str, prefixes: Prefixes = COHORT, graph: str | None = None) -> str:
    """N-Triples text as a Turtle block with ``prefixes`` (declared elsewhere, once: :meth:`Prefixes.header`):
    each subject once, its predicates after ``;``, a predicate's objects after ``,``, ``rdf:type`` as ``a``; the
    same triples, in order of first appearance (a triple written twice is written once). With ``graph`` (an IRI)
    the block is a TriG named graph. Plain string work, no rdflib: a cohort converts every case's provenance.
    Text that is not N-Triples is a ``ValueError`` naming the line or term.

    >>> nt = ('<https://w3id.org/spinekg/case/c-1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> '
    ...       '<https://w3id.org/spinekg/Case> .\\n'
    ...       '<https://w3id.org/spinekg/case/c-1> <http://purl.org/dc/terms/identifier> "c-1" .\\n'
    ...       '<https://w3id.org/spinekg/case/c-1/step/1> <https://w3id.org/spinekg/stepPosition> '
    ...       '"1"^^<http://www.w3.org/2001/XMLSchema#integer> .\\n')
    >>> print(turtle(nt), end="")
    <c-1> a sk:Case ;
      dcterms:identifier "c-1" .
    <c-1/step/1> sk:stepPosition "1"^^xsd:integer .
    >>> print(turtle(nt, graph="https://w3id.org/spinekg/case/c-1/provenance").splitlines()[0])
    <c-1/provenance> {
    """
    try:
        return _written(_grouped(nt), prefixes, graph)
    except ValueError:  # not one statement a line ending in " .": read it line by line, and name a line in error
        return _written(_grouped_lines(nt), prefixes, graph)


def _written(groups: dict[str, dict[str, str | list[str]]], prefixes: Prefixes, graph: str | None) -> str:
    short, predicate = prefixes.short, prefixes.predicate
    term, verb = prefixes._memo.get, prefixes._predicates.get
    out = []
    for s, preds in groups.items():
        if s[0] == '"':
            raise ValueError(f"a literal cannot be a subject: {s[:200]!r}")
        parts = []
        for p, objects in preds.items():
            if type(objects) is str:
                parts.append(f"{verb(p) or predicate(p)} {term(objects) or short(objects)}")
            else:
                parts.append(f"{verb(p) or predicate(p)} {', '.join([term(o) or short(o) for o in objects])}")
        out.append(f"{term(s) or short(s)} {_NEXT.join(parts)} .\n")
    if graph is None:
        return "".join(out)
    return f"{short(f'<{graph}>')} {{\n{''.join(out)}}}\n"


def _grouped(nt: str) -> dict[str, dict[str, str | list[str]]]:
    """The statements of N-Triples text, subject → predicate → its object (or objects, without repeats), in order
    of first appearance, when the text is one statement a line, each ending in `` .`` (as spinekg and rdflib write
    it): split as it is, at C speed; each term is checked as it is shortened (a ``ValueError`` if one is not)."""
    groups: dict[str, dict[str, str | list[str]]] = {}
    if not nt:
        return groups
    if not nt.endswith(" .\n"):
        raise ValueError("not one statement a line")
    for statement in nt[:-3].split(" .\n"):
        s, p, o = statement.split(" ", 2)  # a line of fewer terms: a ValueError
        preds = groups.get(s)
        if preds is None:
            groups[s] = {p: o}
        elif p not in preds:
            preds[p] = o
        else:
            _more(preds, p, o)
    return groups


def _more(preds: dict[str, str | list[str]], p: str, o: str) -> None:
    """Add ``o`` to the objects of ``p`` (one object is a string, more a list), unless it is there already."""
    x = preds[p]
    if isinstance(x, str):
        if x != o:
            preds[p] = [x, o]
    elif o not in x:
        x.append(o)


def _grouped_lines(nt: str) -> dict[str, dict[str, str | list[str]]]:
    """:func:`_grouped` of any N-Triples text, line by line: blank and comment lines skipped, a line that is not
    one statement a ``ValueError`` naming it."""
    groups: dict[str, dict[str, str | list[str]]] = {}
    for n, line in enumerate(nt.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped[0] == "#":
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            raise ValueError(f"N-Triples line {n}: not one statement: {line[:200]!r}")
        s, p, o = match.groups()
        preds = groups.setdefault(s, {})
        if p not in preds:
            preds[p] = o
        else:
            _more(preds, p, o)
    return groups
