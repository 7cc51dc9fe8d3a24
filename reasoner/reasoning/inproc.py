"""The rule files run in this process, without a SPARQL store: their algebra compiled once, evaluated over Python
indexes of the knowledge base and of one batch of cases.

The SPARQL rules (``reasoner/rules``) and the compiled class definitions stay the reference semantics: they run
unchanged in pyoxigraph or on any SPARQL 1.1 store (:mod:`.stores`). :class:`PythonStore` is a :class:`.stores.Backend`
that runs *the same texts* another way: each is parsed once by rdflib's SPARQL parser into its algebra, the algebra
is turned into plain tuples (kept with the compiled rules in the KB cache, so a command does not parse), and the
tuples are evaluated over two indexes, the KB's (built once) and the batch's. What made the store slow for one case
was its fixed cost per statement and plans that joined the KB over and over; here,

- a part of a query that reads only predicates and classes the batch does not hold reads only the KB, so its
  solutions are computed once per store and joined by hash (the conditions of the recommendations, the subclass
  paths);
- a basic graph pattern is joined from what is already bound (index nested loops, most selective pattern first);
- the solutions of a ``rdfs:subClassOf*`` path from a KB class are remembered.

Only the algebra the rules use is supported (an unsupported operator is an error when a rule is compiled, never a
wrong answer): BGPs with property paths, join, OPTIONAL, UNION, MINUS, FILTER (with EXISTS), BIND, VALUES,
sub-SELECT, DISTINCT, GROUP BY with COUNT/MAX/MIN/SAMPLE, and ``INSERT … WHERE``. Results are bags as SPARQL
defines them; a triple held by both graphs is seen twice, as pyoxigraph's union default graph sees it. Numeric
literals are written as pyoxigraph writes them (``3.0`` as ``3``). The test suite proves the plans equal to the
store's on the examples, the acceptance vignettes and generated cases.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import SpinekgError

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_STRING = XSD + "string"
_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_INTEGERS = {
    XSD + n
    for n in (
        "integer int long short byte nonNegativeInteger positiveInteger negativeInteger nonPositiveInteger "
        "unsignedLong unsignedInt unsignedShort unsignedByte"
    ).split()
}
_FLOATS = {XSD + "double", XSD + "float"}
_DECIMAL = XSD + "decimal"


class Unsupported(SpinekgError):
    """A SPARQL operator the in-process evaluator does not implement (named)."""


class Lit:
    """A literal: lexical form (numbers as pyoxigraph writes them), datatype IRI, language; ``num`` its number."""

    __slots__ = ("lex", "dt", "lang", "num", "_hash")

    def __init__(self, lex: str, dt: str | None = None, lang: str | None = None):
        if lang:
            dt = _LANG_STRING
        elif dt is None:
            dt = _STRING
        num: float | None = None
        if dt in _INTEGERS:
            try:
                value = int(lex.strip())
                lex, num = str(value), float(value)
            except ValueError:
                pass
        elif dt == _DECIMAL:
            try:
                d = Decimal(lex.strip())
                if d.is_finite():
                    num = float(d)
                    lex = _decimal_text(d)
            except InvalidOperation:
                pass
        elif dt in _FLOATS:
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


class Index:
    """The triples of one graph: subject → predicate → objects, and predicate → object → subjects."""

    __slots__ = ("spo", "pos", "size", "counts", "watch", "clashes")

    def __init__(self, watch: set | frozenset = frozenset()) -> None:
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


def _match(graphs: tuple[Index, ...], s: Term | None, p: str | None, o: Term | None) -> Iterator[tuple]:
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


# ---------------------------------------------------------------------------------------------------- compiling

# A plan is nested tuples, (tag, ...), so that it pickles with the compiled rules:
#   ("bgp", ((s, p, o), ...))  with Var, IRI str, Lit, or a path (("link", iri) ("inv", x) ("seq", xs) ("alt", xs)
#                              ("mul", x, mod)) in predicate position
#   ("join", a, b) ("leftjoin", a, b, expr|None) ("union", a, b) ("minus", a, b) ("filter", expr, a)
#   ("extend", a, var, expr) ("project", a, (vars)) ("distinct", a) ("values", (dict, ...)) ("unit",)
#   ("group", a, (group vars), ((agg, var, expr|None, distinct), ...))
# An expression: ("var", name) ("term", t) ("rel", op, a, b) ("in", a, (xs), negated) ("and", xs) ("or", xs)
#   ("not", x) ("exists", plan, negated) ("call", name, xs)


def _term(t) -> Term:
    from rdflib import BNode, Literal, URIRef, Variable

    if isinstance(t, Variable):
        return Var(str(t))
    if isinstance(t, URIRef):
        return str(t)
    if isinstance(t, Literal):
        return Lit(str(t), str(t.datatype) if t.datatype else None, t.language)
    if isinstance(t, BNode):
        raise Unsupported(f"a blank node in a rule: {t}")
    raise Unsupported(f"term {t!r}")


def _path(p) -> Any:
    from rdflib import URIRef
    from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath

    if isinstance(p, URIRef):
        return ("link", str(p))
    if isinstance(p, InvPath):
        return ("inv", _path(p.arg))
    if isinstance(p, SequencePath):
        return ("seq", tuple(_path(x) for x in p.args))
    if isinstance(p, AlternativePath):
        return ("alt", tuple(_path(x) for x in p.args))
    if isinstance(p, MulPath):
        return ("mul", _path(p.path), p.mod)
    raise Unsupported(f"property path {p!r}")


def _pattern_term(t) -> Any:
    from rdflib.paths import Path

    if isinstance(t, Path):
        return _path(t)
    return _term(t)


_REL = {"=", "!=", "<", ">", "<=", ">="}


def _expr(e) -> Any:
    from rdflib import Literal, URIRef, Variable
    from rdflib.plugins.sparql.parserutils import CompValue

    if isinstance(e, Variable):
        return ("var", str(e))
    if isinstance(e, (URIRef, Literal)):
        return ("term", _term(e))
    if not isinstance(e, CompValue):
        raise Unsupported(f"expression {e!r}")
    name = e.name
    if name == "RelationalExpression":
        op = e.op
        if op in _REL:
            return ("rel", op, _expr(e.expr), _expr(e.other))
        if op in ("IN", "NOT IN"):
            return ("in", _expr(e.expr), tuple(_expr(x) for x in e.other), op == "NOT IN")
        raise Unsupported(f"operator {op}")
    if name == "ConditionalAndExpression":
        return ("and", tuple(_expr(x) for x in [e.expr, *e.other]))
    if name == "ConditionalOrExpression":
        return ("or", tuple(_expr(x) for x in [e.expr, *e.other]))
    if name == "UnaryNot":
        return ("not", _expr(e.expr))
    if name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
        return ("exists", _node(e.graph), name == "Builtin_NOTEXISTS")
    if name == "Builtin_BOUND":
        return ("bound", str(e.arg))
    if name in ("Builtin_isIRI", "Builtin_isURI", "Builtin_isNUMERIC", "Builtin_isLITERAL", "Builtin_isBLANK"):
        return ("call", name.removeprefix("Builtin_").replace("isURI", "isIRI"), (_expr(e.arg),))
    if name == "Builtin_STR":
        return ("call", "STR", (_expr(e.arg),))
    if name == "Builtin_COALESCE":
        return ("coalesce", tuple(_expr(x) for x in e.arg))
    if name == "Builtin_STRSTARTS":
        return ("call", "STRSTARTS", (_expr(e.arg1), _expr(e.arg2)))
    if name == "TrueFilter":
        return ("term", Lit("true", XSD + "boolean"))
    raise Unsupported(f"expression {name}")


_AGGREGATES = {"Aggregate_Count": "COUNT", "Aggregate_Max": "MAX", "Aggregate_Min": "MIN",
               "Aggregate_Sample": "SAMPLE"}  # fmt: skip


def _node(n) -> Any:
    from rdflib.plugins.sparql.parserutils import CompValue

    if not isinstance(n, CompValue):
        raise Unsupported(f"algebra {n!r}")
    name = n.name
    if name == "BGP":
        return ("bgp", tuple(tuple(_pattern_term(x) for x in t) for t in n.triples))
    if name == "Join":
        return ("join", _node(n.p1), _node(n.p2))
    if name == "LeftJoin":
        expr = n.expr
        cond = None if expr is None or getattr(expr, "name", None) == "TrueFilter" else _expr(expr)
        return ("leftjoin", _node(n.p1), _node(n.p2), cond)
    if name == "Union":
        return ("union", _node(n.p1), _node(n.p2))
    if name == "Minus":
        return ("minus", _node(n.p1), _node(n.p2))
    if name == "Filter":
        return _filter(_expr(n.expr), _node(n.p))
    if name == "Extend":
        return ("extend", _node(n.p), str(n.var), _expr(n.expr))
    if name == "Project":
        return ("project", _node(n.p), tuple(str(v) for v in n.PV))
    if name == "Distinct":
        return ("distinct", _node(n.p))
    if name == "ToMultiSet":
        return _node(n.p)
    if name == "SelectQuery":
        return _node(n.p)
    if name == "values":
        return ("values", tuple({str(k): _term(v) for k, v in row.items() if v is not None} for row in n.res))
    if name == "AggregateJoin":
        group = n.p
        by = tuple(str(v) for v in (group.expr or ()))
        aggs = []
        for a in n.A:
            kind = _AGGREGATES.get(a.name)
            if kind is None:
                raise Unsupported(f"aggregate {a.name}")
            vars_ = a.vars
            expr = None if vars_ == "*" or vars_ is None else _expr(vars_)
            aggs.append((kind, str(a.res), expr, bool(a.distinct)))
        return ("group", _node(group.p), by, tuple(aggs))
    raise Unsupported(f"algebra {name}")


def _filter(e: Any, p: Any) -> Any:
    """``FILTER(e)`` over ``p``, each conjunct moved down a join to the side that always binds every variable it
    reads (EXISTS patterns included): the same solutions, fewer tested (a filter over a join of the KB's conditions
    with a case's records tested every pair)."""
    if e[0] == "and":
        for part in e[1]:
            p = _filter(part, p)
        return p
    if p[0] == "join":
        wanted = expr_vars(e)
        if wanted <= plan_vars(p[1]):
            return ("join", _filter(e, p[1]), p[2])
        if wanted <= plan_vars(p[2]):
            return ("join", p[1], _filter(e, p[2]))
    return ("filter", e, p)


def compile_query(text: str) -> Any:
    """A SELECT's plan: ``("select", plan, variables)``."""
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    query = translateQuery(parseQuery(text)).algebra
    if query.name != "SelectQuery":
        raise Unsupported(f"{query.name}: only SELECT queries run in process")
    return ("select", _node(query.p), tuple(str(v) for v in query.PV))


def compile_update(text: str) -> Any:
    """An ``INSERT … WHERE`` update's plan: ``("insert", where plan, template triples)``."""
    from rdflib.plugins.sparql.algebra import translateUpdate
    from rdflib.plugins.sparql.parser import parseUpdate

    operations = translateUpdate(parseUpdate(text)).algebra
    if len(operations) != 1 or operations[0].name != "Modify" or operations[0].delete:
        raise Unsupported("only one INSERT … WHERE update runs in process")
    op = operations[0]
    template = op.insert
    triples = list(template.get("triples") or []) + [t for ts in (template.get("quads") or {}).values() for t in ts]
    return ("insert", _node(op.where), tuple(tuple(_term(x) for x in t) for t in triples))


def compile_text(text: str) -> Any:
    """A SELECT's or an update's plan."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    if re.search(r"\bSELECT\b", re.sub(r"<[^>]*>", "", body), flags=re.IGNORECASE) and not re.search(
        r"^\s*(?:PREFIX[^\n]*\n\s*)*INSERT\b", body, flags=re.IGNORECASE
    ):
        return compile_query(text)
    return compile_update(text)


def freeze(plan: Any) -> Any:
    """A plan as plain tuples, strings and dicts (what the KB cache's JSON holds): :func:`thaw` gives it back."""
    if isinstance(plan, Var):
        return ("$var", plan.name)
    if isinstance(plan, Lit):
        return ("$lit", plan.lex, plan.dt, plan.lang)
    if isinstance(plan, Blank):
        return ("$blank", plan.id)
    if isinstance(plan, tuple):
        return tuple(freeze(x) for x in plan)
    if isinstance(plan, dict):
        return {k: freeze(v) for k, v in plan.items()}
    return plan


def thaw(plan: Any) -> Any:
    """:func:`freeze` undone."""
    if isinstance(plan, tuple) and plan:
        tag = plan[0]
        if tag == "$var":
            return Var(plan[1])
        if tag == "$lit":
            return Lit(plan[1], plan[2], plan[3])
        if tag == "$blank":
            return Blank(plan[1])
        return tuple(thaw(x) for x in plan)
    if isinstance(plan, dict):
        return {k: thaw(v) for k, v in plan.items()}
    return plan


# ---------------------------------------------------------------------------------------------------- keys


def plan_keys(plan: Any) -> frozenset[str] | None:
    """Every class (of ``?s a C``) and predicate a plan can read, or None when it can read anything (a variable
    predicate or class): a plan none of whose keys the batch holds reads only the KB."""
    out: set[str] = set()

    def path(p) -> bool:
        tag = p[0]
        if tag == "link":
            if p[1] == RDF_TYPE:
                return False  # a path over rdf:type reads any class
            out.add(p[1])
            return True
        if tag in ("inv", "mul"):
            return path(p[1])
        return all(path(x) for x in p[1])

    def expr(e) -> bool:
        tag = e[0]
        if tag == "exists":
            return node(e[1])
        if tag in ("rel",):
            return expr(e[2]) and expr(e[3])
        if tag == "in":
            return expr(e[1]) and all(expr(x) for x in e[2])
        if tag in ("and", "or", "coalesce"):
            return all(expr(x) for x in e[1])
        if tag == "not":
            return expr(e[1])
        if tag == "call":
            return all(expr(x) for x in e[2])
        return True

    def node(n) -> bool:
        tag = n[0]
        if tag == "bgp":
            for _, p, o in n[1]:
                if isinstance(p, Var):
                    return False
                if isinstance(p, tuple):
                    if not path(p):
                        return False
                elif p == RDF_TYPE:
                    if not isinstance(o, str):
                        return False
                    out.add(o)
                else:
                    out.add(p)
            return True
        if tag in ("join", "union", "minus"):
            return node(n[1]) and node(n[2])
        if tag == "leftjoin":
            return node(n[1]) and node(n[2]) and (n[3] is None or expr(n[3]))
        if tag == "filter":
            return expr(n[1]) and node(n[2])
        if tag == "extend":
            return node(n[1]) and expr(n[3])
        if tag in ("project", "distinct", "group"):
            return node(n[1]) and (tag != "group" or all(a[2] is None or expr(a[2]) for a in n[3]))
        if tag in ("values", "unit"):
            return True
        if tag in ("select", "insert"):
            return node(n[1])
        return False

    return frozenset(out) if node(plan) else None


def plan_vars(n: Any) -> frozenset[str]:
    """The variables every solution of a plan binds (certain variables)."""
    tag = n[0]
    if tag == "bgp":
        out: set[str] = set()
        for t in n[1]:
            out.update(x.name for x in t if isinstance(x, Var))
        return frozenset(out)
    if tag == "join":
        return plan_vars(n[1]) | plan_vars(n[2])
    if tag in ("leftjoin", "minus", "distinct"):
        return plan_vars(n[1])
    if tag == "union":
        return plan_vars(n[1]) & plan_vars(n[2])
    if tag == "filter":
        return plan_vars(n[2])
    if tag == "extend":
        return plan_vars(n[1])  # a BIND may leave its variable unbound (an error)
    if tag == "project":
        return plan_vars(n[1]) & frozenset(n[2])
    if tag == "values":
        rows = n[1]
        return frozenset.intersection(*(frozenset(r) for r in rows)) if rows else frozenset()
    if tag == "group":
        return frozenset(n[2]) & plan_vars(n[1])
    return frozenset()


def expr_vars(e: Any) -> frozenset[str]:
    """Every variable an expression mentions, in EXISTS patterns too."""
    tag = e[0]
    if tag == "var":
        return frozenset((e[1],))
    if tag == "bound":
        return frozenset((e[1],))
    if tag == "exists":
        return all_vars(e[1])
    out: frozenset[str] = frozenset()
    for part in e[1:]:
        if isinstance(part, tuple) and part and isinstance(part[0], str) and part[0] in _EXPR_TAGS:
            out |= expr_vars(part)
        elif isinstance(part, tuple):
            for x in part:
                if isinstance(x, tuple) and x and x[0] in _EXPR_TAGS:
                    out |= expr_vars(x)
    return out


_EXPR_TAGS = {"var", "term", "rel", "in", "and", "or", "not", "exists", "call", "coalesce", "bound"}


def all_vars(n: Any) -> frozenset[str]:
    """Every variable a plan mentions (in its patterns, expressions, BINDs, projections and groups)."""
    out: set[str] = set()

    def walk(x) -> None:
        if isinstance(x, Var):
            out.add(x.name)
        elif isinstance(x, dict):
            out.update(x)
        elif isinstance(x, tuple) and x:
            tag = x[0]
            if tag in ("var", "bound") and len(x) == 2 and isinstance(x[1], str):
                out.add(x[1])
                return
            if tag == "extend":
                out.add(x[2])
            elif tag == "project":
                out.update(x[2])
            elif tag == "group":
                out.update(x[2])
                out.update(a[1] for a in x[3])
            for y in x:
                walk(y)

    walk(n)
    return frozenset(out)


# ---------------------------------------------------------------------------------------------------- evaluating


class _Error(Exception):
    """An expression error: a FILTER reads it as false. Raised as a new instance each time: one instance raised
    again keeps every traceback it was raised with, and with them every frame's solutions (memory grew by about
    60 kB a case)."""

_UNIT: list[dict] = [{}]
_ROW = " row"  # a name no SPARQL variable has: the position of a left solution in an OPTIONAL


def _ebv(v: Term) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, Lit):
        if v.dt == XSD + "boolean":
            return v.lex in ("true", "1")
        if v.num is not None:
            return v.num != 0 and v.num == v.num
        if v.dt in (_STRING, _LANG_STRING):
            return bool(v.lex)
    raise _Error


def _equal(a: Term, b: Term) -> bool:
    if type(a) is str or type(b) is str:
        return a == b
    if isinstance(a, Lit) and isinstance(b, Lit):
        if a.num is not None and b.num is not None:
            return a.num == b.num
        if a == b:
            return True
        if a.dt == b.dt and a.dt in (_STRING, _LANG_STRING, XSD + "boolean"):
            return False
        if a.num is not None or b.num is not None:
            if (a.dt in _INTEGERS or a.dt in _FLOATS or a.dt == _DECIMAL) and (
                b.dt in _INTEGERS or b.dt in _FLOATS or b.dt == _DECIMAL
            ):
                return False
        if a.dt in (_STRING, _LANG_STRING) and b.dt in (_STRING, _LANG_STRING):
            return False
        raise _Error
    return a == b


def _less(a: Term, b: Term) -> bool:
    if isinstance(a, Lit) and isinstance(b, Lit):
        if a.num is not None and b.num is not None:
            return a.num < b.num
        if a.dt == b.dt == _STRING:
            return a.lex < b.lex
    raise _Error


class _Eval:
    """One evaluation: the graphs read, the batch's keys, and the caches of the store."""

    __slots__ = ("graphs", "batch", "store", "substitute", "_inner")

    def __init__(self, store: PythonStore, graphs: tuple[Index, ...], substitute: bool = False):
        self.store = store
        self.graphs = graphs
        self.batch = store._batch if any(g is store._batch for g in graphs) else None
        # inside EXISTS, the outer solution's values are substituted into the pattern: its filters see them
        self.substitute = substitute
        self._inner: _Eval | None = None

    # -- caching of parts that read the KB only

    def kb_only(self, n: Any) -> bool:
        """Whether ``n`` finds in the KB and the batch what it finds in the KB alone: every basic graph pattern in
        it is answered by the KB alone (:meth:`PythonStore.block`)."""
        store = self.store
        if len(self.graphs) == 1 and self.graphs[0] is store.kb:
            return True
        batch = self.batch
        if batch is None or len(self.graphs) != 2:
            return False
        key = (id(n), batch.size)
        known = store._kb_only.get(key)
        if known is None:
            known = all(len(store.block(t, self)) == len(t) for t in store.bgps_of(n))
            if len(store._kb_only) > 100_000:
                store._kb_only.clear()
            store._kb_only[key] = known
        return known

    def run(self, n: Any, seeds: list[dict]) -> list[dict]:
        """The solutions of plan ``n`` joined with ``seeds`` (``[{}]``: none bound)."""
        tag = n[0]
        if tag == "bgp":
            return self.bgp(n[1], seeds)
        if tag == "join":
            return self.run(n[2], self.run(n[1], seeds))
        if tag == "union":
            return self.run(n[1], seeds) + self.run(n[2], seeds)
        if tag == "filter" and seeds is not _UNIT:
            expr = n[1]
            if self.substitute or self.store.filter_safe(n):
                return [mu for mu in self.run(n[2], seeds) if self.test(expr, mu)]
        if seeds is _UNIT:
            return self.alone(n)
        if self.kb_only(n):
            return _join(seeds, self.store.kb_solutions(n, self))
        return _join(seeds, self.alone(n))

    def alone(self, n: Any) -> list[dict]:
        """The solutions of ``n`` with nothing bound."""
        if self.kb_only(n):
            return self.store.kb_solutions(n, self)
        return self.compute(n)

    def compute(self, n: Any) -> list[dict]:
        tag = n[0]
        if tag == "bgp":
            return self.bgp(n[1], _UNIT)
        if tag == "join":
            return self.run(n[2], self.run(n[1], _UNIT))
        if tag == "union":
            return self.run(n[1], _UNIT) + self.run(n[2], _UNIT)
        if tag == "filter":
            expr = n[1]
            return [mu for mu in self.run(n[2], _UNIT) if self.test(expr, mu)]
        if tag == "leftjoin":
            # the right side joined with every left solution at once, each tagged with its position so that those
            # nothing joined with are kept as they are
            left = self.run(n[1], _UNIT)
            if not left:
                return left
            right, cond = n[2], n[3]
            tagged = [{**mu, _ROW: i} for i, mu in enumerate(left)]
            joined: dict[int, list[dict]] = {}
            for merged in self.run(right, tagged):
                if cond is None or self.test(cond, merged):
                    merged = dict(merged)
                    joined.setdefault(merged.pop(_ROW), []).append(merged)
            out = []
            for i, mu in enumerate(left):
                found = joined.get(i)
                if found:
                    out.extend(found)
                else:
                    out.append(mu)
            return out
        if tag == "minus":
            left = self.run(n[1], _UNIT)
            if not left:
                return left
            right = self.run(n[2], _UNIT)
            if not right:
                return left
            return _minus(left, right)
        if tag == "extend":
            var, expr = n[2], n[3]
            out = []
            for mu in self.run(n[1], _UNIT):
                try:
                    value = self.value(expr, mu)
                except _Error:
                    out.append(mu)
                    continue
                if var in mu:  # BIND to a bound variable is an error in the query; keep the solution
                    out.append(mu)
                else:
                    out.append({**mu, var: value})
            return out
        if tag == "project":
            names = n[2]
            return [{k: mu[k] for k in names if k in mu} for mu in self.run(n[1], _UNIT)]
        if tag == "distinct":
            seen: set = set()
            out = []
            for mu in self.run(n[1], _UNIT):
                key = frozenset(mu.items())
                if key not in seen:
                    seen.add(key)
                    out.append(mu)
            return out
        if tag == "values":
            return [dict(row) for row in n[1]]
        if tag == "unit":
            return [{}]
        if tag == "group":
            return self.group(n)
        raise Unsupported(f"algebra {tag}")

    def group(self, n: Any) -> list[dict]:
        _, inner, by, aggs = n
        groups: dict[tuple, list[dict]] = {}
        for mu in self.run(inner, _UNIT):
            groups.setdefault(tuple(mu.get(v) for v in by), []).append(mu)
        if not groups and not by:
            groups[()] = []
        out = []
        for key, members in groups.items():
            row = {v: t for v, t in zip(by, key, strict=True) if t is not None}
            for kind, res, expr, distinct in aggs:
                values: list[Any] = []
                failed = False
                for mu in members:
                    if expr is None:
                        values.append(True)
                        continue
                    try:
                        values.append(self.value(expr, mu))
                    except _Error:
                        if kind != "COUNT":  # an error in MAX, MIN or SAMPLE leaves the aggregate unbound
                            failed = True
                            break
                if failed:
                    continue
                if distinct:
                    values = list(dict.fromkeys(values))
                if kind == "COUNT":
                    row[res] = Lit(str(len(values)), XSD + "integer")
                elif kind == "SAMPLE":
                    if values:
                        row[res] = values[0]
                elif values:
                    best = values[0]
                    try:
                        for v in values[1:]:
                            if (kind == "MAX" and _less(best, v)) or (kind == "MIN" and _less(v, best)):
                                best = v
                    except _Error:
                        continue
                    row[res] = best
            out.append(row)
        return out

    # -- basic graph patterns

    def bgp(self, triples: tuple, seeds: list[dict]) -> list[dict]:
        if not triples:
            return seeds
        if not seeds:
            return []
        store = self.store
        block = store.block(triples, self)
        bound = set(seeds[0])
        for mu in seeds[1:]:
            bound.intersection_update(mu)
        if len(seeds) > 4:
            # many seeds often agree on the variables the pattern reads (an OPTIONAL after a join with the KB's
            # conditions): match once per distinct value, then join back by hash
            keys = tuple(sorted(bound & store.vars_of(triples)))
            distinct = {tuple(mu[k] for k in keys) for mu in seeds}
            if len(distinct) * 2 <= len(seeds):
                return _join(seeds, self.bgp(triples, [dict(zip(keys, row, strict=True)) for row in distinct]))
        order = store.order(triples, frozenset(bound), block, self)
        sols = seeds
        graphs = self.graphs
        for step in order:
            if step is None:
                sols = self.join_block(sols, triples, block, bound)
                bound.update(store.block_entry(triples, block).vars)
                if not sols:
                    break
                continue
            s, p, o = step
            out: list[dict] = []
            if isinstance(p, tuple):
                for mu in sols:
                    s1 = mu.get(s.name) if type(s) is Var else s
                    o1 = mu.get(o.name) if type(o) is Var else o
                    for a, b in self.path(p, s1, o1):
                        if s1 is None or o1 is None:
                            m = dict(mu)
                            if s1 is None:
                                m[s.name] = a
                            if o1 is None:
                                if type(o) is Var and o.name in m and m[o.name] != b:
                                    continue
                                m[o.name] = b
                            out.append(m)
                        else:
                            out.append(mu)
            else:
                sv = s.name if type(s) is Var else None
                pv = p.name if type(p) is Var else None
                ov = o.name if type(o) is Var else None
                for mu in sols:
                    s1 = mu.get(sv) if sv is not None else s
                    p1 = mu.get(pv) if pv is not None else p
                    o1 = mu.get(ov) if ov is not None else o
                    if s1 is not None and p1 is not None and o1 is not None:
                        for _ in _match(graphs, s1, p1, o1):
                            out.append(mu)
                        continue
                    for a, b, c in _match(graphs, s1, p1, o1):
                        m = dict(mu)
                        if s1 is None:
                            m[sv] = a
                        if p1 is None:
                            if pv in m and m[pv] != b:
                                continue
                            m[pv] = b
                        if o1 is None:
                            if ov in m and m[ov] != c:
                                continue
                            m[ov] = c
                        out.append(m)
            bound.update(x.name for x in step if type(x) is Var)
            sols = out
            if not sols:
                break
        return sols

    def join_block(self, sols: list[dict], triples: tuple, block: frozenset[int], bound: set[str]) -> list[dict]:
        """``sols`` joined with the solutions of the BGP's KB-only triples (computed once, hashed on the variables
        ``sols`` all bind)."""
        entry = self.store.block_entry(triples, block)
        keys = tuple(sorted(entry.vars & bound))
        table = entry.table(keys)
        others = entry.vars.difference(keys)
        out = []
        for mu in sols:
            rows = table.get(tuple(mu[k] for k in keys))
            if not rows:
                continue
            if any(v in mu for v in others):  # an OPTIONAL's variable some solutions bind: check each pair
                for row in rows:
                    for k, v in row.items():
                        w = mu.get(k)
                        if w is not None and w != v:
                            break
                    else:
                        out.append({**mu, **row})
            else:
                for row in rows:
                    out.append({**mu, **row})
        return out

    # -- property paths

    def path(self, p: Any, s: Term | None, o: Term | None) -> Iterable[tuple[Term, Term]]:
        if s is not None:
            return [(s, x) for x in self.forward(p, s) if o is None or x == o]
        if o is not None:
            return [(x, o) for x in self.forward(("inv", p), o)]
        nodes: set[Term] = set()
        for g in self.graphs:
            nodes.update(g.spo)
            for by_o in g.pos.values():
                nodes.update(by_o)
        return [(a, b) for a in nodes for b in self.forward(p, a)]

    def forward(self, p: Any, node: Term) -> list[Term]:
        tag = p[0]
        if tag == "link":
            return [c for _, _, c in _match(self.graphs, node, p[1], None)]
        if tag == "inv":
            q = p[1]
            if q[0] == "link":
                return [a for a, _, _ in _match(self.graphs, None, q[1], node)]
            if q[0] == "inv":
                return self.forward(q[1], node)
            if q[0] == "seq":
                return self.forward(("seq", tuple(("inv", x) for x in reversed(q[1]))), node)
            if q[0] == "alt":
                return self.forward(("alt", tuple(("inv", x) for x in q[1])), node)
            return self.forward(("mul", ("inv", q[1]), q[2]), node)
        if tag == "seq":
            current = [node]
            for step in p[1]:
                current = [y for x in current for y in self.forward(step, x)]
            return current
        if tag == "alt":
            return [y for step in p[1] for y in self.forward(step, node)]
        if tag == "mul":
            return self.store.closure(p, node, self)
        raise Unsupported(f"path {tag}")

    def reach(self, p: Any, node: Term) -> list[Term]:
        inner, mod = p[1], p[2]
        seen: dict[Term, None] = {}
        if mod in ("*", "?"):
            seen[node] = None
        if mod == "?":
            for y in self.forward(inner, node):
                seen.setdefault(y, None)
            return list(seen)
        frontier = [node]
        while frontier:
            nxt = []
            for x in frontier:
                for y in self.forward(inner, x):
                    if y not in seen:
                        seen[y] = None
                        nxt.append(y)
            frontier = nxt
        return list(seen)

    # -- expressions

    def test(self, e: Any, mu: dict) -> bool:
        try:
            return _ebv(self.value(e, mu))
        except _Error:
            return False

    def value(self, e: Any, mu: dict) -> Any:
        tag = e[0]
        if tag == "var":
            v = mu.get(e[1])
            if v is None:
                raise _Error
            return v
        if tag == "term":
            return e[1]
        if tag == "rel":
            a, b = self.value(e[2], mu), self.value(e[3], mu)
            op = e[1]
            if op == "=":
                return _equal(a, b)
            if op == "!=":
                return not _equal(a, b)
            if op == "<":
                return _less(a, b)
            if op == ">":
                return _less(b, a)
            if op == "<=":
                return _less(a, b) or _equal(a, b)
            return _less(b, a) or _equal(a, b)
        if tag == "in":
            a = self.value(e[1], mu)
            error = False
            for x in e[2]:
                try:
                    if _equal(a, self.value(x, mu)):
                        return not e[3]
                except _Error:
                    error = True
            if error:
                raise _Error
            return e[3]
        if tag == "and":
            error = False
            for x in e[1]:
                try:
                    if not _ebv(self.value(x, mu)):
                        return False
                except _Error:
                    error = True
            if error:
                raise _Error
            return True
        if tag == "or":
            error = False
            for x in e[1]:
                try:
                    if _ebv(self.value(x, mu)):
                        return True
                except _Error:
                    error = True
            if error:
                raise _Error
            return False
        if tag == "not":
            return not _ebv(self.value(e[1], mu))
        if tag == "bound":
            return mu.get(e[1]) is not None
        if tag == "exists":
            inner = self._inner
            if inner is None:
                inner = self._inner = _Eval(self.store, self.graphs, substitute=True)
            found = bool(inner.run(e[1], [mu]))
            return found != e[2]
        if tag == "coalesce":
            for x in e[1]:
                try:
                    return self.value(x, mu)
                except _Error:
                    continue
            raise _Error
        if tag == "call":
            name, args = e[1], e[2]
            if name == "STRSTARTS":
                a, b = (self.value(x, mu) for x in args)
                if not (isinstance(a, Lit) and isinstance(b, Lit)):
                    raise _Error
                return a.lex.startswith(b.lex)
            v = self.value(args[0], mu)
            if name == "isIRI":
                return type(v) is str
            if name == "isNUMERIC":
                return isinstance(v, Lit) and v.num is not None
            if name == "isLITERAL":
                return isinstance(v, Lit)
            if name == "isBLANK":
                return isinstance(v, Blank)
            if name == "STR":
                if isinstance(v, Blank):
                    raise _Error
                return Lit(v if type(v) is str else v.lex)
        raise Unsupported(f"expression {tag}")


def _minus(left: list[dict], right: list[dict]) -> list[dict]:
    """The left solutions no right solution is compatible with on at least one shared variable (SPARQL's MINUS),
    by hash: the right solutions grouped by the variables they bind, each group's values on the variables a left
    solution shares with it kept in a set."""
    by_domain: dict[frozenset[str], list[dict]] = {}
    for nu in right:
        by_domain.setdefault(frozenset(nu), []).append(nu)
    tables: dict[tuple, set[tuple]] = {}
    out = []
    for mu in left:
        for domain, group in by_domain.items():
            shared = tuple(sorted(domain.intersection(mu)))
            if not shared:
                continue
            key = (domain, shared)
            table = tables.get(key)
            if table is None:
                table = tables[key] = {tuple(nu[k] for k in shared) for nu in group}
            if tuple(mu[k] for k in shared) in table:
                break
        else:
            out.append(mu)
    return out


def _join(left: list[dict], right: list[dict]) -> list[dict]:
    """Every compatible pair merged: a hash join on the variables every solution of both sides binds, the others
    (an OPTIONAL's) checked pair by pair."""
    if not left or not right:
        return []
    if left is _UNIT or (len(left) == 1 and not left[0]):
        return right
    left_vars: set[str] = set()
    common = set(left[0])
    for mu in left:
        left_vars.update(mu)
        common.intersection_update(mu)
    right_vars: set[str] = set()
    right_common = set(right[0])
    for nu in right:
        right_vars.update(nu)
        right_common.intersection_update(nu)
    common &= right_common
    check = bool((left_vars & right_vars) - common)
    keys = tuple(sorted(common))
    table: dict[tuple, list[dict]] = {}
    for nu in right:
        table.setdefault(tuple(nu[k] for k in keys), []).append(nu)
    out = []
    for mu in left:
        for nu in table.get(tuple(mu[k] for k in keys), ()):
            if check:
                for k, v in nu.items():
                    w = mu.get(k)
                    if w is not None and w != v:
                        break
                else:
                    out.append({**mu, **nu})
            else:
                out.append({**mu, **nu})
    return out


# ---------------------------------------------------------------------------------------------------- the store


class _Block:
    """The solutions of a BGP's KB-only triples, and their hash tables by the variables a join binds first."""

    __slots__ = ("triples", "rows", "vars", "_tables")

    def __init__(self, triples: tuple, rows: list[dict]):
        self.triples = triples
        self.rows = rows
        self.vars = frozenset(x.name for t in triples for x in t if type(x) is Var)
        self._tables: dict[tuple, dict[tuple, list[dict]]] = {}

    def table(self, keys: tuple) -> dict[tuple, list[dict]]:
        table = self._tables.get(keys)
        if table is None:
            table = {}
            for row in self.rows:
                table.setdefault(tuple(row[k] for k in keys), []).append(row)
            self._tables[keys] = table
        return table

    def cost(self, keys: tuple) -> float:
        if not keys:
            return 10.0 + len(self.rows)
        return 1.0 + len(self.rows) / max(len(self.table(keys)), 1)


BATCH_GRAPH = "https://w3id.org/spinekg/graph/batch/in-process"
_CLOSURE_FILTER = re.compile(r"\n[ \t]*FILTER\(\?t IN \(([^()]*)\)\)")


class PythonStore:
    """A :class:`.stores.Backend` that evaluates the rule texts in this process (see the module's text).

    ``plans`` maps a text to its compiled plan (:func:`compile_text`, as :func:`freeze` gives it); a text not in it
    is compiled on first use.
    One batch at a time: its graph is always :data:`BATCH_GRAPH`, so the rule texts scoped to it recur.
    """

    def __init__(self, kb_nt: bytes | str, kb_graph: str, plans: dict[str, Any] | None = None):
        self.kb_graph = kb_graph
        self.kb = Index()
        terms: set[Term] = set()
        for s, p, o in parse_nt(kb_nt.decode("utf-8") if isinstance(kb_nt, bytes) else kb_nt):
            self.kb.add(s, p, o)
            terms.update((s, p, o))
        self.kb_terms = frozenset(terms)
        self._batch = Index(self.kb_terms)
        self._kb_only: dict[tuple, bool] = {}
        self._blocks: dict[tuple, frozenset[int]] = {}
        self._block_entries: dict[tuple, _Block] = {}
        self._bgps: dict[int, tuple] = {}
        self._vars: dict[int, frozenset[str]] = {}
        self.plans: dict[str, Any] = {text: thaw(plan) for text, plan in (plans or {}).items()}
        self.lock = threading.RLock()
        self._kb_solutions: dict[int, list[dict]] = {}
        self._safe: dict[int, bool] = {}
        self._orders: dict[tuple, tuple] = {}
        self._closures: dict[tuple, list[Term]] = {}
        self._closure_keys: dict[Any, frozenset[str] | None] = {}
        self._pinned: dict[int, Any] = {}  # the plans (and parts) whose id() keys a cache: kept alive

    # -- the Backend protocol

    def begin(self) -> str:
        self._batch = Index(self.kb_terms)
        self._kb_only.clear()
        self._blocks.clear()
        return BATCH_GRAPH

    def load(self, nt: str, graph: str) -> None:
        target = self._graph(graph)
        for s, p, o in parse_nt(nt):
            target.add(s, p, o)

    def load_triples(self, triples: Iterable[tuple[Term, str, Term]]) -> None:
        """Add terms (as :func:`parse_nt` gives them) to the batch graph."""
        add = self._batch.add
        for s, p, o in triples:
            add(s, p, o)

    def update(self, text: str) -> None:
        plan = self._plan(text)
        if plan[0] != "insert":
            raise Unsupported("only INSERT … WHERE updates run in process")
        ev = _Eval(self, (self.kb, self._batch))
        solutions = ev.run(plan[1], _UNIT)
        add = self._batch.add
        for mu in solutions:
            for s, p, o in plan[2]:
                s1 = mu.get(s.name) if type(s) is Var else s
                p1 = mu.get(p.name) if type(p) is Var else p
                o1 = mu.get(o.name) if type(o) is Var else o
                if s1 is None or p1 is None or o1 is None or isinstance(s1, Lit) or type(p1) is not str:
                    continue
                add(s1, p1, o1)

    def select(self, text: str, graphs: tuple[str, ...]) -> Iterator[dict[str, str | None]]:
        names, rows = self.rows(text, graphs)
        return (dict(zip(names, row, strict=True)) for row in rows)

    def rows(self, text: str, graphs: tuple[str, ...]) -> tuple[list[str], Iterator[tuple]]:
        plan = self._plan(text)
        if plan[0] != "select":
            raise Unsupported("not a SELECT")
        ev = _Eval(self, tuple(self._graph(g) for g in graphs))
        names = list(plan[2])
        solutions = ev.run(plan[1], _UNIT)
        return names, (tuple(None if (t := mu.get(n)) is None else value_of(t) for n in names) for mu in solutions)

    def size(self, graph: str) -> int:
        return self._graph(graph).size

    def keys(self, graph: str) -> dict[str, int]:
        """What ``classify.KEYS`` counts, counted from the index."""
        return self._graph(graph).keys()

    def end(self, graph: str) -> None:
        self._batch = Index(self.kb_terms)
        self._kb_only.clear()
        self._blocks.clear()

    def close(self) -> None:
        """Nothing to give back."""

    # -- helpers

    def _graph(self, iri: str) -> Index:
        if iri == self.kb_graph:
            return self.kb
        if iri == BATCH_GRAPH:
            return self._batch
        raise SpinekgError(f"{iri}: not a graph of this in-process store")

    def _plan(self, text: str) -> Any:
        plan = self.plans.get(text)
        if plan is None:
            m = _CLOSURE_FILTER.search(text)
            base = self.plans.get(text[: m.start()] + text[m.end() :]) if m else None
            if m is not None and base is not None and base[0] == "insert":
                listed = tuple(_term_of(x.strip()) for x in m.group(1).split(","))
                plan = ("insert", ("filter", ("in", ("var", "t"), tuple(("term", t) for t in listed), False),
                                   base[1]), base[2])  # fmt: skip
            else:
                plan = compile_text(text)
            self.plans[text] = plan
        return plan

    def kb_solutions(self, n: Any, ev: _Eval) -> list[dict]:
        key = id(n)
        out = self._kb_solutions.get(key)
        if out is None:
            self._pinned[id(n)] = n
            out = self._kb_solutions[key] = _Eval(self, (self.kb,)).compute(n)
        return out

    def filter_safe(self, n: Any) -> bool:
        """Whether a FILTER may see the bindings of what it is joined with: every variable its expression reads is
        one its pattern always binds."""
        key = id(n)
        safe = self._safe.get(key)
        if safe is None:
            self._pinned[id(n)] = n
            safe = self._safe[key] = expr_vars(n[1]) <= plan_vars(n[2])
        return safe

    def closure(self, p: Any, node: Term, ev: _Eval) -> list[Term]:
        keys = self._closure_keys.get(p, ())
        if keys == ():
            keys = self._closure_keys[p] = plan_keys(("bgp", ((Var("s"), p, Var("o")),)))
        batch = ev.batch
        reads_kb = ev.graphs in ((self.kb,), (self.kb, self._batch))
        cacheable = (
            reads_kb
            and node in self.kb_terms  # a case's resource is not remembered: the memory would grow with the cases
            and keys is not None
            and (batch is None or not any(batch.has_key(k) for k in keys))
        )
        if not cacheable:
            return ev.reach(p, node)
        memo_key = (p, node)  # what the KB alone gives: the batch holds none of the path's predicates
        out = self._closures.get(memo_key)
        if out is None:
            out = self._closures[memo_key] = ev.reach(p, node)
        return out

    def vars_of(self, triples: tuple) -> frozenset[str]:
        """The variables of a BGP's triples."""
        key = id(triples)
        out = self._vars.get(key)
        if out is None:
            self._pinned[id(triples)] = triples
            out = self._vars[key] = frozenset(x.name for t in triples for x in t if type(x) is Var)
        return out

    def bgps_of(self, n: Any) -> tuple:
        """The triples of every basic graph pattern in a plan, EXISTS patterns included."""
        key = id(n)
        out = self._bgps.get(key)
        if out is None:
            found: list[tuple] = []

            def walk(x) -> None:
                if isinstance(x, tuple) and x:
                    if x[0] == "bgp" and len(x) == 2:
                        found.append(x[1])
                        return
                    for y in x:
                        walk(y)

            walk(n)
            self._pinned[id(n)] = n
            out = self._bgps[key] = tuple(found)
        return out

    def block(self, triples: tuple, ev: _Eval) -> frozenset[int]:
        """The triples of a BGP that can match only KB triples in this batch (their positions): one whose class or
        predicate the batch does not hold; and, while no subject of the batch is a term of the KB (the batch's
        resources are the cases'), one whose subject those triples bind (it is a KB term) or is a KB constant the
        batch has no triple about."""
        if len(ev.graphs) == 1 and ev.graphs[0] is self.kb:
            return frozenset(range(len(triples)))
        batch = ev.batch
        if batch is None or len(ev.graphs) != 2:
            return frozenset()
        key = (id(triples), batch.size)
        out = self._blocks.get(key)
        if out is not None:
            return out
        chosen: set[int] = set()
        bound: set[str] = set()
        for i, (s, p, o) in enumerate(triples):
            if isinstance(p, tuple):
                keys = self._closure_keys.get(p, ())
                if keys == ():
                    keys = self._closure_keys[p] = plan_keys(("bgp", ((Var("s"), p, Var("o")),)))
            elif type(p) is not str:
                keys = None
            elif p == RDF_TYPE:
                keys = frozenset((o,)) if type(o) is str else None
            else:
                keys = frozenset((p,))
            if keys is not None and not any(batch.has_key(k) for k in keys):
                chosen.add(i)
                bound.update(x.name for x in (s, p, o) if type(x) is Var)
        grown = True
        while grown:
            grown = False
            for i, (s, p, o) in enumerate(triples):
                if i in chosen or isinstance(p, tuple):
                    continue
                if (type(s) is Var and s.name in bound and batch.clashes == 0) or (
                    type(s) is not Var and s not in batch.spo
                ):
                    chosen.add(i)
                    bound.update(x.name for x in (s, p, o) if type(x) is Var)
                    grown = True
        self._pinned[id(triples)] = triples
        out = self._blocks[key] = frozenset(chosen)
        return out

    def block_entry(self, triples: tuple, block: frozenset[int]) -> _Block:
        key = (id(triples), block)
        entry = self._block_entries.get(key)
        if entry is None:
            part = tuple(triples[i] for i in sorted(block))
            self._pinned[id(triples)] = triples
            rows = _Eval(self, (self.kb,)).bgp(part, _UNIT)
            entry = self._block_entries[key] = _Block(part, rows)
        return entry

    def order(self, triples: tuple, bound: frozenset[str], block: frozenset[int], ev: _Eval) -> tuple:
        """The steps of a BGP, most selective first given what is bound (estimated from the indexes' counts,
        once per BGP, bound variables, KB-only part and order of magnitude of the batch): its triples, and None
        for its KB-only part joined at once (when it has two triples or more)."""
        batch = ev.batch
        key = (id(triples), bound, block, ev.graphs == (self.kb,), 0 if batch is None else batch.size.bit_length())
        order = self._orders.get(key)
        if order is None:
            self._pinned[id(triples)] = triples
            if len(block) > 1 and not (len(ev.graphs) == 1 and ev.graphs[0] is self.kb):
                entry = self.block_entry(triples, block)
                left: list = [None] + [t for i, t in enumerate(triples) if i not in block]
            else:
                entry = None
                left = list(triples)
            known = set(bound)
            out = []
            while left:

                def cost(step) -> float:
                    if step is None:
                        assert entry is not None
                        return entry.cost(tuple(sorted(entry.vars & known)))
                    return self._cost(step, known, ev.graphs)

                best = min(range(len(left)), key=lambda i: cost(left[i]))
                step = left.pop(best)
                out.append(step)
                if step is None:
                    assert entry is not None
                    known.update(entry.vars)
                else:
                    known.update(x.name for x in step if type(x) is Var)
            order = self._orders[key] = tuple(out)
        return order

    @staticmethod
    def _cost(t: tuple, known: set[str], graphs: tuple[Index, ...]) -> float:
        s, p, o = t

        def has(x) -> bool:
            return not isinstance(x, Var) or x.name in known

        if isinstance(p, tuple):
            if has(s) or has(o):
                return 3.0
            return 1e7
        if has(s):
            return 1.0 if has(p) else 2.0
        if isinstance(p, Var) and p.name not in known:
            return 1e6 if has(o) else 1e9
        if type(p) is not str:
            return 2.0
        if not isinstance(o, Var):
            return 1.5 + sum(len(g.pos.get(p, {}).get(o, ())) for g in graphs)
        total = sum(g.counts.get(p, 0) for g in graphs)
        if o.name in known:
            distinct = sum(len(g.pos.get(p, ())) for g in graphs)
            return 1.5 + total / max(distinct, 1)
        return 10.0 + total


def _term_of(text: str) -> Term:
    if text.startswith("<") and text.endswith(">"):
        return text[1:-1]
    raise Unsupported(f"a term in a closure filter: {text}")
