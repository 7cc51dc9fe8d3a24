"""Expressions, errors and joins of solutions: SPARQL's value semantics for the in-process engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .terms import DECIMAL, FLOATS, INTEGERS, LANG_STRING, STRING, XSD, Blank, Lit, Term, Unsupported

_STRINGS = (STRING, LANG_STRING)


class ExpressionError(Exception):
    """An expression error: a FILTER reads it as false. Raised as a new instance each time: one instance raised
    again keeps every traceback it was raised with, and with them every frame's solutions (memory grew by about
    60 kB a case)."""


UNIT: list[dict] = [{}]
NOTHING: frozenset[str] = frozenset()
ROW = " row"  # a name no SPARQL variable has: the position of a left solution in an OPTIONAL


def ebv(v: Term) -> bool:
    """A value's effective boolean value (SPARQL 17.2.2)."""
    if isinstance(v, bool):
        return v
    if isinstance(v, Lit):
        if v.dt == XSD + "boolean":
            return v.lex in ("true", "1")
        if v.num is not None:
            return v.num != 0 and v.num == v.num
        if v.dt in (STRING, LANG_STRING):
            return bool(v.lex)
    raise ExpressionError


def equal(a: Term, b: Term) -> bool:
    """SPARQL's ``=``: numbers by value, other terms as terms; an error where the spec has one."""
    if type(a) is str or type(b) is str:
        return a == b
    if isinstance(a, Lit) and isinstance(b, Lit):
        if a.num is not None and b.num is not None:
            return a.num == b.num
        if a == b:
            return True
        if a.dt == b.dt and a.dt in (STRING, LANG_STRING, XSD + "boolean"):
            return False
        if a.num is not None or b.num is not None:
            if (a.dt in INTEGERS or a.dt in FLOATS or a.dt == DECIMAL) and (
                b.dt in INTEGERS or b.dt in FLOATS or b.dt == DECIMAL
            ):
                return False
        if a.dt in (STRING, LANG_STRING) and b.dt in (STRING, LANG_STRING):
            return False
        raise ExpressionError
    return a == b


def less(a: Term, b: Term) -> bool:
    """SPARQL's ``<`` on numbers and plain strings (an error for anything else)."""
    if isinstance(a, Lit) and isinstance(b, Lit):
        if a.num is not None and b.num is not None:
            return a.num < b.num
        if a.dt == b.dt == STRING:
            return a.lex < b.lex
    raise ExpressionError


#: An expression compiled (:func:`compile_expression`): its value for a solution, in an evaluation that says what an
#: ``EXISTS`` pattern finds; raises :class:`ExpressionError` where SPARQL has an error
Compiled = Callable[[dict, "Expressions"], Any]


def compile_expression(e: Any) -> Compiled:
    """An expression as nested Python functions, made once per expression: the value SPARQL gives it for a solution.
    A tag it does not know raises :class:`Unsupported` when it is evaluated, as an interpreter would (a part never
    reached never fails)."""
    tag = e[0]
    if tag == "var":
        name = e[1]

        def var(mu: dict, ev: Expressions) -> Any:
            v = mu.get(name)
            if v is None:
                raise ExpressionError
            return v

        return var
    if tag == "term":
        term = e[1]
        return lambda mu, ev: term
    if tag == "rel":
        op, a, b = e[1], compile_expression(e[2]), compile_expression(e[3])
        if op == "=":
            return lambda mu, ev: equal(a(mu, ev), b(mu, ev))
        if op == "!=":
            return lambda mu, ev: not equal(a(mu, ev), b(mu, ev))
        if op == "<":
            return lambda mu, ev: less(a(mu, ev), b(mu, ev))
        if op == ">":

            def greater(mu: dict, ev: Expressions) -> bool:
                x, y = a(mu, ev), b(mu, ev)
                return less(y, x)

            return greater
        if op == "<=":

            def at_most(mu: dict, ev: Expressions) -> bool:
                x, y = a(mu, ev), b(mu, ev)
                return less(x, y) or equal(x, y)

            return at_most

        def at_least(mu: dict, ev: Expressions) -> bool:
            x, y = a(mu, ev), b(mu, ev)
            return less(y, x) or equal(x, y)

        return at_least
    if tag == "in":
        first, options, negated = compile_expression(e[1]), tuple(compile_expression(x) for x in e[2]), e[3]

        def among(mu: dict, ev: Expressions) -> bool:
            a = first(mu, ev)
            error = False
            for x in options:
                try:
                    if equal(a, x(mu, ev)):
                        return not negated
                except ExpressionError:
                    error = True
            if error:
                raise ExpressionError
            return negated

        return among
    if tag in ("and", "or"):
        parts, want = tuple(compile_expression(x) for x in e[1]), tag == "or"

        def logical(mu: dict, ev: Expressions) -> bool:
            error = False
            for x in parts:
                try:
                    if ebv(x(mu, ev)) is want:
                        return want
                except ExpressionError:
                    error = True
            if error:
                raise ExpressionError
            return not want

        return logical
    if tag == "not":
        inner = compile_expression(e[1])
        return lambda mu, ev: not ebv(inner(mu, ev))
    if tag == "bound":
        name = e[1]
        return lambda mu, ev: mu.get(name) is not None
    if tag == "exists":
        plan, negated = e[1], e[2]
        return lambda mu, ev: ev.exists(plan, mu) != negated
    if tag == "coalesce":
        parts = tuple(compile_expression(x) for x in e[1])

        def coalesce(mu: dict, ev: Expressions) -> Any:
            for x in parts:
                try:
                    return x(mu, ev)
                except ExpressionError:
                    continue
            raise ExpressionError

        return coalesce
    if tag == "call" and e[2]:
        return _call(e[1], tuple(compile_expression(x) for x in e[2]))
    return _unsupported(tag)


