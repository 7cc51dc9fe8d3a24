"""Where the rule queries run: an embedded pyoxigraph store, or any SPARQL 1.1 store over the standard protocols.

Both hold the knowledge base in one named graph and each batch of cases in a named graph of its own; the
classification rules write into the batch graph (``INSERT { GRAPH <batch> … } USING <kb> USING <batch>``) and
the queries read the two graphs as their default graph. Nothing else of a store is read or written, and the
batch graph is dropped when the batch is done.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol, cast

import pyoxigraph as ox

from ..consts import SK
from ..errors import EndpointError

KB_GRAPH = f"{SK}graph/kb"
Row = dict[str, "str | None"]


class Backend(Protocol):
    """What the engine needs of a store."""

    def begin(self) -> str:
        """A new, empty batch graph's IRI."""

    def load(self, nt: str, graph: str) -> None:
        """Add N-Triples text to a graph."""

    def update(self, text: str) -> None:
        """Run a SPARQL update."""

    def select(self, text: str, graphs: tuple[str, ...]) -> Iterator[Row]:
        """Rows of a SELECT whose default graph is the union of ``graphs`` (unbound variables are None)."""

    def rows(self, text: str, graphs: tuple[str, ...]) -> tuple[list[str], Iterator[tuple]]:
        """The variables of a SELECT and its rows as tuples of values (None where unbound): for bulk reads."""

    def size(self, graph: str) -> int:
        """How many triples a graph holds."""

    def end(self, graph: str) -> None:
        """Drop a batch graph."""

    @property
    def kb_graph(self) -> str:
        """The named graph holding the knowledge base."""

    @property
    def lock(self) -> AbstractContextManager[object]:
        """Held by the engine around a batch: one batch at a time in a store."""

    def close(self) -> None:
        """Give back what the store holds for this run."""


class LocalStore:
    """An in-memory pyoxigraph store holding the KB once; a batch's graph is removed after it.

    A store that many batches came and went through slows down and keeps the memory of what was removed (a
    2,000-case batch left about 80 MB behind), so it is rebuilt once ``rebuild_after`` batch triples have gone
    through it, about every 2,000 cases (the KB load is the cost: tens of milliseconds a rebuild).
    """

    kb_graph = KB_GRAPH

    def __init__(self, kb_nt: bytes, rebuild_after: int = 150_000):
        self._kb_nt = kb_nt
        self._rebuild_after = rebuild_after
        self._churn = 0
        self._ids = itertools.count()
        self.lock = threading.RLock()
        self._store = self._fresh()

    def _fresh(self) -> ox.Store:
        store = ox.Store()
        store.bulk_load(self._kb_nt, ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(KB_GRAPH))
        return store

    def begin(self) -> str:
        return f"{SK}graph/batch/{next(self._ids)}"

    def load(self, nt: str, graph: str) -> None:
        self._store.bulk_load(nt.encode("utf-8"), ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))

    def update(self, text: str) -> None:
        self._store.update(text)

    def select(self, text: str, graphs: tuple[str, ...]) -> Iterator[Row]:
        names, rows = self.rows(text, graphs)
        return (dict(zip(names, row, strict=True)) for row in rows)

    def rows(self, text: str, graphs: tuple[str, ...]) -> tuple[list[str], Iterator[tuple]]:
        result = cast(ox.QuerySolutions, self._store.query(text, default_graph=[ox.NamedNode(g) for g in graphs]))
        names = [v.value for v in result.variables]
        return names, (tuple(None if t is None else t.value for t in solution) for solution in result)

    def size(self, graph: str) -> int:
        counted = cast(
            ox.QuerySolutions, self._store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        )
        return int(next(iter(counted))[0].value)  # counted in the store: half the time of iterating its quads

    def end(self, graph: str) -> None:
        self._churn += self.size(graph)
        self._store.remove_graph(ox.NamedNode(graph))
        if self._churn > self._rebuild_after:
            self._store, self._churn = self._fresh(), 0

    def close(self) -> None:
        """Nothing to give back: the store lives in this process."""


class RemoteStore:
    """A SPARQL 1.1 store reached over HTTP: Query and Update protocols, and the Graph Store Protocol to load.

    ``query_url`` answers SELECT (``default-graph-uri`` parameters scope it), ``update_url`` takes updates,
    ``store_url`` takes ``POST ?graph=IRI`` with N-Triples (the Graph Store Protocol). The KB is loaded once
    into its own graph, named with the KB version so runs of different versions never mix.
    """

    def __init__(
        self,
        query_url: str,
        update_url: str | None,
        store_url: str | None,
        kb_nt: bytes,
        kb_version: str,
        timeout: float = 300.0,
        auth: str | None = None,
    ):
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.store_url = store_url
        self.timeout = timeout
        self._auth = "Basic " + base64.b64encode(auth.encode()).decode() if auth else None
        self.kb_graph = f"{KB_GRAPH}/{kb_version}"
        self._ids = itertools.count()
        self._run = base64.urlsafe_b64encode(os.urandom(6)).decode().rstrip("=")
        self.lock = threading.RLock()
        self._own_kb = self.size(self.kb_graph) == 0  # loaded by this run: dropped again by close()
        if self._own_kb:
            self.load(kb_nt.decode("utf-8"), self.kb_graph)

    def _request(self, url: str, data: bytes | None, headers: dict[str, str], method: str) -> bytes:
        if self._auth:
            headers = {**headers, "Authorization": self._auth}
        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (the user's endpoint)
                return resp.read()
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", "replace")[:500]
            raise EndpointError(f"{url}: HTTP {exc.code} {exc.reason}: {body}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise EndpointError(f"{url}: {exc}") from exc

    def begin(self) -> str:
        return f"{SK}graph/batch/{self._run}/{next(self._ids)}"

    def load(self, nt: str, graph: str) -> None:
        if self.store_url is None:  # no Graph Store Protocol: INSERT DATA (N-Triples is valid inside it)
            self.update(f"INSERT DATA {{ GRAPH <{graph}> {{\n{nt}}} }}")
            return
        url = f"{self.store_url}?{urllib.parse.urlencode({'graph': graph})}"
        self._request(url, nt.encode("utf-8"), {"Content-Type": "application/n-triples"}, "POST")

    def update(self, text: str) -> None:
        body = urllib.parse.urlencode({"update": text}).encode()
        self._request(self.update_url, body, {"Content-Type": "application/x-www-form-urlencoded"}, "POST")

    def select(self, text: str, graphs: tuple[str, ...]) -> Iterator[Row]:
        params = [("query", text)] + [("default-graph-uri", g) for g in graphs]
        body = urllib.parse.urlencode(params).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/sparql-results+json",
        }
        data = json.loads(self._request(self.query_url, body, headers, "POST"))
        names = data["head"]["vars"]
        for binding in data["results"]["bindings"]:
            yield {n: binding[n]["value"] if n in binding else None for n in names}

    def rows(self, text: str, graphs: tuple[str, ...]) -> tuple[list[str], Iterator[tuple]]:
        rows = list(self.select(text, graphs))
        names = list(rows[0]) if rows else []
        return names, (tuple(row.values()) for row in rows)

    def size(self, graph: str) -> int:
        rows = list(self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}", ()))
        return int(cast(str, rows[0]["n"])) if rows else 0  # a COUNT is always bound

    def end(self, graph: str) -> None:
        self.update(f"DROP SILENT GRAPH <{graph}>")

    def close(self) -> None:
        """Drop the KB graph if this run loaded it: the store is left as it was found."""
        if self._own_kb:
            self.update(f"DROP SILENT GRAPH <{self.kb_graph}>")
            self._own_kb = False
