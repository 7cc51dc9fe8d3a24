"""The in-process store: the KB indexed once, a batch at a time, the plans and the caches of KB-only parts."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

from ...errors import SpinekgError
from .evaluate import Evaluation
from .expressions import NOTHING, UNIT, Compiled, compile_expression
from .plans import all_vars, compile_text, plan_keys, plan_vars, thaw
from .terms import RDF_TYPE, Index, Lit, Term, Unsupported, Var, parse_nt, value_of


class _Block:
    """The solutions of a BGP's KB-only triples, and their hash tables by the variables a join binds first."""

    __slots__ = ("rows", "vars", "_tables")

    def __init__(self, triples: tuple, rows: list[dict], hidden: frozenset[str] = frozenset()):
        self.rows = rows
        self.vars = frozenset(x.name for t in triples for x in t if type(x) is Var) - hidden
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


class _Now:
    """What the batch, as it is now, gives the questions :meth:`PythonStore.block` asks: the classes and predicates
    it holds, whether none of its subjects is a KB term, and the answers found so far (by plan and BGP id)."""

    __slots__ = ("key", "held", "apart", "kb_only", "blocks", "signatures")

    def __init__(self, key: tuple, held: frozenset[str], apart: bool):
        self.key, self.held, self.apart = key, held, apart
        self.kb_only: dict[int, bool] = {}
        self.blocks: dict[int, frozenset[int]] = {}
        self.signatures: dict[int, tuple] = {}

    def deciding(self, every: frozenset[str], consts: tuple, batch: Index) -> tuple:
        """What of the batch decides how a part with these keys and constant subjects reads the KB: which of the
        keys it holds, whether none of its subjects is a KB term, and which constants it has triples about."""
        return (every & self.held, self.apart, tuple(c in batch.spo for c in consts))


BATCH_GRAPH = "https://w3id.org/spinekg/graph/batch/in-process"
_CLOSURE_FILTER = re.compile(r"\n[ \t]*FILTER\(\?t IN \(([^()]*)\)\)")


