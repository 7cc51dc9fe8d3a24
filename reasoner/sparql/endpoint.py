"""``spinekg serve``: the KB and loaded cases over the SPARQL 1.1 Protocol, Oxigraph behind a read-only guard."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import math
import shutil
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDFS, VOID

from ..api import as_case, default_reasoner, reason
from ..consts import SK
from ..errors import EndpointError, UsageError
from .backend import Backend
from .guard import CheckedQuery, Checkers, check_query
from .page import query_page
from .relay import GuardConfig, GuardServer

__all__ = ["CASE_GRAPH", "KB_GRAPH", "CheckedQuery", "Server", "check_query", "dataset", "serve"]

log = logging.getLogger("spinekg.serve")

#: The named graph of the knowledge base; each case is in ``CASE_GRAPH + id`` (its graph and its run).
KB_GRAPH = SK["graph/kb"]
CASE_GRAPH = "https://w3id.org/spinekg/graph/case/"
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
RESULT_FORMATS = ["SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV"]
RESULT_FORMATS += ["Turtle", "N-Triples", "RDF_XML", "JSON-LD"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (the only kind served without ``allow_remote``).

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def dataset(cases: list[Path] | tuple[Path, ...] = ()) -> dict[URIRef, Graph]:
    """The named graphs served: the KB, and per case its graph with the PROV-O record of its run.

    Each triple is stored once, so the union default graph has no duplicate rows: a triple of the KB only in
    the KB graph (a run's record repeats the KB slice it rests on), one shared by cases in the first case's.

    >>> graphs = dataset()
    >>> list(graphs) == [KB_GRAPH] and len(graphs[KB_GRAPH]) > 1000
    True
    """
    loaded = [as_case(c) for c in cases]
    first: dict[str, str] = {}
    for c in loaded:
        if c.id in first:
            raise UsageError(f"{c.source}: case id {c.id!r} is already the id of {first[c.id]}")
        first[c.id] = c.source
    kb = default_reasoner().kb  # the reasoner's own KB (the shared one): its blank nodes are the runs'
    graphs, seen = {KB_GRAPH: kb}, set(kb)
    for result in reason(loaded) if loaded else []:
        own = graphs[URIRef(CASE_GRAPH + result.case.id)] = Graph()
        for triple in result.provenance():
            if triple not in seen:
                own.add(triple)
                seen.add(triple)
    return graphs


def build_store(location: Path, graphs: dict[URIRef, Graph]) -> None:
    """Write ``graphs`` as named graphs into a new Oxigraph store at ``location``, in one load (blank nodes kept)."""
    quads = "".join(
        f"{line.removesuffix('.')}<{name}> .\n"
        for name, g in graphs.items()
        for line in g.serialize(format="nt", encoding="utf-8").decode().splitlines()
        if line.strip()
    )
    store = ox.Store(str(location))
    store.bulk_load(input=quads.encode(), format=ox.RdfFormat.N_QUADS)
    store.flush()
    del store


class Server:
    """The endpoint: Oxigraph read-only in a network namespace of its own, and the guard on ``host:port`` in front.

    >>> with Server(port=0) as server:
    ...     server.endpoint.endswith("/query") and server.store.is_dir()
    True
    """

    def __init__(
        self,
        cases: list[Path] | tuple[Path, ...] = (),
        host: str = "127.0.0.1",
        port: int = 7878,
        timeout_s: float = 10.0,
        max_rows: int = 10000,
        max_body: int = 100_000,
        allow_remote: bool = False,
        checkers: int = 2,
        max_result_bytes: int = 64_000_000,
        backend_memory_mb: int = 4096,
        request_deadline_s: float = 15.0,
        workers: int = 64,
        max_restarts: int = 3,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        if not is_loopback(host) and not allow_remote:
            raise UsageError(
                f"--host {host}: not a loopback address; the endpoint has no authentication, "
                "so it binds to another address only with --allow-remote"
            )
        limits = {"--timeout": timeout_s, "--max-rows": max_rows, "max body": max_body}
        limits |= {"--max-result-bytes": max_result_bytes, "--request-deadline": request_deadline_s}
        limits |= {"workers": workers, "checkers": checkers}
        for name, value in limits.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0 or value == math.inf:
                raise UsageError(f"{name} {value!r}: must be a positive finite number")
        if not isinstance(backend_memory_mb, int) or isinstance(backend_memory_mb, bool) or backend_memory_mb < 0:
            raise UsageError(f"--backend-memory {backend_memory_mb!r}: must be a whole number of MB (0: no limit)")
        self.cases, self.host, self.port = tuple(Path(c) for c in cases), host, port
        self.timeout_s, self.max_rows, self.max_body = timeout_s, max_rows, max_body
        self.max_result_bytes, self.backend_memory_mb = max_result_bytes, backend_memory_mb
        self.request_deadline_s, self.workers, self.max_restarts = request_deadline_s, workers, max_restarts
        self.checkers, self.on_failure = checkers, on_failure
        self.backend: Backend | None = None
        self._checkers: Checkers | None = None
        self._tmp: Path | None = None
        self._httpd: GuardServer | None = None
        self._thread: threading.Thread | None = None
        self.graphs: dict[URIRef, Graph] = {}

    @property
    def url(self) -> str:
        """The base URL (the query page); valid once started."""
        assert self._httpd is not None, "the server is not started"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._httpd.server_address[1]}/"

    @property
    def endpoint(self) -> str:
        """The SPARQL endpoint URL."""
        return self.url + "query"

    @property
    def store(self) -> Path:
        """The temporary store directory (removed at stop)."""
        assert self._tmp is not None, "the server is not started"
        return self._tmp / "store"

    @property
    def failure(self) -> str | None:
        """Why the endpoint stopped serving (its store kept dying), or None."""
        return self.backend.failure if self.backend is not None else None

    def start(self) -> str:
        """Listen on ``host:port`` (a taken port fails at once), build the store, start Oxigraph; the endpoint URL."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            self._httpd = GuardServer((self.host, self.port), family, self.workers)
        except OSError as exc:
            raise EndpointError(f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}") from exc
        try:
            self.graphs = dataset(self.cases)
            self._tmp = Path(tempfile.mkdtemp(prefix="spinekg-serve-"))
            build_store(self.store, self.graphs)
            self.backend = Backend(
                self.store,
                self._tmp / "oxigraph.log",
                self.timeout_s,
                self.backend_memory_mb,
                self.max_restarts,
                on_failure=self.on_failure,
                cleanup=self._tmp,
            )
            self.backend.start()
            self._checkers = Checkers(self.checkers)
        except BaseException:
            self.stop()
            raise
        self._httpd.guard = GuardConfig(
            self.backend,
            self._checkers,
            self.timeout_s,
            self.max_rows,
            self.max_body,
            self.max_result_bytes,
            self.request_deadline_s,
            self._service_description(),
            self._page(),
        )
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="spinekg-serve", daemon=True)
        self._thread.start()
        return self.endpoint

    def stop(self) -> None:
        """Stop the guard, Oxigraph and the checkers, and remove the store."""
        if self._httpd is not None:
            if self._thread is not None:
                self._httpd.shutdown()
            self._httpd.server_close()
        if self.backend is not None:
            self.backend.stop()
        if self._checkers is not None:
            self._checkers.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
        self._httpd = self._tmp = self._thread = self._checkers = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _service_description(self) -> Graph:
        """The SPARQL 1.1 Service Description: endpoint, formats, limits, and the named graphs with their sizes."""
        named = ", ".join(
            f"[ a sd:NamedGraph ; sd:name <{n}> ; sd:graph [ a sd:Graph ; void:triples {len(g)} ] ]"
            for n, g in self.graphs.items()
        )
        formats = ", ".join(f"formats:{f}" for f in RESULT_FORMATS)
        total = sum(len(g) for g in self.graphs.values())
        return Graph(bind_namespaces="none").parse(
            format="turtle",
            data=f"""@prefix sd: <{SD}> . @prefix void: <{VOID}> . @prefix formats: <{FORMATS}> .
            [] a sd:Service ; sd:endpoint <{self.endpoint}> ; sd:supportedLanguage sd:SPARQL11Query ;
              sd:resultFormat {formats} ; sd:feature sd:UnionDefaultGraph ;
              <{RDFS.comment}> {Literal(self._limits()).n3()} ;
              sd:defaultEntailmentRegime <http://www.w3.org/ns/entailment/Simple> ;
              sd:defaultDataset [ a sd:Dataset ; sd:defaultGraph [ a sd:Graph ; void:triples {total} ] ;
                sd:namedGraph {named} ] .""",
        )

    def _limits(self) -> str:
        return (
            "Read-only: SPARQL Update, LOAD and SERVICE are refused. Each query is checked and run within "
            f"{self.timeout_s:g} s (504) and SELECT/CONSTRUCT/DESCRIBE get LIMIT {self.max_rows}; request bodies over "
            f"{self.max_body} bytes are refused (413); an answer over {self.max_result_bytes} bytes ends early "
            "(507 if it is short enough to be checked whole, else a stream without its last chunk). "
            "The default graph is the union of the named graphs."
        )

    def _page(self) -> bytes:
        return query_page({str(n): len(g) for n, g in self.graphs.items()}, self._limits())


