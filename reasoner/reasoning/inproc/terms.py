"""The terms, the N-Triples reader and the triple indexes of the in-process engine."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from ...errors import SpinekgError

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
STRING = XSD + "string"
LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
INTEGERS = {
    XSD + n
    for n in (
        "integer int long short byte nonNegativeInteger positiveInteger negativeInteger nonPositiveInteger "
        "unsignedLong unsignedInt unsignedShort unsignedByte"
    ).split()
}
FLOATS = {XSD + "double", XSD + "float"}
DECIMAL = XSD + "decimal"


class Unsupported(SpinekgError):
    """A SPARQL operator the in-process evaluator does not implement (named)."""


class Lit:
    """A literal: lexical form (numbers as pyoxigraph writes them), datatype IRI, language; ``num`` its number."""

    __slots__ = ("lex", "dt", "lang", "num", "_hash")

    def __init__(self, lex: str, dt: str | None = None, lang: str | None = None):
        if lang:
            dt = LANG_STRING
        elif dt is None:
            dt = STRING
        num: float | None = None
        if dt in INTEGERS:
            try:
                value = int(lex.strip())
                lex, num = str(value), float(value)
            except ValueError:
                pass
        elif dt == DECIMAL:
            try:
                d = Decimal(lex.strip())
                if d.is_finite():
                    num = float(d)
                    lex = _decimal_text(d)
            except InvalidOperation:
                pass
        elif dt in FLOATS:
            try:
                f = float(lex.strip())
                num = f
                lex = _double_text(f)
            except ValueError:
                pass
        self.lex, self.dt, self.lang, self.num = lex, dt, (lang.lower() if lang else None), num
        self._hash = hash((lex, dt, self.lang))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lit) and self.lex == other.lex and self.dt == other.dt and self.lang == other.lang

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"Lit({self.lex!r}, {self.dt!r})"

    def __reduce__(self):
        return (Lit, (self.lex, self.dt, self.lang))


def _decimal_text(d: Decimal) -> str:
    """A decimal as pyoxigraph writes it: no exponent, no trailing zeros, ``3`` for 3.0."""
    text = format(d.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _double_text(f: float) -> str:
    """A double as pyoxigraph writes it (``1`` for 1.0)."""
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "INF" if f > 0 else "-INF"
    if f == int(f) and abs(f) < 1e16:
        return str(int(f))
    return repr(f)


class Blank:
    """A blank node (the rules and the cases use none; the KB is skolemised)."""

    __slots__ = ("id",)

    def __init__(self, id_: str):
        self.id = id_

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Blank) and other.id == self.id

    def __hash__(self) -> int:
        return hash(("_:", self.id))

    def __reduce__(self):
        return (Blank, (self.id,))


Term = Any  # str (an IRI) | Lit | Blank


class Var:
    """A variable of a pattern or an expression."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Var) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("?", self.name))

    def __repr__(self) -> str:
        return f"?{self.name}"

    def __reduce__(self):
        return (Var, (self.name,))


def value_of(term: Term) -> str:
    """What a store reports of a term: an IRI, a literal's lexical form, a blank node's id."""
    if type(term) is str:
        return term
    if isinstance(term, Lit):
        return term.lex
    return term.id


# ---------------------------------------------------------------------------------------------------- N-Triples

_NT_LINE = re.compile(
    r'\s*(<[^>]*>|_:[^\s]+)\s+<([^>]*)>\s+(<[^>]*>|_:[^\s]+|"((?:[^"\\]|\\.)*)"(?:\^\^<([^>]*)>|@([A-Za-z0-9-]+))?)'
    r"\s*\.\s*(?:#.*)?$"
)
_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")
_SIMPLE = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text

    def one(m: re.Match) -> str:
        e = m.group(1)
        if e[0] in "uU":
            return chr(int(e[1:], 16))
        return _SIMPLE.get(e, e)

    return _ESCAPE.sub(one, text)