def _unsupported(tag: str) -> Compiled:
    def fail(mu: dict, ev: Expressions) -> Any:
        raise Unsupported(f"expression {tag}")

    return fail


def _call(name: str, operands: tuple[Compiled, ...]) -> Compiled:
    if name == "STRSTARTS":

        def strstarts(mu: dict, ev: Expressions) -> bool:
            a, b = (x(mu, ev) for x in operands)
            if not (isinstance(a, Lit) and isinstance(b, Lit)):
                raise ExpressionError
            return a.lex.startswith(b.lex)

        return strstarts
    if name == "STRAFTER":

        def strafter(mu: dict, ev: Expressions) -> Lit:
            a, b = (x(mu, ev) for x in operands)
            if not (isinstance(a, Lit) and isinstance(b, Lit) and a.dt in _STRINGS and b.dt in _STRINGS):
                raise ExpressionError
            _, found, tail = a.lex.partition(b.lex)
            return Lit(tail, a.dt, a.lang) if found else Lit("")

        return strafter
    if name == "CONCAT":

        def concat(mu: dict, ev: Expressions) -> Lit:
            parts = [x(mu, ev) for x in operands]
            if not all(isinstance(v, Lit) and v.dt in _STRINGS for v in parts):
                raise ExpressionError
            langs = {v.lang for v in parts}
            lang = langs.pop() if len(langs) == 1 else None
            return Lit("".join(v.lex for v in parts), None, lang)

        return concat
    arg = operands[0]
    if name == "isIRI":
        return lambda mu, ev: type(arg(mu, ev)) is str
    if name == "isNUMERIC":

        def is_numeric(mu: dict, ev: Expressions) -> bool:
            v = arg(mu, ev)
            return isinstance(v, Lit) and v.num is not None

        return is_numeric
    if name == "isLITERAL":
        return lambda mu, ev: isinstance(arg(mu, ev), Lit)
    if name == "isBLANK":
        return lambda mu, ev: isinstance(arg(mu, ev), Blank)
    if name == "STR":

        def to_str(mu: dict, ev: Expressions) -> Lit:
            v = arg(mu, ev)
            if isinstance(v, Blank):
                raise ExpressionError
            return Lit(v if type(v) is str else v.lex)

        return to_str

    def unknown(mu: dict, ev: Expressions) -> Any:
        arg(mu, ev)  # the argument is evaluated first, as it was: its error comes before the refusal
        raise Unsupported("expression call")

    return unknown


class Expressions:
    """The values of a plan's expressions for a solution (mixed into :class:`.evaluate.Evaluation`, which says
    what an ``EXISTS`` pattern finds and keeps each expression's compiled form)."""

    def exists(self, plan: Any, mu: dict) -> bool:
        """Whether ``plan`` has a solution with ``mu``'s values substituted."""
        raise NotImplementedError

    def expression(self, e: Any) -> Compiled:
        """The compiled form of ``e`` (:func:`compile_expression`)."""
        return compile_expression(e)

    def test(self, e: Any, mu: dict) -> bool:
        try:
            return ebv(self.expression(e)(mu, self))
        except ExpressionError:
            return False

    def value(self, e: Any, mu: dict) -> Any:
        return self.expression(e)(mu, self)


def minus(left: list[dict], right: list[dict]) -> list[dict]:
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


def hash_join(left: list[dict], right: list[dict]) -> list[dict]:
    """Every compatible pair merged: a hash join on the variables every solution of both sides binds, the others
    (an OPTIONAL's) checked pair by pair."""
    if not left or not right:
        return []
    if left is UNIT or (len(left) == 1 and not left[0]):
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
            if not check or compatible(mu, nu):
                out.append({**mu, **nu})
    return out


def compatible(mu: dict, nu: dict) -> bool:
    """Whether two solutions agree on every variable both bind."""
    for k, v in nu.items():
        w = mu.get(k)
        if w is not None and w != v:
            return False
    return True
