"""Rule texts compiled to plans: rdflib's SPARQL algebra as plain tuples, and what a plan reads and binds."""

from __future__ import annotations

import re
from typing import Any

from .terms import RDF_TYPE, XSD, Blank, Lit, Term, Unsupported, Var

# A plan is nested tuples, (tag, ...), kept with the compiled rules in the KB cache (freeze, thaw):
#   ("bgp", ((s, p, o), ...)[, drop])  with Var, IRI str, Lit, or a path (("link", iri) ("inv", x) ("seq", xs)
#                              ("alt", xs) ("mul", x, mod)) in predicate position; drop: see existentials()
#   ("join", a, b) ("leftjoin", a, b, expr|None) ("union", a, b) ("minus", a, b) ("filter", expr, a)
#   ("extend", a, var, expr) ("project", a, (vars)) ("distinct", a) ("values", (dict, ...))
#   ("group", a, (group vars), ((agg, var, expr|None, distinct), ...))
# An expression: ("var", name) ("term", t) ("rel", op, a, b) ("in", a, (xs), negated) ("and", xs) ("or", xs)
#   ("not", x) ("exists", plan, negated) ("call", name, xs) ("bound", name) ("coalesce", xs)


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
    if name in ("Builtin_STRSTARTS", "Builtin_STRAFTER"):
        return ("call", name.removeprefix("Builtin_"), (_expr(e.arg1), _expr(e.arg2)))
    if name == "Builtin_CONCAT":
        return ("call", "CONCAT", tuple(_expr(x) for x in e.arg))
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
        left, right = _node(n.p1), _node(n.p2)
        if right[0] == "values" and left[0] != "values":
            # VALUES written after the pattern it constrains (``?f a ?type . VALUES ?type {…}``) is joined first, so
            # the pattern reads the listed terms' triples only, not every class of every record (the same solutions:
            # a join's sides commute): a root-compression rule over 100 cases 9.8 -> 0.6 ms a run
            left, right = right, left
        return ("join", left, right)
    if name == "LeftJoin":
        expr = n.expr
        cond = None if expr is None or getattr(expr, "name", None) == "TrueFilter" else _tested(_expr(expr))
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
    e = _tested(e)
    if e[0] == "and":
        for part in e[1]:
            p = _filter(part, p)
        return p
    if p[0] == "join":
        wanted = all_vars(e)
        if wanted <= plan_vars(p[1]):
            return ("join", _filter(e, p[1]), p[2])
        if wanted <= plan_vars(p[2]):
            return ("join", p[1], _filter(e, p[2]))
        if _unchanged_by(wanted, p[1], p[2]):
            return ("join", _filter(e, p[1]), p[2])
    elif p[0] == "leftjoin" and _unchanged_by(wanted := all_vars(e), p[1], p[2]):
        return ("leftjoin", _filter(e, p[1]), p[2], p[3])
    if e[0] == "in" and not e[3] and e[1][0] == "var" and e[1][1] in plan_vars(p):
        listed = [x[1] for x in e[2] if x[0] == "term"]
        if len(listed) == len(e[2]) and all(type(t) is str for t in listed):
            # ``?v IN (<a>, <b>)`` over a pattern that always binds ?v keeps what a join with ``VALUES ?v {<a> <b>}``
            # gives (an IRI equals only itself), and the join reads the listed terms' triples only (``?g a ?kind``
            # with ?kind bound, not every class of every record)
            return ("join", ("values", tuple({e[1][1]: t} for t in dict.fromkeys(listed))), p)
    return ("filter", e, p)


def _unchanged_by(wanted: frozenset[str], left: Any, right: Any) -> bool:
    """Whether joining ``left``'s solutions with ``right`` (a join, or an OPTIONAL) leaves each of the ``wanted``
    variables as ``left`` has it: ``left`` always binds it, or ``right`` never names it. Then a filter reading only
    those variables tests a joined solution as it tests the ``left`` solution in it, and may test that first
    (``FILTER(!BOUND(?level))`` after ``OPTIONAL { ?f sk:atDiscLevel ?level }``, before the roots of every level
    are joined)."""
    return wanted & all_vars(right) <= plan_vars(left)


def _tested(e: Any) -> Any:
    """A filter's expression without the ``!!`` :func:`_filters_kept` wrapped it in: a filter tests ``!!x`` as
    ``x``."""
    while e[0] == "not" and e[1][0] == "not":
        e = e[1][1]
    return e