def serve(
    cases: list[Path] | tuple[Path, ...] = (),
    host: str = "127.0.0.1",
    port: int = 7878,
    timeout_s: float = 10.0,
    max_rows: int = 10000,
    allow_remote: bool = False,
    stop: threading.Event | None = None,
    **limits: Any,
) -> int:
    """Serve until SIGINT, SIGTERM or SIGHUP (or until ``stop`` is set), printing the endpoint and query page URLs.

    Returns 0 once the guard, Oxigraph and the checkers have stopped and the store is removed; raises
    EndpointError (exit status 1) if the store kept dying. ``limits`` are :class:`Server`'s other options.

    >>> done = threading.Event()
    >>> done.set()
    >>> serve(port=0, stop=done)  # doctest: +ELLIPSIS
    SPARQL endpoint: http://127.0.0.1:.../query
    query page: http://127.0.0.1:.../
    0
    """
    done = stop or threading.Event()
    failed: list[str] = []

    def on_failure(message: str) -> None:
        failed.append(message)
        done.set()

    with _stopped_by_signals(done):
        with Server(
            cases, host, port, timeout_s, max_rows, allow_remote=allow_remote, on_failure=on_failure, **limits
        ) as server:
            print(f"SPARQL endpoint: {server.endpoint}\nquery page: {server.url}", flush=True)
            if server.backend is not None and not server.backend.isolated:
                print(
                    "spinekg: warning: the store listens on a loopback port of this host (no network namespace "
                    "could be made): local processes can query it past the guard",
                    file=sys.stderr,
                    flush=True,
                )
            while not done.wait(1.0):
                pass
    if failed:
        raise EndpointError(failed[0])
    return 0


@contextlib.contextmanager
def _stopped_by_signals(done: threading.Event) -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP set ``done`` (so the endpoint stops and cleans up) while the block runs."""
    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    try:
        before = {s: signal.signal(s, lambda *_: done.set()) for s in handled}
    except ValueError:  # not the main thread: signals are the caller's business
        before = {}
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
