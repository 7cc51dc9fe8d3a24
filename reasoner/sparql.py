"""Run SPARQL over a graph with pyoxigraph, the engine spinekg evaluates queries with."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import Graph


def to_store(graph: Graph) -> ox.Store:
    """Copy an rdflib graph into a fresh in-memory pyoxigraph store (via N-Triples).

    >>> from rdflib import Graph
    >>> len(to_store(Graph().parse(data="<urn:a> <urn:b> <urn:c> .", format="nt")))
    1
    """
    store = ox.Store()
    data = graph.serialize(format="nt", encoding="utf-8")
    store.bulk_load(data, ox.RdfFormat.N_TRIPLES)
    return store


@dataclass(frozen=True)
class Row:
    """One solution of a SELECT query, as plain strings (IRIs, literal values, blank node labels)."""

    values: dict[str, str | None]

    def __getitem__(self, key: str) -> str | None:
        return self.values[key]


def select(store: ox.Store, query: str) -> list[Row]:
    """Evaluate a SELECT query and return its rows as plain strings.

    >>> from rdflib import Graph
    >>> s = to_store(Graph().parse(data='<urn:a> <urn:b> "x" .', format="nt"))
    >>> select(s, "SELECT ?o WHERE { ?s ?p ?o }")[0]["o"]
    'x'
    """
    result = store.query(query)
    names = [v.value for v in result.variables]
    rows = []
    for solution in result:
        rows.append(Row({n: _plain(solution[n]) for n in names}))
    return rows


def _plain(term) -> str | None:
    if term is None:
        return None
    return term.value
