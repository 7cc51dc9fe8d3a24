"""``spinekg serve``: the KB and loaded cases over the SPARQL 1.1 Protocol, Oxigraph behind a read-only guard."""

from __future__ import annotations

import argparse
import html
import http.client
import ipaddress
import logging
import math
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pyoxigraph as ox
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDFS, VOID

from ..api import as_case, default_reasoner, reason
from ..consts import PREFIXES, SK
from ..errors import EndpointError, UsageError
from .guard import CheckedQuery, Checkers, check_query

__all__ = ["CASE_GRAPH", "KB_GRAPH", "CheckedQuery", "Server", "check_query", "cli_serve", "dataset", "serve"]

log = logging.getLogger("spinekg.serve")

#: The named graph of the knowledge base; each case is in ``CASE_GRAPH + id`` (its graph and its run).
KB_GRAPH = SK["graph/kb"]
CASE_GRAPH = "https://w3id.org/spinekg/graph/case/"
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
RESULT_FORMATS = ["SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV"]
RESULT_FORMATS += ["Turtle", "N-Triples", "RDF_XML", "JSON-LD"]
#: ``format=`` values a browser form may send instead of an Accept header.
FORMAT_PARAM = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "rdfxml": "application/rdf+xml",
    "jsonld": "application/ld+json",
}
SD_FORMATS = {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml"}
SD_FORMATS["application/ld+json"] = "json-ld"
CANCELLED = b"The SPARQL operation has been cancelled"


def preferred(accept: str, offered: list[str]) -> str:
    """The offered media type the Accept header ranks highest (ties and wildcards: the first offered).

    >>> preferred("text/turtle;q=0.5, application/rdf+xml", ["text/turtle", "application/rdf+xml"])
    'application/rdf+xml'
    >>> preferred("", ["text/turtle", "application/rdf+xml"])
    'text/turtle'
    >>> preferred("text/turtle;q=., application/rdf+xml;q=0.5", ["application/rdf+xml", "text/turtle"])
    'text/turtle'
    """
    ranks = {}
    for item in accept.split(","):
        media, _, params = item.strip().partition(";")
        q = re.search(r"q=([0-9]+(?:\.[0-9]*)?|\.[0-9]+)", params)  # a malformed q counts as 1
        ranks[media.strip().lower()] = float(q.group(1)) if q else 1.0
    wild = max(ranks.get("*/*", 0.0), 0.0 if ranks else 1.0)
    return max(offered, key=lambda m: (ranks.get(m, ranks.get(m.split("/")[0] + "/*", wild)), -offered.index(m)))


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


def oxigraph_binary() -> str:
    """The ``oxigraph`` server (``pip install oxigraph``): beside this Python first, then on the PATH.

    >>> Path(oxigraph_binary()).name.startswith("oxigraph")
    True
    """
    here = Path(sys.executable).parent / "oxigraph"
    found = str(here) if here.is_file() else shutil.which("oxigraph")
    if not found:
        raise EndpointError("the oxigraph server was not found beside Python or on the PATH: pip install oxigraph")
    return found


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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The endpoint: Oxigraph read-only on a private loopback port, and the guard on ``host:port`` in front.

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
    ) -> None:
        if not is_loopback(host) and not allow_remote:
            raise UsageError(
                f"--host {host}: not a loopback address; the endpoint has no authentication, "
                "so it binds to another address only with --allow-remote"
            )
        if timeout_s <= 0 or max_rows < 1 or max_body < 1:
            raise UsageError(f"timeout ({timeout_s}), max rows ({max_rows}) and max body must be positive")
        self.cases, self.host, self.port = tuple(Path(c) for c in cases), host, port
        self.timeout_s, self.max_rows, self.max_body = timeout_s, max_rows, max_body
        self.checkers = checkers
        self._checkers: Checkers | None = None
        self._tmp: Path | None = None
        self._proc: subprocess.Popen | None = None
        self._httpd: ThreadingHTTPServer | None = None
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

    def start(self) -> str:
        """Listen on ``host:port`` (a taken port fails at once), build the store, start Oxigraph; the endpoint URL."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        httpd = type("GuardServer", (ThreadingHTTPServer,), {"address_family": family, "daemon_threads": True})
        try:
            self._httpd = httpd((self.host, self.port), _Guard)
        except OSError as exc:
            raise EndpointError(f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}") from exc
        try:
            self.graphs = dataset(self.cases)
            self._tmp = Path(tempfile.mkdtemp(prefix="spinekg-serve-"))
            build_store(self.store, self.graphs)
            upstream = self._start_oxigraph()
            self._checkers = Checkers(self.checkers)
        except BaseException:
            self.stop()
            raise
        self._httpd.guard = _GuardConfig(  # type: ignore[attr-defined]
            upstream, self.timeout_s, self.max_rows, self.max_body, self._service_description(), self._page()
        )
        self._httpd.checkers = self._checkers  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="spinekg-serve", daemon=True)
        self._thread.start()
        return self.endpoint

    def _start_oxigraph(self) -> int:
        """Start ``oxigraph serve-read-only`` on a free loopback port; a port taken meanwhile is retried."""
        assert self._tmp is not None
        logfile = self._tmp / "oxigraph.log"
        for _ in range(3):
            port = _free_port()
            cmd = [oxigraph_binary(), "serve-read-only", "--location", str(self.store), "--bind", f"127.0.0.1:{port}"]
            cmd += ["--union-default-graph", "--timeout-s", str(math.ceil(self.timeout_s) + 1)]
            with logfile.open("ab") as out:
                self._proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + 20
            while self._proc.poll() is None and time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    return port
                except OSError:
                    time.sleep(0.05)
            self._stop_oxigraph()
        tail = logfile.read_text(errors="replace")[-2000:]
        raise EndpointError(f"oxigraph serve-read-only did not start (log {logfile}):\n{tail}")

    def _stop_oxigraph(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        self._proc = None

    def stop(self) -> None:
        """Stop the guard and Oxigraph, and remove the store."""
        if self._httpd is not None:
            if self._thread is not None:
                self._httpd.shutdown()
            self._httpd.server_close()
        self._stop_oxigraph()
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
            f"{self.max_body} bytes are refused (413). The default graph is the union of the named graphs."
        )

    def _page(self) -> bytes:
        prefixes = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in ("sk", "prov", "rdfs"))
        example = f"{prefixes}SELECT ?case (COUNT(?step) AS ?steps) WHERE {{\n"
        example += "  ?step a sk:PlanStep ; prov:wasGeneratedBy ?run .\n  ?run prov:used ?case .\n  ?case a sk:Case .\n"
        example += "} GROUP BY ?case"
        graphs = "".join(
            f"<li><code>{html.escape(str(n))}</code> ({len(g)} triples)</li>" for n, g in self.graphs.items()
        )
        return PAGE.format(example=html.escape(example), graphs=graphs, limits=html.escape(self._limits())).encode()


@dataclass(frozen=True)
class _GuardConfig:
    upstream: int
    timeout_s: float
    max_rows: int
    max_body: int
    description: Graph
    page: bytes


class _Guard(BaseHTTPRequestHandler):
    """One request: refuse what must not run, forward the rest to Oxigraph under the time limit."""

    server_version = "spinekg-serve"
    protocol_version = "HTTP/1.1"
    timeout = 60  # seconds a client may take to send its request

    @property
    def cfg(self) -> _GuardConfig:
        return self.server.guard  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def send(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8", **headers: str) -> None:
        self._sent = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def handle_one_request(self) -> None:
        """http.server's request loop, with any unforeseen error answered 500 (and logged) instead of a dropped
        connection and a traceback on the console."""
        self._sent = False
        try:
            super().handle_one_request()
        except OSError:  # the client went away
            self.close_connection = True
        except Exception:  # a bug in the guard: the client still gets a status, the server keeps serving
            log.exception("internal error answering %s", getattr(self, "requestline", "?"))
            self.close_connection = True
            if not getattr(self, "_sent", False):
                try:
                    self.send(500, b"internal error of the endpoint's guard (logged)\n")
                except OSError:
                    pass

    def do_GET(self) -> None:  # http.server's naming
        url = urlsplit(self.path)
        if url.path in ("/", "/index.html"):
            return self.send(200, self.cfg.page, "text/html; charset=utf-8")
        self.handle_sparql(url.path, parse_qsl(url.query, keep_blank_values=True))

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        params = parse_qsl(url.query, keep_blank_values=True)
        length = self.headers.get("Content-Length")
        if length is None or not re.fullmatch(r"[0-9]{1,15}", length.strip()):  # str.isdigit() takes '²'
            self.close_connection = True
            return self.send(411, b"a POST needs a Content-Length (a decimal number of bytes)\n")
        if int(length) > self.cfg.max_body:
            self.close_connection = True
            return self.send(413, f"request body over {self.cfg.max_body} bytes\n".encode())
        body = self.rfile.read(int(length))
        if len(body) < int(length):
            self.close_connection = True
            return self.send(400, b"the request body ended before its Content-Length\n")
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        try:
            if ctype == "application/x-www-form-urlencoded":
                params += parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            elif ctype == "application/sparql-query":
                params.append(("query", body.decode("utf-8")))
            elif ctype == "application/sparql-update":
                params.append(("update", ""))
            elif url.path in ("/query", "/sparql"):
                return self.send(
                    415,
                    f"unsupported Content-Type {ctype!r}: send a query as "
                    "application/sparql-query or application/x-www-form-urlencoded\n".encode(),
                )
        except UnicodeDecodeError:
            return self.send(400, b"the request body is not UTF-8\n")
        self.handle_sparql(url.path, params)

    def handle_sparql(self, path: str, params: list[tuple[str, str]]) -> None:
        if path == "/update" or any(k == "update" for k, _ in params):
            return self.send(403, b"read-only endpoint: SPARQL Update is refused\n")
        if path not in ("/query", "/sparql"):
            return self.send(404, b"not found: the endpoint is /query, the query page /\n")
        queries = [v for k, v in params if k == "query"]
        if not queries:
            return self.describe()
        if len(queries) > 1:
            return self.send(400, b"more than one query parameter\n")
        deadline = time.monotonic() + self.cfg.timeout_s  # the check and the run share the time limit
        try:
            checked = self.server.checkers.check(queries[0], self.cfg.max_rows, self.cfg.timeout_s)  # type: ignore
        except EndpointError as exc:
            return self.send(exc.status or 400, f"{exc}\n".encode())
        accept = self.headers.get("Accept", "").strip()
        if accept in ("", "*/*") or "text/html" in accept:  # a browser's form: format= says what it wants
            accept = FORMAT_PARAM.get(dict(params).get("format", ""), "*/*")
        dataset_params = [(k, v) for k, v in params if k in ("default-graph-uri", "named-graph-uri")]
        self.forward(checked, accept, urlencode([("query", checked.text), *dataset_params]).encode(), deadline)

    def describe(self) -> None:
        media = preferred(self.headers.get("Accept", ""), list(SD_FORMATS))
        body = self.cfg.description.serialize(format=SD_FORMATS[media], encoding="utf-8")
        self.send(200, body, media)

    def forward(self, checked: CheckedQuery, accept: str, body: bytes, deadline: float) -> None:
        """Send the query to Oxigraph and relay its whole answer, or 504 once the time limit has passed."""
        if deadline - time.monotonic() <= 0.001:
            return self.send(504, f"the query ran over the time limit of {self.cfg.timeout_s:g} s\n".encode())
        conn = http.client.HTTPConnection("127.0.0.1", self.cfg.upstream, timeout=deadline - time.monotonic())
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept}
        try:
            conn.request("POST", "/query", body, headers)
            resp = conn.getresponse()
            chunks = []
            while chunk := resp.read1(1 << 16):
                chunks.append(chunk)
                if conn.sock is not None:
                    conn.sock.settimeout(max(0.001, deadline - time.monotonic()))
            data = b"".join(chunks)
        except TimeoutError:
            return self.send(504, f"the query ran over the time limit of {self.cfg.timeout_s:g} s\n".encode())
        except OSError as exc:
            return self.send(502, f"the store did not answer: {exc}\n".encode())
        finally:
            conn.close()
        ctype = resp.getheader("Content-Type", "application/octet-stream")
        if resp.status == 200 and (problem := _broken(data, ctype)):
            status = 504 if data.rstrip().endswith(CANCELLED) else 502
            return self.send(status, f"the store's answer was cut short: {problem}\n".encode())
        extra = {"Spinekg_Result_Limit": str(self.cfg.max_rows)} if checked.limited else {}
        self.send(resp.status, data, ctype, **extra)


def _broken(data: bytes, ctype: str) -> str | None:
    """Why an answer is not well formed (a cancelled stream), or None; CSV cannot be parsed, only its end checked."""
    media = ctype.split(";")[0].strip()
    try:
        if media == "text/csv":
            return "cancelled" if data.rstrip().endswith(CANCELLED) else None
        results = ox.QueryResultsFormat.from_media_type(media)
        if results is not None:
            parsed = ox.parse_query_results(data, results)
            _ = parsed if isinstance(parsed, ox.QueryBoolean) else list(parsed)
            return None
        rdf = ox.RdfFormat.from_media_type(media)
        if rdf is not None:
            list(ox.parse(data, rdf))
    except SyntaxError as exc:
        return str(exc)
    return None


def serve(
    cases: list[Path] | tuple[Path, ...] = (),
    host: str = "127.0.0.1",
    port: int = 7878,
    timeout_s: float = 10.0,
    max_rows: int = 10000,
    allow_remote: bool = False,
    stop: threading.Event | None = None,
) -> int:
    """Serve until Ctrl-C (or until ``stop`` is set), printing the endpoint and query page URLs; return 0.

    >>> done = threading.Event()
    >>> done.set()
    >>> serve(port=0, stop=done)  # doctest: +ELLIPSIS
    SPARQL endpoint: http://127.0.0.1:.../query
    query page: http://127.0.0.1:.../
    0
    """
    with Server(cases, host, port, timeout_s, max_rows, allow_remote=allow_remote) as server:
        print(f"SPARQL endpoint: {server.endpoint}\nquery page: {server.url}", flush=True)
        try:
            (stop or threading.Event()).wait()
        except KeyboardInterrupt:
            pass
    return 0


def cli_serve(args: argparse.Namespace) -> int:
    """``spinekg serve [--case FILE …] [--host H] [--port N] [--timeout S] [--max-rows N] [--allow-remote]``.

    >>> cli_serve(argparse.Namespace(case=[], host="0.0.0.0", port=0, timeout=10, max_rows=10000))
    Traceback (most recent call last):
    ...
    reasoner.errors.UsageError: --host 0.0.0.0: not a loopback address; ...
    """
    return serve(
        cases=list(getattr(args, "case", None) or []),
        host=getattr(args, "host", "127.0.0.1"),
        port=getattr(args, "port", 7878),
        timeout_s=getattr(args, "timeout", 10.0),
        max_rows=getattr(args, "max_rows", 10000),
        allow_remote=getattr(args, "allow_remote", False),
    )


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>spinekg SPARQL endpoint</title>
<style>body{{font-family:sans-serif;margin:1.5em;max-width:70em}}textarea{{width:100%;font-family:monospace}}
table{{border-collapse:collapse}}td,th{{border:1px solid #aaa;padding:2px 6px;font-size:90%;text-align:left}}
pre{{background:#f4f4f4;padding:.5em;overflow:auto}}</style></head>
<body><h1>spinekg SPARQL endpoint</h1>
<p>SPARQL 1.1 Protocol at <code>query</code> (GET or POST). {limits}</p>
<form id="f" method="get" action="query">
<textarea name="query" id="q" rows="12">{example}</textarea><br>
<label>format <select name="format" id="fmt"><option value="json">JSON</option><option value="xml">XML</option>
<option value="csv">CSV</option><option value="tsv">TSV</option><option value="ttl">Turtle (CONSTRUCT/DESCRIBE)</option>
</select></label> <button type="submit">Run</button></form>
<div id="out"></div>
<h2>Named graphs</h2><ul>{graphs}</ul>
<script>
const types = {{json: "application/sparql-results+json", xml: "application/sparql-results+xml",
  csv: "text/csv", tsv: "text/tab-separated-values", ttl: "text/turtle"}};
document.getElementById("f").addEventListener("submit", async (e) => {{
  e.preventDefault();
  const out = document.getElementById("out");
  out.textContent = "running…";
  const r = await fetch("query", {{method: "POST", body: document.getElementById("q").value,
    headers: {{"Content-Type": "application/sparql-query", "Accept": types[document.getElementById("fmt").value]}}}});
  const text = await r.text();
  out.replaceChildren();
  const ct = r.headers.get("Content-Type") || "";
  if (r.ok && ct.startsWith("application/sparql-results+json") && JSON.parse(text).results) {{
    const res = JSON.parse(text), table = document.createElement("table"), head = table.insertRow();
    for (const v of res.head.vars) head.appendChild(document.createElement("th")).textContent = v;
    for (const b of res.results.bindings) {{
      const row = table.insertRow();
      for (const v of res.head.vars) row.insertCell().textContent = b[v] ? b[v].value : "";
    }}
    out.append(`${{res.results.bindings.length}} rows`, table);
  }} else {{
    out.appendChild(document.createElement("pre")).textContent = `${{r.status}} ${{r.statusText}}\\n${{text}}`;
  }}
}});
</script></body></html>
"""