def _filters_kept(parsed: Any) -> Any:
    """The parse tree with every FILTER's expression wrapped in ``!!``: rdflib's algebra drops a filter whose
    expression is a false constant (``FILTER(false)``, ``FILTER(0)``: it tests the expression's truth in Python),
    which would keep every solution; ``!!x`` filters as ``x`` does."""
    from rdflib.plugins.sparql.parserutils import CompValue, Expr

    def walk(x) -> None:
        if isinstance(x, CompValue):
            if x.name == "Filter" and "expr" in x:
                x["expr"] = Expr("UnaryNot", None, expr=Expr("UnaryNot", None, expr=x["expr"]))
            for value in list(x.values()):
                walk(value)
        elif isinstance(x, (list, tuple)) or type(x).__name__ == "ParseResults":
            for value in x:
                walk(value)

    walk(parsed)
    return parsed


def compile_query(text: str) -> Any:
    """A SELECT's plan: ``("select", plan, variables)``."""
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    query = translateQuery(_filters_kept(parseQuery(text))).algebra
    if query.name != "SelectQuery":
        raise Unsupported(f"{query.name}: only SELECT queries run in process")
    return existentials(("select", _node(query.p), tuple(str(v) for v in query.PV)))


def compile_update(text: str) -> Any:
    """An ``INSERT … WHERE`` update's plan: ``("insert", where plan, template triples)``."""
    from rdflib.plugins.sparql.algebra import translateUpdate
    from rdflib.plugins.sparql.parser import parseUpdate

    operations = translateUpdate(_filters_kept(parseUpdate(text))).algebra
    if len(operations) != 1 or operations[0].name != "Modify" or operations[0].delete:
        raise Unsupported("only one INSERT … WHERE update runs in process")
    op = operations[0]
    template = op.insert
    triples = list(template.get("triples") or []) + [t for ts in (template.get("quads") or {}).values() for t in ts]
    return existentials(("insert", _node(op.where), tuple(tuple(_term(x) for x in t) for t in triples)))


def existentials(plan: Any) -> Any:
    """The plan with each BGP marked with the variables only it mentions, when only which solutions there are
    matters, not how many (a ``SELECT DISTINCT``, an ``INSERT``; no aggregate): ``?rec`` in
    ``?rec sk:hasCondition ?cond`` asks only that some recommendation has the condition, so the evaluation may
    check that a match exists instead of making a solution for each (``("bgp", triples, drop)``)."""
    kind, where, rest = plan
    if kind == "select":
        if where[0] != "distinct":
            return plan
        keep = set(rest)
    else:
        keep = {x.name for t in rest for x in t if isinstance(x, Var)}
    places: dict[str, int] = {}
    grouped = False

    def count(x) -> None:
        nonlocal grouped
        if isinstance(x, tuple) and x:
            if x[0] == "bgp" and len(x) == 2 and isinstance(x[1], tuple):
                for name in {v.name for t in x[1] for v in t if isinstance(v, Var)}:
                    places[name] = places.get(name, 0) + 1
                return
            if x[0] == "group":
                grouped = True
            for name in _names_outside_bgps(x):
                places[name] = places.get(name, 0) + 2  # a variable an expression, BIND or projection reads
            for y in x:
                count(y)

    count(where)
    if grouped:
        return plan

    def mark(x):
        if isinstance(x, tuple) and x:
            if x[0] == "bgp" and len(x) == 2 and isinstance(x[1], tuple):
                names = {v.name for t in x[1] for v in t if isinstance(v, Var)}
                drop = frozenset(n for n in names if places.get(n) == 1 and n not in keep)
                return ("bgp", x[1], drop) if drop else x
            return tuple(mark(y) for y in x)
        return x

    return (kind, mark(where), rest)


def _names_outside_bgps(x: tuple) -> set[str]:
    """The variables a plan node names itself, not through a BGP: an expression's, a BIND's, a projection's, a
    group's, a VALUES row's."""
    tag = x[0]
    if tag in ("var", "bound") and len(x) == 2 and isinstance(x[1], str):
        return {x[1]}
    if tag == "extend":
        return {x[2]}
    if tag in ("project",):
        return set(x[2])
    if tag == "group":
        return set(x[2]) | {a[1] for a in x[3]}
    if tag == "values":
        return {k for row in x[1] for k in row}
    return set()


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
        if tag == "values":
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


def all_vars(n: Any) -> frozenset[str]:
    """Every variable a plan or an expression mentions (in its patterns, expressions with their EXISTS patterns,
    BINDs, projections and groups)."""
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