class PythonStore:
    """A :class:`reasoner.reasoning.stores.Backend` that evaluates the rule texts in this process (see the
    package's text).

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
        self._shapes: dict[int, tuple] = {}
        self._dropped: dict[tuple, tuple[frozenset[str], frozenset]] = {}
        self._node_shapes: dict[int, tuple[frozenset[str], tuple]] = {}
        self._now = _Now((), frozenset(), True)
        self._block_entries: dict[tuple, _Block] = {}
        self._bgps: dict[int, tuple] = {}
        self._vars: dict[int, frozenset[str]] = {}
        self.plans: dict[str, Any] = {text: thaw(plan) for text, plan in (plans or {}).items()}
        self.lock = threading.RLock()
        self._kb_solutions: dict[int, list[dict]] = {}
        self._safe: dict[int, bool] = {}
        self._orders: dict[tuple, tuple] = {}
        self._closures: dict[tuple, list[Term]] = {}
        self._path_keys: dict[Any, frozenset[str] | None] = {}
        self._expressions: dict[int, Compiled] = {}
        self._pinned: dict[int, Any] = {}  # the plans (and parts) whose id() keys a cache: kept alive

    # -- the Backend protocol

    def begin(self) -> str:
        self._batch = Index(self.kb_terms)
        return BATCH_GRAPH

    def load(self, nt: str, graph: str) -> None:
        if graph != BATCH_GRAPH:  # the KB's solutions are cached: it is loaded once, when the store is made
            raise SpinekgError(f"{graph}: the in-process store loads cases into its batch graph only")
        add = self._batch.add
        for s, p, o in parse_nt(nt):
            add(s, p, o)

    def update(self, text: str) -> None:
        plan = self._plan(text)
        if plan[0] != "insert":
            raise Unsupported("only INSERT … WHERE updates run in process")
        ev = Evaluation(self, (self.kb, self._batch))
        solutions = ev.run(plan[1], UNIT)
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
        ev = Evaluation(self, tuple(self._graph(g) for g in graphs))
        names = list(plan[2])
        solutions = ev.run(plan[1], UNIT)
        return names, (tuple(None if (t := mu.get(n)) is None else value_of(t) for n in names) for mu in solutions)

    def size(self, graph: str) -> int:
        return self._graph(graph).size

    def keys(self, graph: str) -> dict[str, int]:
        """What ``classify.KEYS`` counts, counted from the index."""
        return self._graph(graph).keys()

    def end(self, graph: str) -> None:
        self._batch = Index(self.kb_terms)

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
            dropped = base is not None and any(
                len(t) > 2 and "t" in t[2] for t in _walk_bgps(base[1])
            )  # the filter reads ?t: only over a plan that binds it everywhere
            if m is not None and base is not None and base[0] == "insert" and not dropped:
                listed = tuple(dict.fromkeys(_term_of(x.strip()) for x in m.group(1).split(",")))
                if "t" in plan_vars(base[1]):
                    # ?t is bound in every solution and the listed terms are IRIs: FILTER(?t IN (…)) keeps what a
                    # join with VALUES ?t {…} gives, and the join reads only the listed classes' resources (the
                    # filter read every typed resource of the batch and closed each of its classes first)
                    plan = ("insert", ("join", ("values", tuple({"t": t} for t in listed)), base[1]), base[2])
                else:
                    plan = ("insert", ("filter", ("in", ("var", "t"), tuple(("term", t) for t in listed), False),
                                       base[1]), base[2])  # fmt: skip
            else:
                plan = compile_text(text)
            self.plans[text] = plan
        return plan

    def kb_solutions(self, n: Any, ev: Evaluation) -> list[dict]:
        key = id(n)
        out = self._kb_solutions.get(key)
        if out is None:
            self._pinned[id(n)] = n
            out = self._kb_solutions[key] = Evaluation(self, (self.kb,)).compute(n)
        return out

    def expression(self, e: Any) -> Compiled:
        """An expression of a plan, compiled once (:func:`compile_expression`)."""
        key = id(e)
        out = self._expressions.get(key)
        if out is None:
            self._pinned[key] = e
            out = self._expressions[key] = compile_expression(e)
        return out

    def filter_safe(self, n: Any) -> bool:
        """Whether a FILTER may see the bindings of what it is joined with: every variable its expression reads is
        one its pattern always binds."""
        key = id(n)
        safe = self._safe.get(key)
        if safe is None:
            self._pinned[id(n)] = n
            safe = self._safe[key] = all_vars(n[1]) <= plan_vars(n[2])
        return safe

    def path_keys(self, p: Any) -> frozenset[str] | None:
        """The predicates a property path reads (None: any)."""
        if p not in self._path_keys:
            self._path_keys[p] = plan_keys(("bgp", ((Var("s"), p, Var("o")),)))
        return self._path_keys[p]

    def closure(self, p: Any, node: Term, ev: Evaluation) -> list[Term]:
        keys = self.path_keys(p)
        batch = ev.batch
        cacheable = (
            (ev.kb_alone or ev.mixed)
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
            self._pinned[id(n)] = n
            out = self._bgps[key] = tuple(bgp[1] for bgp in _walk_bgps(n))
        return out

    @staticmethod
    def _state_of(batch: Index) -> tuple:
        """What names the batch's keys and subjects: they only grow in a batch, so the same counts are the same
        sets (a rule that adds a type a class already has in the batch changes nothing :meth:`block` reads)."""
        return (batch.serial, len(batch.pos), len(batch.pos.get(RDF_TYPE, ())), len(batch.spo), batch.clashes)

    def now(self, batch: Index) -> _Now:
        """The batch as it is now (:class:`_Now`), made again when the rules have added a key or a subject."""
        key = self._state_of(batch)
        if self._now.key != key:
            types = batch.pos.get(RDF_TYPE, {})
            held = frozenset(batch.pos).union(o for o in types if type(o) is str)
            self._now = _Now(key, held, batch.clashes == 0)
        return self._now

    def _shape(self, triples: tuple) -> tuple:
        """What :meth:`block` reads of a BGP's triples: each one's keys (None: any), its constant subject (or
        None) and variables; all their keys; the constant subjects."""
        key = id(triples)
        shape = self._shapes.get(key)
        if shape is None:
            rows = []
            for s, p, o in triples:
                if isinstance(p, tuple):
                    keys = self.path_keys(p)
                elif type(p) is not str:
                    keys = None
                elif p == RDF_TYPE:
                    keys = frozenset((o,)) if type(o) is str else None
                else:
                    keys = frozenset((p,))
                names = frozenset(x.name for x in (s, p, o) if type(x) is Var)
                rows.append((keys, None if type(s) is Var else s, s.name if type(s) is Var else None, names,
                             isinstance(p, tuple)))  # fmt: skip
            every = frozenset().union(*(r[0] for r in rows if r[0] is not None))
            consts = tuple(r[1] for r in rows if r[1] is not None and not r[4])
            self._pinned[key] = triples
            shape = self._shapes[key] = (tuple(rows), every, consts)
        return shape

    def node_shape(self, n: Any) -> tuple[frozenset[str], tuple]:
        """The keys and constant subjects of every BGP in a plan."""
        key = id(n)
        shape = self._node_shapes.get(key)
        if shape is None:
            shapes = [self._shape(t) for t in self.bgps_of(n)]
            every = frozenset().union(*(sh[1] for sh in shapes))
            consts = tuple(dict.fromkeys(c for sh in shapes for c in sh[2]))
            self._pinned[key] = n
            shape = self._node_shapes[key] = (every, consts)
        return shape

    def signature(self, triples: tuple, batch: Index) -> tuple:
        """What of a batch decides a BGP's :meth:`block`: which of its keys the batch holds, whether a batch
        subject is a KB term, and which of its constant subjects the batch has triples about."""
        now = self.now(batch)
        out = now.signatures.get(id(triples))
        if out is None:
            _, every, consts = self._shape(triples)
            out = now.signatures[id(triples)] = now.deciding(every, consts, batch)
        return out

    def block(self, triples: tuple, ev: Evaluation) -> frozenset[int]:
        """The triples of a BGP that can match only KB triples in this batch (their positions): one whose class or
        predicate the batch does not hold; and, while no subject of the batch is a term of the KB (the batch's
        resources are the cases'), one whose subject those triples bind (it is a KB term) or is a KB constant the
        batch has no triple about."""
        if ev.kb_alone:
            return frozenset(range(len(triples)))
        batch = ev.batch
        if batch is None or not ev.mixed:
            return frozenset()
        now = self.now(batch)
        out = now.blocks.get(id(triples))
        if out is not None:
            return out
        key = (id(triples), self.signature(triples, batch))
        out = self._blocks.get(key)
        if out is not None:
            now.blocks[id(triples)] = out
            return out
        held, apart = now.held, now.apart
        rows = self._shape(triples)[0]
        chosen: set[int] = set()
        bound: set[str] = set()
        for i, (keys, _, _, names, _) in enumerate(rows):
            if keys is not None and keys.isdisjoint(held):
                chosen.add(i)
                bound.update(names)
        grown = True
        while grown:
            grown = False
            for i, (_, const, subject, names, is_path) in enumerate(rows):
                if i in chosen or is_path:
                    continue
                if (subject is not None and subject in bound and apart) or (
                    const is not None and const not in batch.spo
                ):
                    chosen.add(i)
                    bound.update(names)
                    grown = True
        if len(self._blocks) > 100_000:
            self._blocks.clear()
        out = self._blocks[key] = now.blocks[id(triples)] = frozenset(chosen)
        return out

    def block_entry(self, triples: tuple, block: frozenset[int], hidden: frozenset[str] = NOTHING) -> _Block:
        """The solutions of a BGP's KB-only triples, without the ``hidden`` variables (each kept once)."""
        key = (id(triples), block, hidden)
        entry = self._block_entries.get(key)
        if entry is None:
            part = tuple(triples[i] for i in sorted(block))
            self._pinned[id(triples)] = triples
            rows = Evaluation(self, (self.kb,)).bgp(part, UNIT)
            if hidden:
                kept = {frozenset((k, v) for k, v in row.items() if k not in hidden) for row in rows}
                rows = [dict(row) for row in kept]
            entry = self._block_entries[key] = _Block(part, rows, hidden)
        return entry

    def dropped(self, triples: tuple, block: frozenset[int], drop: frozenset[str]) -> tuple[frozenset[str], frozenset]:
        """Of a BGP's ``drop`` variables: those its KB-only part may leave out (no other triple has them), and the
        triples outside that part that only need a match (no other triple has their dropped variables, and no
        variable twice)."""
        if not drop:
            return NOTHING, frozenset()
        key = (id(triples), block, drop)
        out = self._dropped.get(key)
        if out is None:
            where: dict[str, list[int]] = {}
            for i, t in enumerate(triples):
                for x in t:
                    if type(x) is Var:
                        where.setdefault(x.name, []).append(i)
            hidden = frozenset(v for v in drop if len(block) > 1 and all(i in block for i in where.get(v, ())))
            checks = set()
            for i, t in enumerate(triples):
                if (len(block) > 1 and i in block) or isinstance(t[1], tuple):
                    continue
                names = [x.name for x in t if type(x) is Var]
                mine = [n for n in names if n in drop]
                if mine and len(names) == len(set(names)) and all(len(set(where[n])) == 1 for n in mine):
                    checks.add(t)
            self._pinned[id(triples)] = triples
            out = self._dropped[key] = (hidden, frozenset(checks))
        return out

    def order(
        self, triples: tuple, bound: frozenset[str], block: frozenset[int], hidden: frozenset[str], ev: Evaluation
    ) -> tuple:
        """The steps of a BGP, most selective first given what is bound (estimated from the indexes' counts,
        once per BGP, bound variables, KB-only part and order of magnitude of the batch): its triples, and None
        for its KB-only part joined at once (when it has two triples or more)."""
        batch = ev.batch
        key = (
            id(triples),
            bound,
            block,
            hidden,
            ev.kb_alone,
            0 if batch is None else batch.size.bit_length(),
        )
        order = self._orders.get(key)
        if order is None:
            self._pinned[id(triples)] = triples
            if len(block) > 1 and not ev.kb_alone:
                entry = self.block_entry(triples, block, hidden)
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


def _walk_bgps(x: Any) -> Iterator[tuple]:
    """The BGP nodes of a plan."""
    if isinstance(x, tuple) and x:
        if x[0] == "bgp" and len(x) in (2, 3) and isinstance(x[1], tuple):
            yield x
            return
        for y in x:
            yield from _walk_bgps(y)


def _term_of(text: str) -> Term:
    if text.startswith("<") and text.endswith(">"):
        return text[1:-1]
    raise Unsupported(f"a term in a closure filter: {text}")
