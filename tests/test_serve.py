"""spinekg serve: the SPARQL 1.1 Protocol over the KB and a case, the read-only guard, the time and row limits."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from argparse import Namespace
from html.parser import HTMLParser
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode
from xml.dom.minidom import Document
from xml.etree import ElementTree

import psutil
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS
from SPARQLWrapper import JSON, XML, SPARQLWrapper

from reasoner.api import reason
from reasoner.cli.serve import cli_serve
from reasoner.consts import SK
from reasoner.errors import EndpointError, UsageError
from reasoner.sparql.endpoint import CASE_GRAPH, KB_GRAPH, SD, Server, check_query

from constants import DATA

SERVE = DATA / "serve"
CASE = SERVE / "case-l5-radiculopathy.yaml"
CASE_ID = "serve-l5-radiculopathy"
TIMEOUT_S = 1.5
MAX_ROWS = 5
RESULTS = "http://www.w3.org/2005/sparql-results#"
PREFIXES = "PREFIX sk: <https://w3id.org/spinekg/>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
COUNT_STEPS = PREFIXES + "SELECT (COUNT(?step) AS ?n) WHERE { ?step a sk:PlanStep }"
# a cross product of all triples that no pair passes: runs far longer than the time limit
LONG = 'SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . FILTER(STR(?c) = CONCAT(STR(?f), "-never")) }'
ACCEPT = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}


@pytest.fixture(scope="module")
def server():
    s = Server([CASE], port=0, timeout_s=TIMEOUT_S, max_rows=MAX_ROWS)
    s.start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def plan_steps() -> int:
    return len(reason([CASE])[0].plan.steps)


@pytest.fixture(scope="module")
def listener():
    """A TCP port that records whether anything connected to it (a SERVICE or LOAD target)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield sock
    finally:
        sock.close()


def connected(listener: socket.socket, wait: float = 0.05) -> bool:
    """Whether something connected (a forwarded request connects before its answer comes back, so no long wait)."""
    listener.settimeout(wait)
    try:
        conn, _ = listener.accept()
    except TimeoutError:
        return False
    conn.close()
    return True


def http(url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def get(server: Server, query: str, accept: str = ACCEPT["json"]) -> tuple[int, dict, bytes]:
    return http(f"{server.endpoint}?{urlencode({'query': query})}", headers={"Accept": accept})


def rows(body: bytes) -> list[dict]:
    return json.loads(body)["results"]["bindings"]


def fixture(path: Path, listener: socket.socket) -> tuple[str, dict]:
    """The query of a fixture file with the listener's address, and its ``# key: value`` header."""
    text = path.read_text().replace("LISTENER", f"127.0.0.1:{listener.getsockname()[1]}")
    return text, dict(re.findall(r"^# (status|says|rows): (.+)$", text, re.M))


# --- a real client ---------------------------------------------------------------------------------------------


def test_sparqlwrapper_select_json_counts_the_case_plan_steps(server, plan_steps):
    client = SPARQLWrapper(server.endpoint)
    client.setQuery(COUNT_STEPS)
    client.setReturnFormat(JSON)
    result = client.query().convert()
    assert plan_steps > 0
    assert int(result["results"]["bindings"][0]["n"]["value"]) == plan_steps


def test_sparqlwrapper_select_xml(server):
    client = SPARQLWrapper(server.endpoint)
    client.setQuery(PREFIXES + "SELECT ?label WHERE { sk:nsaid rdfs:label ?label }")
    client.setReturnFormat(XML)
    doc = client.query().convert()
    assert isinstance(doc, Document)
    assert "NSAIDs" in [n.firstChild.data for n in doc.getElementsByTagName("literal")]


def test_sparqlwrapper_construct_gives_a_graph_of_the_plan_steps(server):
    client = SPARQLWrapper(server.endpoint)
    client.setQuery(PREFIXES + "CONSTRUCT { ?step a sk:PlanStep } WHERE { ?step a sk:PlanStep }")
    g = client.queryAndConvert()
    assert isinstance(g, Graph) and 0 < len(g) <= MAX_ROWS
    assert all(str(s).startswith(f"https://w3id.org/spinekg/case/{CASE_ID}/step/") for s in g.subjects(RDF.type))


# --- raw HTTP: GET and both POST forms, each result format ------------------------------------------------------


def send(server: Server, how: str, query: str, accept: str) -> tuple[int, dict, bytes]:
    if how == "get":
        return get(server, query, accept)
    if how == "post-query":
        headers = {"Content-Type": "application/sparql-query", "Accept": accept}
        return http(server.endpoint, query.encode(), headers)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept}
    return http(server.endpoint, urlencode({"query": query}).encode(), headers)


