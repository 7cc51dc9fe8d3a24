"""A plan evaluated over the KB's and the batch's indexes (joins from what is bound, KB-only parts once)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .expressions import (
    NOTHING,
    ROW,
    UNIT,
    Compiled,
    ExpressionError,
    Expressions,
    compatible,
    ebv,
    hash_join,
    less,
    minus,
)
from .terms import XSD, Index, Lit, Term, Unsupported, Var, match

if TYPE_CHECKING:
    from .store import PythonStore


class Evaluation(Expressions):
    """One evaluation: the graphs read, the batch's keys, and the caches of the store."""

    __slots__ = ("graphs", "batch", "kb_alone", "mixed", "store", "substitute", "_inner")

    def __init__(self, store: PythonStore, graphs: tuple[Index, ...], substitute: bool = False):
        self.store = store
        self.graphs = graphs
        self.batch = store._batch if any(g is store._batch for g in graphs) else None
        self.kb_alone = len(graphs) == 1 and graphs[0] is store.kb  # everything it reads is the KB's
        self.mixed = self.batch is not None and len(graphs) == 2  # the KB and the batch
        # inside EXISTS, the outer solution's values are substituted into the pattern: its filters see them
        self.substitute = substitute
        self._inner: Evaluation | None = None

    def expression(self, e: Any) -> Compiled:
        return self.store.expression(e)

    def passing(self, e: Any, rows: list[dict]) -> list[dict]:
        """The solutions for which the filter expression ``e`` is true (an error is false)."""
        fn = self.store.expression(e)
        out = []
        for mu in rows:
            try:
                if ebv(fn(mu, self)):
                    out.append(mu)
            except ExpressionError:
                pass
        return out

    def exists(self, plan: Any, mu: dict) -> bool:
        inner = self._inner
        if inner is None:
            inner = self._inner = Evaluation(self.store, self.graphs, substitute=True)
        return bool(inner.run(plan, [mu]))

    # -- caching of parts that read the KB only

    def kb_only(self, n: Any) -> bool:
        """Whether ``n`` finds in the KB and the batch what it finds in the KB alone: every basic graph pattern in
        it is answered by the KB alone (:meth:`PythonStore.block`)."""
        if self.kb_alone:
            return True
        batch = self.batch
        if batch is None or not self.mixed:
            return False
        store = self.store
        now = store.now(batch)
        known = now.kb_only.get(id(n))
        if known is None:
            bgps = store.bgps_of(n)
            # the keys and constant subjects of all its BGPs decide each BGP's block
            every, consts = store.node_shape(n)
            key = (id(n), *now.deciding(every, consts, batch))
            known = store._kb_only.get(key)
            if known is None:
                known = all(len(store.block(t, self)) == len(t) for t in bgps)
                if len(store._kb_only) > 100_000:
                    store._kb_only.clear()
                store._kb_only[key] = known
            now.kb_only[id(n)] = known
        return known

    def run(self, n: Any, seeds: list[dict]) -> list[dict]:
        """The solutions of plan ``n`` joined with ``seeds`` (``[{}]``: none bound)."""
        if not seeds:  # nothing joins with no solution: the part is not evaluated (a sub-select over the batch was)
            return []
        tag = n[0]
        if tag == "bgp":
            return self.bgp(n[1], seeds, n[2] if len(n) > 2 else NOTHING)
        if tag == "join":
            return self.run(n[2], self.run(n[1], seeds))
        if tag == "union":
            return self.run(n[1], seeds) + self.run(n[2], seeds)
        if tag == "filter" and seeds is not UNIT:
            expr = n[1]
            if self.substitute or self.store.filter_safe(n):
                return self.passing(expr, self.run(n[2], seeds))
        if seeds is UNIT:
            return self.alone(n)
        if self.kb_only(n):
            return hash_join(seeds, self.store.kb_solutions(n, self))
        return hash_join(seeds, self.alone(n))

    def alone(self, n: Any) -> list[dict]:
        """The solutions of ``n`` with nothing bound."""
        if self.kb_only(n):
            return self.store.kb_solutions(n, self)
        return self.compute(n)

    def compute(self, n: Any) -> list[dict]:
        """The solutions of ``n`` with nothing bound, evaluated here (:meth:`alone` may take them from the cache)."""
        tag = n[0]
        if tag in ("bgp", "join", "union"):  # run() takes these without a cache: what it binds, they read
            return self.run(n, UNIT)
        if tag == "filter":
            expr = n[1]
            return self.passing(expr, self.run(n[2], UNIT))
        if tag == "leftjoin":
            # the right side joined with every left solution at once, each tagged with its position so that those
            # nothing joined with are kept as they are
            left = self.run(n[1], UNIT)
            if not left:
                return left
            right, cond = n[2], n[3]
            tagged = [{**mu, ROW: i} for i, mu in enumerate(left)]
            joined: dict[int, list[dict]] = {}
            for merged in self.run(right, tagged):
                if cond is None or self.test(cond, merged):
                    merged = dict(merged)
                    joined.setdefault(merged.pop(ROW), []).append(merged)
            out = []
            for i, mu in enumerate(left):
                found = joined.get(i)
                if found:
                    out.extend(found)
                else:
                    out.append(mu)
            return out
        if tag == "minus":
            left = self.run(n[1], UNIT)
            if not left:
                return left
            right = self.run(n[2], UNIT)
            if not right:
                return left
            return minus(left, right)
        if tag == "extend":
            var, expr = n[2], n[3]
            out = []
            for mu in self.run(n[1], UNIT):
                try:
                    value = self.value(expr, mu)
                except ExpressionError:
                    out.append(mu)
                    continue
                if var in mu:  # BIND to a bound variable is an error in the query; keep the solution
                    out.append(mu)
                else:
                    out.append({**mu, var: value})
            return out
        if tag == "project":
            names = n[2]
            return [{k: mu[k] for k in names if k in mu} for mu in self.run(n[1], UNIT)]
        if tag == "distinct":
            seen: set = set()
            out = []
            for mu in self.run(n[1], UNIT):
                key = frozenset(mu.items())
                if key not in seen:
                    seen.add(key)
                    out.append(mu)
            return out
        if tag == "values":
            return [dict(row) for row in n[1]]
        if tag == "group":
            return self.group(n)
        raise Unsupported(f"algebra {tag}")

    def group(self, n: Any) -> list[dict]:
        _, inner, by, aggs = n
        groups: dict[tuple, list[dict]] = {}
        for mu in self.run(inner, UNIT):
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
                    except ExpressionError:
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
                            if (kind == "MAX" and less(best, v)) or (kind == "MIN" and less(v, best)):
                                best = v
                    except ExpressionError:
                        continue
                    row[res] = best
            out.append(row)
        return out

    # -- basic graph patterns

    def bgp(self, triples: tuple, seeds: list[dict], drop: frozenset[str] = NOTHING) -> list[dict]:
        """The solutions of a BGP joined with ``seeds``; a variable of ``drop`` (:func:`existentials`) need not be
        bound: a triple whose only new variables are such is checked for a match, once per solution."""
        if not triples:
            return seeds
        if not seeds:
            return []
        store = self.store
        block = store.block(triples, self)
        hidden, checks = store.dropped(triples, block, drop)
        bound = set(seeds[0])
        for mu in seeds[1:]:
            bound.intersection_update(mu)
        if len(seeds) > 4:
            # many seeds often agree on the variables the pattern reads (an OPTIONAL after a join with the KB's
            # conditions): match once per distinct value, then join back by hash
            keys = tuple(sorted(bound & store.vars_of(triples)))
            distinct = {tuple(mu[k] for k in keys) for mu in seeds}
            if len(distinct) * 2 <= len(seeds):
                small = [dict(zip(keys, row, strict=True)) for row in distinct]
                return hash_join(seeds, self.bgp(triples, small, drop))
        order = store.order(triples, frozenset(bound), block, hidden, self)
        sols = seeds
        graphs = self.graphs
        for step in order:
            if step is None:
                sols = self.join_block(sols, triples, block, hidden, bound)
                bound.update(store.block_entry(triples, block, hidden).vars)
                if not sols:
                    break
                continue
            s, p, o = step
            out: list[dict] = []
            if step in checks and all(x.name in bound for x in step if type(x) is Var and x.name not in drop):
                # its only unbound variables are dropped ones: a match is enough
                for mu in sols:
                    s1 = mu.get(s.name) if type(s) is Var else s
                    p1 = mu.get(p.name) if type(p) is Var else p
                    o1 = mu.get(o.name) if type(o) is Var else o
                    for _ in match(graphs, s1, p1, o1):
                        out.append(mu)
                        break
                sols = out
                if not sols:
                    break
                continue  # binds nothing
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
                        for _ in match(graphs, s1, p1, o1):
                            out.append(mu)
                        continue
                    for a, b, c in match(graphs, s1, p1, o1):
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

    def join_block(
        self, sols: list[dict], triples: tuple, block: frozenset[int], hidden: frozenset[str], bound: set[str]
    ) -> list[dict]:
        """``sols`` joined with the solutions of the BGP's KB-only triples (computed once, without the ``hidden``
        variables, hashed on the variables ``sols`` all bind)."""
        entry = self.store.block_entry(triples, block, hidden)
        keys = tuple(sorted(entry.vars & bound))
        table = entry.table(keys)
        others = entry.vars.difference(keys)
        out: list[dict] = []
        for mu in sols:
            rows = table.get(tuple(mu[k] for k in keys))
            if not rows:
                continue
            if any(v in mu for v in others):  # an OPTIONAL's variable some solutions bind: check each pair
                out.extend({**mu, **row} for row in rows if compatible(mu, row))
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
            return [c for _, _, c in match(self.graphs, node, p[1], None)]
        if tag == "inv":
            q = p[1]
            if q[0] == "link":
                return [a for a, _, _ in match(self.graphs, None, q[1], node)]
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