def parse_nt(text: str) -> Iterator[tuple[Term, str, Term]]:
    """The triples of N-Triples text as terms (:class:`Lit`, :class:`Blank`, IRIs as strings)."""
    memo: dict[str, Term] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _NT_LINE.match(line)
        if m is None:
            raise ValueError(f"not an N-Triples line: {line[:200]!r}")
        s_text, p, o_text, lex, dt, lang = m.groups()
        s = memo.get(s_text)
        if s is None:
            s = memo[s_text] = _unescape(s_text[1:-1]) if s_text[0] == "<" else Blank(s_text[2:])
        o = memo.get(o_text)
        if o is None:
            if o_text[0] == "<":
                o = _unescape(o_text[1:-1])
            elif o_text[0] == "_":
                o = Blank(o_text[2:])
            else:
                o = Lit(_unescape(lex), _unescape(dt) if dt else None, lang)
            memo[o_text] = o
        yield s, _unescape(p), o


# ---------------------------------------------------------------------------------------------------- indexes


_SERIALS = itertools.count()


class Index:
    """The triples of one graph: subject → predicate → objects, and predicate → object → subjects."""

    __slots__ = ("spo", "pos", "size", "counts", "watch", "clashes", "serial")

    def __init__(self, watch: set | frozenset = frozenset()) -> None:
        self.serial = next(_SERIALS)  # names this index in caches (an id() may be reused)
        self.spo: dict[Term, dict[str, set[Term]]] = {}
        self.pos: dict[str, dict[Term, set[Term]]] = {}
        self.size = 0
        self.counts: dict[str, int] = {}  # predicate → triples
        self.watch = watch  # the KB's terms: a batch subject among them is a clash
        self.clashes = 0

    def add(self, s: Term, p: str, o: Term) -> bool:
        by_p = self.spo.get(s)
        if by_p is None:
            by_p = self.spo[s] = {}
            if s in self.watch:
                self.clashes += 1
        objects = by_p.get(p)
        if objects is None:
            objects = by_p[p] = set()
        if o in objects:
            return False
        objects.add(o)
        by_o = self.pos.get(p)
        if by_o is None:
            by_o = self.pos[p] = {}
        subjects = by_o.get(o)
        if subjects is None:
            subjects = by_o[o] = set()
        subjects.add(s)
        self.size += 1
        self.counts[p] = self.counts.get(p, 0) + 1
        return True

    def keys(self) -> dict[str, int]:
        """Class or predicate → how many triples have it (what ``classify.KEYS`` counts)."""
        out: dict[str, int] = {}
        for p, by_o in self.pos.items():
            if p == RDF_TYPE:
                for o, subjects in by_o.items():
                    if type(o) is str:
                        out[o] = out.get(o, 0) + len(subjects)
            else:
                out[p] = self.counts[p]
        return out

    def has_key(self, key: str) -> bool:
        if key in self.pos:
            return True
        types = self.pos.get(RDF_TYPE)
        return types is not None and key in types


def match(graphs: tuple[Index, ...], s: Term | None, p: str | None, o: Term | None) -> Iterator[tuple]:
    """The (s, p, o) triples of the graphs that match, a bag over the graphs (None: any)."""
    for g in graphs:
        if s is not None:
            by_p = g.spo.get(s)
            if by_p is None:
                continue
            if p is not None:
                objects = by_p.get(p)
                if objects is None:
                    continue
                if o is not None:
                    if o in objects:
                        yield s, p, o
                else:
                    for obj in objects:
                        yield s, p, obj
            else:
                for pred, objects in by_p.items():
                    if o is not None:
                        if o in objects:
                            yield s, pred, o
                    else:
                        for obj in objects:
                            yield s, pred, obj
        elif p is not None:
            by_o = g.pos.get(p)
            if by_o is None:
                continue
            if o is not None:
                subjects = by_o.get(o)
                if subjects:
                    for subj in subjects:
                        yield subj, p, o
            else:
                for obj, subjects in by_o.items():
                    for subj in subjects:
                        yield subj, p, obj
        else:
            for pred, by_o in g.pos.items():
                if o is not None:
                    for subj in by_o.get(o, ()):
                        yield subj, pred, o
                else:
                    for obj, subjects in by_o.items():
                        for subj in subjects:
                            yield subj, pred, obj