def count_in(fmt: str, body: bytes) -> int:
    text = body.decode()
    if fmt == "json":
        return int(rows(body)[0]["n"]["value"])
    if fmt == "xml":
        return int(ElementTree.fromstring(body).find(f".//{{{RESULTS}}}literal").text)
    if fmt == "csv":
        head, row = list(csv.reader(io.StringIO(text)))
        assert head == ["n"]
        return int(row[0])
    head, row = text.splitlines()
    assert head == "?n"
    return int(row.split("^^")[0].strip('"'))


@pytest.mark.parametrize("fmt", list(ACCEPT))
@pytest.mark.parametrize("how", ["get", "post-query", "post-form"])
def test_raw_http_select_in_every_format(server, plan_steps, how, fmt):
    status, headers, body = send(server, how, COUNT_STEPS, ACCEPT[fmt])
    assert status == 200, body
    assert headers["content-type"].startswith(ACCEPT[fmt])
    assert count_in(fmt, body) == plan_steps


@pytest.mark.parametrize(
    ("query", "answer"), [("ASK { sk:nsaid a ?type }", True), ("ASK { sk:no_such_term ?p ?o }", False)]
)
def test_ask(server, query, answer):
    status, _, body = get(server, PREFIXES + query)
    assert status == 200 and json.loads(body)["boolean"] is answer


def test_describe_gives_turtle_about_the_resource(server):
    status, headers, body = get(server, PREFIXES + "DESCRIBE sk:nsaid", "text/turtle")
    assert status == 200 and headers["content-type"].startswith("text/turtle")
    g = Graph().parse(data=body, format="turtle")
    assert (SK.nsaid, RDFS.label, None) in g


def test_named_graphs_hold_the_kb_and_the_case_and_the_default_graph_is_their_union(server):
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    per_graph = {r["g"]["value"]: int(r["n"]["value"]) for r in rows(get(server, query)[2])}
    assert set(per_graph) == {str(KB_GRAPH), CASE_GRAPH + CASE_ID}
    union = rows(get(server, "SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT *) AS ?d) WHERE { ?s ?p ?o }")[2])[0]
    assert int(union["n"]["value"]) == int(union["d"]["value"]) == sum(per_graph.values())  # each triple once


# --- service description and query page ------------------------------------------------------------------------


@pytest.mark.parametrize(("accept", "fmt"), [("text/turtle", "turtle"), ("application/rdf+xml", "xml"), ("", "turtle")])
def test_service_description_without_a_query(server, accept, fmt):
    status, headers, body = http(server.endpoint, headers={"Accept": accept} if accept else {})
    assert status == 200 and headers["content-type"].startswith(accept or "text/turtle")
    g = Graph().parse(data=body, format=fmt)
    service = g.value(None, RDF.type, SD.Service)
    assert g.value(service, SD.endpoint) == URIRef(server.endpoint)
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in g
    assert {KB_GRAPH, URIRef(CASE_GRAPH + CASE_ID)} <= set(g.objects(None, SD.name))
    assert (service, SD.feature, SD.BasicFederatedQuery) not in g  # SERVICE is refused


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attrs: list[str] = []
        self.code: list[str] = []
        self.inside: str | None = None

    def handle_starttag(self, tag, attrs):
        self.attrs += [v or "" for _, v in attrs]
        self.inside = tag if tag in ("script", "style") else None

    def handle_data(self, data):
        if self.inside:
            self.code.append(data)


def test_query_page_is_html_that_loads_nothing_from_another_host(server):
    status, headers, body = http(server.url)
    assert status == 200 and headers["content-type"].startswith("text/html")
    page = Links()
    page.feed(body.decode())
    assert "query" in page.attrs  # the form posts to the endpoint
    assert not [a for a in page.attrs if re.match(r"\s*(https?:)?//", a)]
    assert not [c for c in page.code if re.search(r"https?://|@import|url\(", c)]


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("fmt", list(ACCEPT))
def test_the_page_example_query_from_a_browser_form_answers_in_the_chosen_format(server, plan_steps, fmt):
    page = http(server.url)[2].decode()
    example = html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1))
    status, headers, body = http(
        f"{server.endpoint}?{urlencode({'query': example, 'format': fmt})}", None, {"Accept": BROWSER}
    )
    assert status == 200 and headers["content-type"].startswith(ACCEPT[fmt])
    assert str(plan_steps) in body.decode()


