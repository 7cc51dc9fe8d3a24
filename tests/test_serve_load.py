"""``spinekg serve`` under load and abuse: correct answers from concurrent clients, refusals with the right status.

One ``spinekg serve`` process (started by the module, on 127.0.0.1, stopped by it) takes the abuse first:
updates, LOAD, SERVICE (to a documentation address the guard refuses before anything runs), queries built to
run or to be checked forever, more rows than the limit, malformed and oversized requests; after each, a known
query must still be answered correctly, and nothing may have connected to the loopback listener. Then a
bounded load (``CLIENTS`` clients for ``SECONDS`` s, stopping by themselves) must get every answer right with
no error; its request count and latency percentiles are printed and written to ``$SPINEKG_LOAD_REPORT``.
"""

from __future__ import annotations

import csv
import hashlib
import http.client
import io
import json
import os
import select
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from rdflib import URIRef

from reasoner.api import reason
from reasoner.consts import RDF, RDFS, SK
from reasoner.errors import EndpointError
from reasoner.kb.load import shared_kb
from reasoner.sparql.endpoint import check_query

from constants import DATA

ROOT = Path(__file__).resolve().parent.parent
CASES = [DATA / "serve" / "case-l5-radiculopathy.yaml", ROOT / "examples" / "redflag-cauda-equina.yaml"]
TIMEOUT_S = 3
MAX_ROWS = 50
CLIENTS = 8
SECONDS = 10
MAX_REQUESTS_PER_CLIENT = 5000
PREFIXES = (
    "PREFIX sk: <https://w3id.org/spinekg/>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    "PREFIX prov: <http://www.w3.org/ns/prov#>\n"
)
JSON = "application/sparql-results+json"
# a cross product of all triples that no pair passes: runs far longer than the time limit
LONG = 'SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . FILTER(STR(?c) = CONCAT(STR(?f), "-never")) }'
# rdflib's parser takes about a millisecond per term of this chain: the guard's check runs past the limit
SLOW_TO_CHECK = "ASK { FILTER(1" + " + 1" * 20_000 + " > 0) }"


# --- the server and what it must answer ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    """``spinekg serve`` in its own process; yields its endpoint URL, and checks the case files are untouched."""
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in CASES}
    cmd = [sys.executable, "-m", "reasoner", "serve", "--port", "0", "--case", *map(str, CASES)]
    cmd += ["--timeout", str(TIMEOUT_S), "--max-rows", str(MAX_ROWS)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 180)
        line = proc.stdout.readline() if ready else ""
        assert line.startswith("SPARQL endpoint: "), (line, proc.poll())
        yield line.removeprefix("SPARQL endpoint: ").strip()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait(10)
    assert code == 0, proc.stderr.read()[-3000:]
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in CASES} == before


@pytest.fixture(scope="module")
def expected():
    """Known queries and their answers, computed in this process: from the plans and from the KB with rdflib."""
    results = reason(CASES)
    kb = shared_kb()
    first = {r.case.id: r.plan.steps[0].recommendations for r in results}
    per_case = {f"https://w3id.org/spinekg/case/{r.case.id}": len(r.plan.steps) for r in results}
    flagged = sorted(f"https://w3id.org/spinekg/case/{r.case.id}" for r in results if r.plan.red_flags)
    labels = sorted(str(o) for o in kb.objects(SK.nsaid, RDFS.label))
    recs = len(set(kb.subjects(RDF.type, SK.Recommendation)))
    case_id = results[0].case.id
    return [
        (
            "steps per case",
            "SELECT ?case (COUNT(?step) AS ?n) WHERE { ?step a sk:PlanStep ; prov:wasGeneratedBy ?run . "
            "?run prov:used ?case . ?case a sk:Case } GROUP BY ?case",
            lambda rows: {r["case"]: int(r["n"]) for r in rows} == per_case,
        ),
        (
            "first step's recommendations",
            f"SELECT ?rec WHERE {{ <https://w3id.org/spinekg/case/{case_id}/step/1> prov:wasDerivedFrom ?rec . "
            "?rec a sk:Recommendation } ORDER BY ?rec",
            lambda rows: [r["rec"] for r in rows] == sorted(first[case_id]),
        ),
        (
            "cases with a red flag",
            "SELECT DISTINCT ?case WHERE { ?f a sk:cauda_equina_syndrome_suspected ; sk:inCase ?case } ORDER BY ?case",
            lambda rows: [r["case"] for r in rows] == flagged,
        ),
        (
            "label of nsaid",
            "SELECT ?label WHERE { sk:nsaid rdfs:label ?label } ORDER BY ?label",
            lambda rows: [r["label"] for r in rows] == labels,
        ),
        (
            "recommendations in the KB",
            "SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE { ?r a sk:Recommendation }",
            lambda rows: [int(r["n"]) for r in rows] == [recs],
        ),
    ]


