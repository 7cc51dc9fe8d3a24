"""An rdflib graph as the per-user cache holds it (a term table and integer triples), and read back: in bulk, or
for the knowledge base, one predicate at a time until a caller needs the whole graph.

A cold ``spinekg recommend`` used to spend about 100 ms putting the KB's ten thousand triples into an rdflib
Memory store one ``store.add`` at a time. :func:`fill_memory` writes the store's indexes in one pass (the same
dictionaries, in the same order, as those adds leave), and :func:`decode_graph` does not even do that until it
is needed: the graph it returns answers a lookup with a bound predicate (``kb.value(s, RDFS.label)``,
``kb.subjects(RDF.type, SK.Conflict)``: all a plan reads of the KB) from that predicate's triples alone, and
fills itself completely, once, before anything else (iterating, counting, a SPARQL query, adding, another
predicate-free pattern) reaches the store. Either way the graph holds, and every lookup answers, exactly what
adding the triples one by one gives.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.plugins.stores.memory import Memory

#: The attributes of an empty rdflib Memory store (rdflib 7) that hold its triples, as :func:`fill_memory` writes
#: them (the namespace bindings, which no triple touches, aside).
_MEMORY_TRIPLE_STATE: dict[str, object] = {
    "_Memory__all_contexts": set(),
    "_Memory__contextTriples": {None: set()},
    "_Memory__context_obj_map": {},
    "_Memory__defaultContexts": None,
    "_Memory__osp": {},
    "_Memory__pos": {},
    "_Memory__spo": {},
    "_Memory__tripleContexts": {},
}
_MEMORY_OTHER_STATE = {"dispatcher", "identifier", "_Store__node_pickler", "_Memory__namespace", "_Memory__prefix"}

#: What a store still waiting for its triples answers without filling itself first (everything else fills it):
#: the lookups, the namespace bindings (no triple touches them) and its class (``isinstance`` asks for it).
_PENDING_OK = frozenset(
    {"triples", "bind", "namespace", "prefix", "namespaces", "_Memory__namespace", "_Memory__prefix", "__class__"}
)
_FILL_LOCK = threading.Lock()


def encode_graph(graph: Graph) -> dict:
    """A graph in rdflib's Memory store as JSON data: its terms, its triples as indexes into them, its namespace
    bindings and its identifier (ValueError for any other store or term).

    >>> g = Graph(identifier=URIRef("urn:g"), bind_namespaces="none")
    >>> _ = g.add((URIRef("urn:s"), URIRef("urn:p"), Literal("o", lang="en")))
    >>> encode_graph(g)["terms"]
    ['urn:s', 'urn:p', ['l', 'o', None, 'en'], 'urn:g']
    """
    materialise(graph)
    if type(graph.store) is not Memory:
        raise ValueError("only a graph in rdflib's Memory store can be cached")
    ids: dict[object, int] = {}
    terms: list[object] = []

    def term_id(term: object) -> int:
        found = ids.get(term)
        if found is not None:
            return found
        if type(term) is URIRef:
            terms.append(str(term))
        elif type(term) is BNode:
            terms.append(["b", str(term)])
        elif type(term) is Literal:
            terms.append(["l", str(term), None if term.datatype is None else str(term.datatype), term.language])
        else:
            raise ValueError(f"a {type(term).__name__} term cannot be cached")
        ids[term] = len(terms) - 1
        return ids[term]

    triples: list[int] = []
    for s, p, o in graph:
        triples += (term_id(s), term_id(p), term_id(o))
    identifier = term_id(graph.identifier)
    namespaces = [[prefix, str(ns)] for prefix, ns in graph.namespaces()]
    return {"terms": terms, "triples": triples, "namespaces": namespaces, "identifier": identifier}


def decode_graph(data: dict) -> Graph:
    """The graph :func:`encode_graph` gave ``data`` for; ValueError (or TypeError, KeyError, IndexError) where
    ``data`` is not such a graph. Its store fills itself when first needed (see the module's docstring).

    >>> g = Graph(identifier=URIRef("urn:g"), bind_namespaces="none")
    >>> _ = g.add((URIRef("urn:s"), URIRef("urn:p"), Literal("o", lang="en")))
    >>> h = decode_graph(encode_graph(g))
    >>> h.value(URIRef("urn:s"), URIRef("urn:p")), len(h), set(h) == set(g)
    (rdflib.term.Literal('o', lang='en'), 1, True)
    """

    def term(t: object) -> URIRef | BNode | Literal:
        if type(t) is str:
            return URIRef(t)
        if type(t) is list and len(t) == 2 and t[0] == "b" and type(t[1]) is str:
            return BNode(t[1])
        if type(t) is list and len(t) == 4 and t[0] == "l" and type(t[1]) is str:
            if t[2] is not None and type(t[2]) is not str or t[3] is not None and type(t[3]) is not str:
                raise ValueError("a literal's datatype and language are strings or null")
            return Literal(t[1], datatype=t[2], lang=t[3])
        raise ValueError("not a term")

    terms = [term(t) for t in data["terms"]]
    flat = data["triples"]
    if type(flat) is not list or len(flat) % 3 or set(map(type, flat)) - {int}:
        raise ValueError("the triples are not indexes into the terms")
    if flat and (min(flat) < 0 or max(flat) >= len(terms)):
        raise ValueError("the triples are not indexes into the terms")
    by_predicate: dict[int, list[int]] = {}  # predicate's term index → the positions of its triples in flat
    for i, p in enumerate(flat[1::3]):
        at = by_predicate.get(p)
        if at is None:
            by_predicate[p] = [3 * i]
        else:
            at.append(3 * i)
    subjects = set(flat[::3])
    if any(type(terms[p]) is not URIRef for p in by_predicate) or any(type(terms[s]) is Literal for s in subjects):
        raise ValueError("a triple's predicate is an IRI and its subject is not a literal")
    graph = Graph(identifier=terms[data["identifier"]], bind_namespaces="none")
    store = graph.store
    if _empty_memory(vars(store)):
        vars(store)["_pending"] = _Pending(graph, terms, flat, by_predicate)
        store.__class__ = _PendingMemory
    else:
        for i in range(0, len(flat), 3):  # what Graph.add does, less its per-triple checks: the file's checksum held
            store.add((terms[flat[i]], terms[flat[i + 1]], terms[flat[i + 2]]), graph, quoted=False)
    for prefix, ns in data["namespaces"]:
        graph.bind(prefix, URIRef(ns), override=True, replace=True)
    return graph


def materialise(graph: Graph) -> Graph:
    """``graph`` with every triple in its store now, if :func:`decode_graph` made it and it was still waiting (a
    process that keeps the KB for many calls fills it once, before it freezes it out of the collector's sight)."""
    store = graph.store
    if type(store) is _PendingMemory:
        _fill(store)
    return graph


def fill_memory(state: dict, graph: Graph, triples: list[tuple]) -> bool:
    """Put ``triples`` into ``state`` (the attributes of ``graph``'s empty Memory store), in one pass, in the state
    that calling ``store.add(triple, graph)`` for each in turn leaves (the same index dictionaries, in the same
    order); False, with nothing done, where the store is not an empty Memory store laid out as rdflib 7's is.

    The state is rdflib's private one, so it is checked before it is written: another rdflib layout, a store with
    an event subscriber, or one that is not empty is filled by ``store.add`` per triple instead.
    """
    if not _empty_memory(state):
        return False
    context = f"{type(graph.identifier).__name__}:{graph.identifier}"  # what the store names a graph by
    spo: dict = {}
    pos: dict = {}
    osp: dict = {}
    added = []
    for triple in triples:
        s, p, o = triple
        objects = spo.setdefault(s, {}).setdefault(p, {})
        if o in objects:
            continue
        objects[o] = 1
        pos.setdefault(p, {}).setdefault(o, {})[s] = 1
        osp.setdefault(o, {}).setdefault(s, {})[p] = 1
        added.append(triple)
    state["_Memory__spo"], state["_Memory__pos"], state["_Memory__osp"] = spo, pos, osp
    if added:
        state["_Memory__all_contexts"] = {graph}
        state["_Memory__context_obj_map"] = {context: graph}
        state["_Memory__contextTriples"] = {None: set(added), context: set(added)}
        state["_Memory__defaultContexts"] = {context: False, None: False}
    return True


def _empty_memory(state: dict) -> bool:
    """Whether ``state`` is the attributes of an empty rdflib 7 Memory store without event subscribers."""
    if state.keys() != _MEMORY_TRIPLE_STATE.keys() | _MEMORY_OTHER_STATE:
        return False
    dispatcher = state["dispatcher"]
    return all(state[name] == empty for name, empty in _MEMORY_TRIPLE_STATE.items()) and not dispatcher.get_map()


class _Pending:
    """The triples a store still waits for: the decoded terms, the integer triples, where each predicate's are,
    and the per-predicate indexes built so far (subject → objects, object → subjects, in the file's order)."""

    def __init__(self, graph: Graph, terms: list, flat: list[int], by_predicate: dict[int, list[int]]) -> None:
        self.graph, self.terms, self.flat = graph, terms, flat
        self.predicates = {terms[p]: at for p, at in by_predicate.items()}
        self.indexes: dict[object, tuple[dict, dict]] = {}

    def index(self, predicate: object) -> tuple[dict, dict]:
        """(subject → {object: 1}, object → {subject: 1}) of one predicate, as the full store's ``spo[s][p]`` and
        ``pos[p]`` hold them (insertion order included); empty for a predicate the graph does not use."""
        found = self.indexes.get(predicate)
        if found is None:
            terms, flat = self.terms, self.flat
            objects: dict = {}
            subjects: dict = {}
            for i in self.predicates.get(predicate, ()):
                s, o = terms[flat[i]], terms[flat[i + 2]]
                of_s = objects.setdefault(s, {})
                if o not in of_s:
                    of_s[o] = 1
                    subjects.setdefault(o, {})[s] = 1
            found = self.indexes[predicate] = (objects, subjects)
        return found

    def triples(self) -> list[tuple]:
        terms, flat = self.terms, self.flat
        return [(terms[flat[i]], terms[flat[i + 1]], terms[flat[i + 2]]) for i in range(0, len(flat), 3)]


def _fill(store: Memory) -> None:
    """Give a waiting store all its triples and make it a plain Memory store (once, whichever thread asks)."""
    with _FILL_LOCK:
        state = object.__getattribute__(store, "__dict__")
        pending = state.pop("_pending", None)
        if pending is None:  # another thread filled it while this one waited
            return
        triples = pending.triples()
        filled = fill_memory(state, pending.graph, triples)  # touches no attribute of the store: no recursion
        object.__setattr__(store, "__class__", Memory)
        if not filled:  # the layout was checked when the store was made: not reached, kept for safety
            for triple in triples:
                store.add(triple, pending.graph, quoted=False)


class _PendingMemory(Memory):
    """A Memory store whose triples are still in the cache file's form (see the module's docstring): it answers a
    pattern with a bound predicate, asked in its own graph, from that predicate's index; any other use of the store
    fills it first and turns it into a plain :class:`Memory` store."""

    def __getattribute__(self, name: str):
        if name not in _PENDING_OK:
            _fill(self)
        return object.__getattribute__(self, name)

    def triples(self, triple_pattern, context=None) -> Iterator:  # type: ignore[override]
        pending = object.__getattribute__(self, "__dict__").get("_pending")
        subject, predicate, object_ = triple_pattern
        if pending is None or predicate is None or context is not pending.graph:
            _fill(self)
            yield from Memory.triples(self, triple_pattern, context)
            return
        # as Memory.triples yields them: the pattern's own terms where it gives them, each triple with its graph
        graph = pending.graph
        objects, subjects = pending.index(predicate)
        if subject is not None:
            found = objects.get(subject, {})
            for o in list(found) if object_ is None else [object_] if object_ in found else []:
                yield (subject, predicate, o), (c for c in (graph,))
        elif object_ is not None:
            for s in list(subjects.get(object_, ())):
                yield (s, predicate, object_), (c for c in (graph,))
        else:
            for o in list(subjects):
                for s in list(subjects[o]):
                    yield (s, predicate, o), (c for c in (graph,))