# --- refusals ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted((SERVE / "refused").iterdir()), ids=lambda p: p.stem)
@pytest.mark.parametrize("how", ["get", "post-form"])
def test_refused_requests_get_their_status_and_reach_no_host(server, listener, path, how):
    query, header = fixture(path, listener)
    status, _, body = send(server, how, query, ACCEPT["json"])
    assert status == int(header["status"]), body
    assert header["says"] in body.decode()
    assert not connected(listener), "the endpoint contacted the SERVICE/LOAD target"


@pytest.mark.parametrize("path", sorted((SERVE / "allowed").iterdir()), ids=lambda p: p.stem)
def test_allowed_queries_are_answered(server, listener, path):
    query, header = fixture(path, listener)
    status, _, body = get(server, query)
    assert status == int(header["status"]), body
    assert len(rows(body)) == int(header["rows"])
    assert not connected(listener)


def test_oxigraph_past_the_guard_reaches_no_host(server, listener):
    """SERVICE sent straight to Oxigraph (the guard's own connection, past its check) connects nowhere: Oxigraph
    runs SERVICE (its log shows it tried), but in a network namespace with only its own loopback (issue 13)."""
    query, _ = fixture(SERVE / "refused" / "service.rq", listener)
    log = server.store.parent / "oxigraph.log"
    before = log.stat().st_size
    conn = HTTPConnection("oxigraph", timeout=10)
    conn.sock = server.backend.connect(time.monotonic() + 10)
    headers = {"Accept": ACCEPT["json"], "Content-Type": "application/x-www-form-urlencoded"}
    try:
        conn.request("POST", "/query", urlencode({"query": query}), headers)
        answer = conn.getresponse().read()
    finally:
        conn.close()
    assert server.backend.isolated and not connected(listener, wait=0.5)
    tried = log.read_bytes()[before:]
    assert b"onnection refused" in answer + tried, (answer, tried)


