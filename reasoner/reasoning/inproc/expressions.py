"""Expressions, errors and joins of solutions: SPARQL's value semantics for the in-process engine."""

from __future__ import annotations

from typing import Any

from .terms import DECIMAL, FLOATS, INTEGERS, LANG_STRING, STRING, XSD, Blank, Lit, Term, Unsupported


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


class Expressions:
    """The values of a plan's expressions for a solution (mixed into :class:`.evaluate.Evaluation`, which says
    what an ``EXISTS`` pattern finds)."""

    def exists(self, plan: Any, mu: dict) -> bool:
        """Whether ``plan`` has a solution with ``mu``'s values substituted."""
        raise NotImplementedError

    def test(self, e: Any, mu: dict) -> bool:
        try:
            return ebv(self.value(e, mu))
        except ExpressionError:
            return False

    def value(self, e: Any, mu: dict) -> Any:
        tag = e[0]
        if tag == "var":
            v = mu.get(e[1])
            if v is None:
                raise ExpressionError
            return v
        if tag == "term":
            return e[1]
        if tag == "rel":
            a, b = self.value(e[2], mu), self.value(e[3], mu)
            op = e[1]
            if op == "=":
                return equal(a, b)
            if op == "!=":
                return not equal(a, b)
            if op == "<":
                return less(a, b)
            if op == ">":
                return less(b, a)
            if op == "<=":
                return less(a, b) or equal(a, b)
            return less(b, a) or equal(a, b)
        if tag == "in":
            a = self.value(e[1], mu)
            error = False
            for x in e[2]:
                try:
                    if equal(a, self.value(x, mu)):
                        return not e[3]
                except ExpressionError:
                    error = True
            if error:
                raise ExpressionError
            return e[3]
        if tag == "and":
            error = False
            for x in e[1]:
                try:
                    if not ebv(self.value(x, mu)):
                        return False
                except ExpressionError:
                    error = True
            if error:
                raise ExpressionError
            return True
        if tag == "or":
            error = False
            for x in e[1]:
                try:
                    if ebv(self.value(x, mu)):
                        return True
                except ExpressionError:
                    error = True
            if error:
                raise ExpressionError
            return False
        if tag == "not":
            return not ebv(self.value(e[1], mu))
        if tag == "bound":
            return mu.get(e[1]) is not None
        if tag == "exists":
            return self.exists(e[1], mu) != e[2]
        if tag == "coalesce":
            for x in e[1]:
                try:
                    return self.value(x, mu)
                except ExpressionError:
                    continue
            raise ExpressionError
        if tag == "call":
            name, args = e[1], e[2]
            if name == "STRSTARTS":
                a, b = (self.value(x, mu) for x in args)
                if not (isinstance(a, Lit) and isinstance(b, Lit)):
                    raise ExpressionError
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
                    raise ExpressionError
                return Lit(v if type(v) is str else v.lex)
        raise Unsupported(f"expression {tag}")


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