class Client:
    """One keep-alive HTTP connection to the endpoint (reopened when the server closes it)."""

    def __init__(self, endpoint: str) -> None:
        url = urlsplit(endpoint)
        self.host, self.port, self.path = url.hostname, url.port, url.path
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, target: str, body: bytes | None = None, headers: dict | None = None):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, target, body, headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
                continue
            if resp.getheader("Connection", "").lower() == "close":
                self.close()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        raise AssertionError("unreachable")

    def query(self, text: str, accept: str = JSON):
        return self.request("GET", f"{self.path}?{urlencode({'query': text})}", headers={"Accept": accept})

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None


def bindings(body: bytes) -> list[dict]:
    return [{k: v["value"] for k, v in b.items()} for b in json.loads(body)["results"]["bindings"]]


def answers_right(client: Client, expected) -> None:
    for name, query, right in expected:
        status, _, body = client.query(PREFIXES + query)
        assert status == 200 and right(bindings(body)), (name, status, body[:500])


@pytest.fixture(scope="module")
def listener():
    """A loopback port that records whether anything connected to it (a SERVICE, LOAD or FROM target)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.05)
    try:
        yield sock
    finally:
        sock.close()


def connected(listener: socket.socket) -> bool:
    try:
        listener.accept()[0].close()
    except TimeoutError:
        return False
    return True


# --- abuse -----------------------------------------------------------------------------------------------------


def raw(endpoint: str, data: bytes, shut: bool = False) -> int:
    """Send ``data`` on a fresh connection and return the HTTP status of the answer (0: none)."""
    url = urlsplit(endpoint)
    head = b""
    with socket.create_connection((url.hostname, url.port), timeout=60) as sock:
        try:
            sock.sendall(data)
            if shut:
                sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server answered and closed before reading all of an oversized request
            pass
        try:
            while b"\r\n" not in head and (chunk := sock.recv(4096)):
                head += chunk
        except ConnectionResetError:
            pass
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def request_line(target: str, *headers: bytes, body: bytes = b"", method: bytes = b"GET") -> bytes:
    return b"%s %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n%s" % (method, target.encode(), b"".join(headers), body)


def post(query: str, ctype: str = "application/sparql-query") -> bytes:
    body = query.encode()
    return request_line(
        "/query",
        b"Content-Type: %s\r\n" % ctype.encode(),
        b"Content-Length: %d\r\n" % len(body),
        b"Accept: application/sparql-results+json\r\n",
        body=body,
        method=b"POST",
    )


def get(query: str) -> bytes:
    return request_line(f"/query?{urlencode({'query': query})}", b"Accept: application/sparql-results+json\r\n")


DOC = "http://192.0.2.1/sparql"  # TEST-NET-1: only ever inside a request the guard refuses before it runs
#: Requests naming another host: the guard must refuse each (403) before anything runs.
OUTSIDE = {
    "SERVICE": ("query", f"SELECT * WHERE {{ SERVICE <{DOC}> {{ ?s ?p ?o }} }}"),
    "SERVICE SILENT from VALUES": (
        "query",
        f"SELECT * WHERE {{ VALUES ?e {{ <{DOC}> }} SERVICE SILENT ?e {{ ?s ?p ?o }} }}",
    ),
    "SERVICE unicode-escaped": ("query", f"SELECT * WHERE {{ \\u0053ERVICE <{DOC}> {{ ?s ?p ?o }} }}"),
    "SERVICE in a subquery": ("query", f"ASK {{ {{ SELECT * WHERE {{ SERVICE <{DOC}> {{ ?s ?p ?o }} }} }} }}"),
    "LOAD": ("update", f"LOAD <{DOC}> INTO GRAPH <urn:g>"),
    "LOAD SILENT as a query": ("query", f"LOAD SILENT <{DOC}>"),
}
ABUSE = {
    # updates, however sent
    "update endpoint": (lambda: post("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "application/sparql-update"), 403),
    "update form field": (lambda: post(urlencode({"update": "DROP ALL"}), "application/x-www-form-urlencoded"), 403),
    "update as a query": (lambda: get("CLEAR DEFAULT"), 403),
    # malformed
    "syntax error": (lambda: get("SELECT * WHERE { ?s ?p"), 400),
    "empty query": (lambda: get(""), 400),
    "only a prefix": (lambda: get("PREFIX a: <urn:a>"), 400),
    "nested too deeply": (lambda: post("ASK { FILTER(" + "(" * 3000 + "1" + ")" * 3000 + ") }"), 400),
    "lone surrogate escape": (lambda: get('SELECT * WHERE { ?s ?p "\\uD800" }'), 400),
    "body not UTF-8": (lambda: post("SELECT * WHERE { ?s ?p ?o }").replace(b"?o }", b"\xff\xfe }"), 400),
    "two queries": (lambda: request_line("/query?query=ASK%7B%7D&query=ASK%7B%7D"), 400),
    "unknown path": (lambda: request_line("/../../etc/passwd"), 404),
    "PUT": (lambda: request_line("/query", b"Content-Length: 0\r\n", method=b"PUT"), 501),
    "content type": (lambda: post("SELECT * {}", "text/plain"), 415),
    "malformed Accept": (lambda: request_line("/query", b"Accept: text/turtle;q=.\r\n"), 200),
    # oversized
    "body over the limit": (lambda: post("SELECT * WHERE { ?s ?p ?o } #" + "x" * 200_000), 413),
    "URL over 64 kB": (lambda: get("SELECT * WHERE { ?s ?p ?o } #" + "x" * 70_000), 414),
    "too many headers": (lambda: request_line("/", *(b"X-%d: y\r\n" % i for i in range(150))), 431),
    "header line over 64 kB": (lambda: request_line("/", b"X: " + b"y" * 70_000 + b"\r\n"), 431),
    "Content-Length '\xb2'": (lambda: post("ASK {}").replace(b"Content-Length: 6", b"Content-Length: \xb2"), 411),
    "Content-Length of 5000 digits": (
        lambda: post("ASK {}").replace(b"Content-Length: 6", b"Content-Length: " + b"9" * 5000),
        411,
    ),
    # limits
    "built to be checked forever": (lambda: post(SLOW_TO_CHECK), 504),
}


@pytest.mark.parametrize("name", list(OUTSIDE))
def test_a_request_naming_another_host_is_refused_before_anything_runs(server, expected, name):
    kind, text = OUTSIDE[name]
    with pytest.raises(EndpointError) as refused:  # the guard's check alone refuses it: nothing is run
        check_query(text, MAX_ROWS)
    assert refused.value.status == 403
    request = post(text, "application/sparql-update") if kind == "update" else get(text)
    assert raw(server, request) == 403
    answers_right(Client(server), expected)


@pytest.mark.parametrize("name", list(ABUSE))
def test_abuse_is_refused_with_its_status_and_the_server_stays_healthy(server, expected, listener, name):
    build, status = ABUSE[name]
    assert raw(server, build()) == status
    answers_right(Client(server), expected)
    assert not connected(listener)


def test_a_body_shorter_than_its_content_length_is_400_once_the_client_stops_sending(server, expected):
    short = post("ASK { ?s ?p ?o }").replace(b"Content-Length: 16", b"Content-Length: 99")
    assert raw(server, short, shut=True) == 400
    answers_right(Client(server), expected)


def test_from_and_default_graph_uri_fetch_nothing(server, listener):
    """Oxigraph takes FROM and default-graph-uri as names of graphs in its store (with the union default graph
    it answers from every graph): it never dereferences them."""
    there = f"http://127.0.0.1:{listener.getsockname()[1]}/graph"
    client = Client(server)
    status, _, body = client.query(f"SELECT * FROM <{there}> FROM NAMED <{there}> WHERE {{ ?s ?p ?o }}")
    assert status == 200 and len(bindings(body)) <= MAX_ROWS
    target = f"{client.path}?{urlencode({'query': 'ASK { ?s ?p ?o }', 'default-graph-uri': there})}"
    assert client.request("GET", target, headers={"Accept": JSON})[0] == 200
    assert not connected(listener)


def test_more_rows_than_the_limit_are_cut_to_the_limit(server):
    status, headers, body = Client(server).query("SELECT * WHERE { ?s ?p ?o } LIMIT 100000000000000000000")
    assert status == 200 and len(bindings(body)) == MAX_ROWS
    assert headers["spinekg-result-limit"] == str(MAX_ROWS)


def test_queries_built_to_run_forever_stop_at_the_limit_while_others_are_answered(server, expected):
    outcomes: list[int] = []

    def long_query() -> None:
        outcomes.append(Client(server).query(LONG)[0])

    threads = [threading.Thread(target=long_query) for _ in range(2)]
    threads.append(threading.Thread(target=lambda: outcomes.append(raw(server, post(SLOW_TO_CHECK)))))
    for t in threads:
        t.start()
    time.sleep(0.3)
    answers_right(Client(server), expected)  # while three requests run into the time limit
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == [504] * 3
    answers_right(Client(server), expected)


# --- load ------------------------------------------------------------------------------------------------------


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def test_bounded_load_from_loopback_gets_every_answer_right(server, expected, record_property):
    """CLIENTS clients, each cycling through the known queries (JSON, and CSV for one), for SECONDS seconds."""
    stop_at = time.monotonic() + SECONDS
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    errors: list[str] = []

    def client(n: int) -> None:
        c = Client(server)
        for i in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= stop_at:
                break
            name, query, right = expected[(n + i) % len(expected)]
            as_csv = name == "recommendations in the KB" and i % 2
            start = time.perf_counter()
            try:
                status, _, body = c.query(PREFIXES + query, "text/csv" if as_csv else JSON)
                latencies[n].append(time.perf_counter() - start)
                rows = list(csv.DictReader(io.StringIO(body.decode()))) if as_csv else bindings(body)
                if status != 200 or not right(rows):
                    errors.append(f"{name}: {status} {body[:200]!r}")
            except Exception as exc:  # a failed request is an error of the run, not of the test's thread
                errors.append(f"{name}: {exc!r}")
        c.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(SECONDS + 120)
    elapsed = time.monotonic() - started
    flat = sorted(x for lat in latencies for x in lat)
    figures = {
        "clients": CLIENTS,
        "seconds": round(elapsed, 1),
        "requests": len(flat),
        "errors": len(errors),
        "requests_per_second": round(len(flat) / elapsed, 1),
        "latency_ms": {f"p{p}": round(1000 * percentile(flat, p), 1) for p in (50, 95, 99)} if flat else {},
    }
    print("\nendpoint load:", json.dumps(figures))
    for key, value in figures.items():
        record_property(key, value)
    if os.environ.get("SPINEKG_LOAD_REPORT"):
        Path(os.environ["SPINEKG_LOAD_REPORT"]).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    assert not any(t.is_alive() for t in threads), "a client did not stop"
    assert errors == [], errors[:10]
    assert len(flat) >= CLIENTS * len(expected)  # every client got through the queries at least once
    answers_right(Client(server), expected)


def test_every_query_of_the_load_has_a_different_known_answer(expected):
    """The load's answers are checked against in-process results that are not empty or trivially equal."""
    results = reason(CASES)
    assert all(r.plan.steps for r in results) and any(r.plan.red_flags for r in results)
    assert not all(r.plan.red_flags for r in results)
    assert len({q for _, q, _ in expected}) == len(expected)
    assert URIRef(SK.nsaid) in set(shared_kb().subjects(RDFS.label, None))