@pytest.mark.parametrize("path", sorted((SERVE / "refused").glob("*.ru")), ids=lambda p: p.stem)
@pytest.mark.parametrize("how", ["update-endpoint", "sparql-update", "update-form"])
def test_updates_are_refused_however_sent(server, listener, path, how):
    update, _ = fixture(path, listener)
    if how == "update-endpoint":
        status, _, body = http(server.url + "update", update.encode(), {"Content-Type": "application/sparql-update"})
    elif how == "sparql-update":
        status, _, body = http(server.endpoint, update.encode(), {"Content-Type": "application/sparql-update"})
    else:
        form = urlencode({"update": update}).encode()
        status, _, body = http(server.endpoint, form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 403 and b"read-only" in body
    assert rows(get(server, PREFIXES + 'SELECT * WHERE { sk:nsaid rdfs:label "changed" }')[2]) == []
    assert not connected(listener)


def test_oversized_body_is_413_and_unknown_content_type_415(server):
    big = ("SELECT * WHERE { ?s ?p ?o } #" + "x" * server.max_body).encode()
    assert http(server.endpoint, big, {"Content-Type": "application/sparql-query"})[0] == 413
    assert http(server.endpoint, b"SELECT * {}", {"Content-Type": "text/plain"})[0] == 415


# --- limits -----------------------------------------------------------------------------------------------------


def test_a_long_query_stops_at_the_time_limit_and_others_are_answered_meanwhile_and_after(server):
    done: dict = {}

    def long_query():
        start = time.monotonic()
        done["status"], _, done["body"] = get(server, LONG)
        done["elapsed"] = time.monotonic() - start

    thread = threading.Thread(target=long_query)
    thread.start()
    time.sleep(0.3)
    start = time.monotonic()
    assert get(server, COUNT_STEPS)[0] == 200
    assert time.monotonic() - start < 1.0, "a simple query waited for the long one"
    thread.join(15)
    assert done["status"] == 504 and b"time limit" in done["body"]
    assert TIMEOUT_S <= done["elapsed"] < TIMEOUT_S + 1.5
    assert get(server, COUNT_STEPS)[0] == 200


@pytest.mark.parametrize("limit", ["", "LIMIT 1000", f"LIMIT {MAX_ROWS * 3} OFFSET 2"])
def test_at_most_max_rows_rows(server, limit):
    status, headers, body = get(server, f"SELECT * WHERE {{ ?s ?p ?o }} {limit}")
    assert status == 200 and len(rows(body)) == MAX_ROWS
    assert headers["spinekg-result-limit"] == str(MAX_ROWS)


def test_a_smaller_limit_is_kept(server):
    status, headers, body = get(server, "SELECT * WHERE { ?s ?p ?o } LIMIT 2")
    assert status == 200 and len(rows(body)) == 2 and "spinekg-result-limit" not in headers


@pytest.mark.parametrize(
    ("query", "sent"),
    [
        ("SELECT * { ?s ?p ?o }", "SELECT * { ?s ?p ?o }\nLIMIT 5"),
        ("SELECT * { ?s ?p ?o } LIMIT 50 OFFSET 1", "SELECT * { ?s ?p ?o } LIMIT 5 OFFSET 1"),
        ("SELECT * { ?s ?p ?o } LIMIT 3", "SELECT * { ?s ?p ?o } LIMIT 3"),
        ("SELECT ?s { ?s ?p ?o } VALUES ?s { <urn:a> }", "SELECT ?s { ?s ?p ?o } LIMIT 5\nVALUES ?s { <urn:a> }"),
        (
            "SELECT * { { SELECT * { ?s ?p ?o } LIMIT 9 } } # e",
            "SELECT * { { SELECT * { ?s ?p ?o } LIMIT 9 } } # e\nLIMIT 5",
        ),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT WHERE { ?s ?p ?o }\nLIMIT 5"),
        ("DESCRIBE <urn:a>", "DESCRIBE <urn:a>\nLIMIT 5"),
        ("ASK { ?s ?p ?o }", "ASK { ?s ?p ?o }"),
    ],
)
def test_the_limit_the_guard_sends(query, sent):
    assert check_query(query, 5).text == sent


# --- starting and stopping --------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "example.org"])
def test_a_non_loopback_host_needs_allow_remote(host):
    with pytest.raises(UsageError, match="allow-remote"):
        Server(host=host, port=0)
    with pytest.raises(UsageError, match="allow-remote"):
        cli_serve(Namespace(case=[], host=host, port=0, timeout=10, max_rows=10000))


def test_a_port_in_use_is_a_clear_error(server):
    taken = int(server.url.rsplit(":", 1)[1].strip("/"))
    with pytest.raises(EndpointError, match=f"cannot listen on 127.0.0.1:{taken}"):
        Server(port=taken).start()


def test_server_stop_ends_oxigraph_and_removes_the_store():
    s = Server(port=0)
    s.start()
    store, oxigraph = s.store, psutil.Process(s.backend.oxigraph_pid)
    assert store.is_dir() and oxigraph.is_running() and oxigraph.name().startswith("oxigraph")
    s.stop()
    assert not store.exists() and not psutil.pid_exists(oxigraph.pid) or oxigraph.status() == psutil.STATUS_ZOMBIE


def test_cli_serve_prints_the_urls_answers_and_stops_on_ctrl_c_removing_its_store():
    before = set(Path(tempfile.gettempdir()).glob("spinekg-serve-*"))
    code = (
        "import sys; from argparse import Namespace; from pathlib import Path\n"
        "from reasoner.cli.serve import cli_serve\n"
        f"sys.exit(cli_serve(Namespace(case=[Path({str(CASE)!r})], host='127.0.0.1', port=0, timeout=5, max_rows=10)))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        endpoint = proc.stdout.readline().strip().removeprefix("SPARQL endpoint: ")
        page = proc.stdout.readline().strip().removeprefix("query page: ")
        assert endpoint == page + "query", endpoint
        status, _, body = http(f"{endpoint}?{urlencode({'query': COUNT_STEPS})}")
        assert status == 200 and int(rows(body)[0]["n"]["value"]) > 0
        assert set(Path(tempfile.gettempdir()).glob("spinekg-serve-*")) - before  # its store, while it runs
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0, proc.stderr.read()
    with pytest.raises(OSError):
        http(endpoint)
    assert set(Path(tempfile.gettempdir()).glob("spinekg-serve-*")) - before == set()
