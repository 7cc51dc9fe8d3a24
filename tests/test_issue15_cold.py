"""Issue 15, cold start: what a cold ``spinekg recommend`` no longer does, and proof that what it does instead gives
the same answers (the KB version, the KB graph read from the cache, the cached recommendations). No timing here:
``python -m bench.run`` and the README measure the speed."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.plugins.stores.memory import Memory

from reasoner.cli import ONE_CASE_COMMANDS, main
from reasoner.consts import SK
from reasoner.kb import graphcache
from reasoner.kb.cache import cached
from reasoner.kb.index import KBIndex
from reasoner.kb.load import _version_info, kb_version

from constants import EXAMPLES, ROOT

CASE = EXAMPLES / "002-lumbosacral-radiculopathy.yaml"
CORE = b"@prefix owl: <http://www.w3.org/2002/07/owl#> .\n<https://w3id.org/spinekg/core> owl:versionInfo %s .\n"


def rdflib_version_info(core: bytes) -> str:
    """What ``kb_version`` read before issue 15: core.ttl parsed by rdflib."""
    g = Graph().parse(data=core, format="turtle")
    return str(next(g.objects(URIRef(str(SK) + "core"), URIRef("http://www.w3.org/2002/07/owl#versionInfo")), "0.0.0"))


@pytest.mark.parametrize(
    "core",
    [
        (ROOT / "ontology" / "core.ttl").read_bytes(),
        CORE % b'"2.0.1"',
        CORE % b'"2.0.1"@en',
        CORE % b'"02"^^<http://www.w3.org/2001/XMLSchema#integer>',  # rdflib writes it "2"
        CORE % b"<https://example.org/v3>",
        b"<https://w3id.org/spinekg/other> <http://www.w3.org/2002/07/owl#versionInfo> 'x' .\n",
        b'@prefix : <https://w3id.org/spinekg/> .\n:core <http://www.w3.org/2002/07/owl#versionInfo> "\\u0031.5" .\n',
    ],
    ids=["core.ttl", "string", "language", "integer", "iri", "none", "escaped"],
)
def test_issue15_the_kb_version_reads_core_as_rdflib_did(core):
    """The KB version's ``owl:versionInfo`` is read without rdflib's Turtle parser, and is the same text."""
    assert _version_info(core) == rdflib_version_info(core)


def test_issue15_the_kb_version_is_core_s_version_info():
    assert kb_version().startswith(rdflib_version_info((ROOT / "ontology" / "core.ttl").read_bytes()) + "+")


def sample_graph() -> Graph:
    """A graph with what the KB has: IRIs, blank nodes, plain, typed and tagged literals, a predicate on many
    subjects and objects, one subject with several values of one predicate, and bindings."""
    g = Graph(identifier=URIRef("urn:kb"), bind_namespaces="none")
    g.bind("sk", URIRef(str(SK)))
    a, b, c, blank = URIRef("urn:a"), URIRef("urn:b"), URIRef("urn:c"), BNode("n1")
    for s in (c, a, b, blank):
        g.add((s, RDF.type, SK.Recommendation))
        g.add((s, RDFS.label, Literal(f"label of {s}", lang="en")))
    for value in (Literal(3), Literal("3"), Literal(2.5), Literal("x", lang="de"), b, a):
        g.add((a, SK.order, value))
    g.add((blank, SK.conflictMember, a))
    g.add((b, SK.conflictMember, a))
    return g


def added(data: dict) -> Graph:
    """The graph of ``data`` made as before issue 15: ``store.add`` for each triple, in the file's order."""
    terms = []
    for t in data["terms"]:
        if isinstance(t, str):
            terms.append(URIRef(t))
        elif t[0] == "b":
            terms.append(BNode(t[1]))
        else:
            terms.append(Literal(t[1], datatype=t[2], lang=t[3]))
    g = Graph(identifier=terms[data["identifier"]], bind_namespaces="none")
    flat = data["triples"]
    for i in range(0, len(flat), 3):
        g.store.add((terms[flat[i]], terms[flat[i + 1]], terms[flat[i + 2]]), g, quoted=False)
    for prefix, ns in data["namespaces"]:
        g.bind(prefix, URIRef(ns), override=True, replace=True)
    return g


def state(store: Memory) -> dict:
    """A Memory store's whole state, dictionary order included, graphs by their identifier."""

    def plain(value):
        if isinstance(value, Graph):
            return ("graph", value.identifier)
        if isinstance(value, dict):
            return [(plain(k), plain(v)) for k, v in value.items()]
        if isinstance(value, (set, frozenset)):
            return [plain(v) for v in value]
        return value

    return {k: plain(v) for k, v in vars(store).items() if k != "dispatcher"}


@pytest.fixture(params=["sample", "kb"])
def encoded(request, kb_graph) -> dict:
    return graphcache.encode_graph(sample_graph() if request.param == "sample" else kb_graph)


def patterns(g: Graph) -> list[tuple]:
    """Every pattern with a bound predicate over ``g``'s terms (capped for the KB), and a few unknown terms."""
    subjects = list(dict.fromkeys(g.subjects()))[:60] + [URIRef("urn:unknown")]
    objects = list(dict.fromkeys(g.objects()))[:60] + [Literal("unknown")]
    out = []
    for p in [*dict.fromkeys(g.predicates()), URIRef("urn:no-such-predicate")]:
        out += [(None, p, None)] + [(s, p, None) for s in subjects] + [(None, p, o) for o in objects]
        out += [(s, p, o) for s, _, o in list(g.triples((None, p, None)))[:5]] + [(subjects[0], p, objects[0])]
    return out


def test_issue15_a_graph_read_from_the_cache_answers_each_predicate_as_the_full_graph(encoded):
    """Until something needs the whole graph, lookups with a bound predicate are answered from that predicate's
    triples alone: the same triples, in the same order, as the graph made triple by triple gives."""
    lazy, full = graphcache.decode_graph(encoded), added(encoded)
    assert type(lazy.store) is graphcache._PendingMemory
    for pattern in patterns(full):
        assert list(lazy.triples(pattern)) == list(full.triples(pattern)), pattern
    assert lazy.value(next(iter(full.subjects())), RDFS.label) == full.value(next(iter(full.subjects())), RDFS.label)
    assert list(lazy.namespaces()) == list(full.namespaces()) and isinstance(lazy.store, Memory)
    assert type(lazy.store) is graphcache._PendingMemory  # none of that needed the whole graph


def test_issue15_threads_that_race_on_a_waiting_graph_all_see_the_whole_graph(kb_graph):
    """Lookups and a fill started by several threads at once: one fills, the others wait for it; every thread
    gets the full answer."""
    encoded = graphcache.encode_graph(kb_graph)
    lazy, full = graphcache.decode_graph(encoded), added(encoded)
    uses = [lambda g: sorted(g.triples((None, RDFS.label, None))), len, lambda g: sorted(g)] * 4
    with ThreadPoolExecutor(len(uses)) as pool:
        got = list(pool.map(lambda use: use(lazy), uses, timeout=60))
    assert got == [use(full) for use in uses]
    assert type(lazy.store) is Memory and state(lazy.store) == state(full.store)


FILLS = {
    "len": len,
    "iterate": list,
    "contains": lambda g: (URIRef("urn:a"), RDF.type, SK.Recommendation) in g,  # a bound predicate, but then:
    "subjects of an object": lambda g: list(g.subjects(None, SK.Recommendation)),
    "predicate_objects": lambda g: list(g.predicate_objects(URIRef("urn:a"))),
    "sparql": lambda g: sorted(map(str, g.query("SELECT ?s WHERE { ?s a ?t } ORDER BY ?s"))),
    "serialize": lambda g: sorted(g.serialize(format="nt").splitlines()),
    "add": lambda g: g.add((URIRef("urn:new"), RDFS.label, Literal("new"))) and len(g),
    "copy": lambda g: len(Graph() + g),
}


@pytest.mark.parametrize("use", FILLS)
def test_issue15_any_other_use_fills_the_graph_as_adding_each_triple_would(use):
    """Anything but a bound-predicate lookup fills the store first: it is then a plain Memory store in exactly the
    state that adding the triples one by one leaves, and answers as that store does."""
    encoded = graphcache.encode_graph(sample_graph())
    lazy, full = graphcache.decode_graph(encoded), added(encoded)
    assert FILLS[use](lazy) == FILLS[use](full)
    if use != "contains":
        assert type(lazy.store) is Memory
        assert state(lazy.store) == state(full.store)


def test_issue15_the_kb_filled_from_the_cache_is_the_kb_added_triple_by_triple(kb_graph):
    encoded = graphcache.encode_graph(kb_graph)
    lazy, full = graphcache.decode_graph(encoded), added(encoded)
    list(lazy.triples((None, RDFS.label, None)))  # a predicate's index first: it must not change the filled state
    graphcache.materialise(lazy)
    assert type(lazy.store) is Memory and len(lazy) == len(kb_graph)
    assert state(lazy.store) == state(full.store)
    assert graphcache.encode_graph(lazy) == graphcache.encode_graph(full)


def test_issue15_another_rdflib_store_layout_is_filled_triple_by_triple(monkeypatch):
    """The bulk fill writes rdflib's private store state, so it first checks the layout is the one it knows."""
    encoded = graphcache.encode_graph(sample_graph())
    monkeypatch.setattr(graphcache, "_MEMORY_OTHER_STATE", graphcache._MEMORY_OTHER_STATE | {"_Memory__new"})
    g = graphcache.decode_graph(encoded)
    assert type(g.store) is Memory
    assert state(g.store) == state(added(encoded).store)


def test_issue15_cached_recommendations_are_the_graph_s(tmp_path, monkeypatch, kb_graph):
    """The recommendations a plan shows, read from the cache (a second process's view), equal those read out of
    the KB graph: every field, every evidence statement, the numbers as numbers, the tuples as tuples."""
    monkeypatch.setenv("SPINEKG_CACHE", str(tmp_path))
    fresh = KBIndex(kb_graph).recommendations
    made, read = KBIndex(kb_graph), KBIndex(Graph())
    made.use_cache(kb_version())  # a miss: built from the graph and stored
    read.use_cache(kb_version())  # a hit: an empty graph, so every value comes from the file
    assert read.recommendations == made.recommendations == fresh
    assert list(read.recommendations) == list(fresh)
    assert cached("recommendations", kb_version(), lambda: None) == fresh


def run(code: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, SPINEKG_CACHE=str(tmp_path / "cache"))
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, env=env, check=True
    )


def test_issue15_importing_the_library_does_not_import_pyyaml(tmp_path):
    """PyYAML is imported when a YAML case or a mapping set is read, not by ``import reasoner`` (a JSON case never
    needs it)."""
    code = "import sys, reasoner, reasoner.api, reasoner.cli; print(sorted(m for m in sys.modules if 'yaml' in m))"
    assert run(code, tmp_path).stdout.strip() == "[]"


def test_issue15_importing_the_library_does_not_import_rdflibs_sparql_parser(tmp_path):
    """The rules' needs are read with rdflib's SPARQL parser when the rules are compiled (a cache miss); importing
    it costs a warm one-case command 70 ms, so ``import reasoner`` does not."""
    code = "import sys, reasoner, reasoner.api, reasoner.cli; print('rdflib.plugins.sparql.parser' in sys.modules)"
    assert run(code, tmp_path).stdout.strip() == "False"


ONE_CASE_RUN = """
import gc, io, json, sys, contextlib
from reasoner.cli import main
from reasoner.kb.load import shared_kb
out = io.StringIO()
with contextlib.redirect_stdout(out):
    status = main(sys.argv[1:])
print(json.dumps([status, type(shared_kb().store).__name__, gc.isenabled(), gc.get_freeze_count()]))
sys.stderr.write(out.getvalue())
"""


def test_issue15_a_one_case_command_reads_the_kb_one_predicate_at_a_time(tmp_path):
    """A cold ``spinekg recommend`` (the cache warm) never fills the KB graph, collects no garbage and freezes
    nothing; its plan is the one the full graph gives (the same command with the cache off)."""
    args = ["recommend", str(CASE), "--format", "json"]
    first = run(ONE_CASE_RUN, tmp_path, *args)  # fills the cache
    warm = run(ONE_CASE_RUN, tmp_path, *args)
    assert json.loads(warm.stdout) == [0, "_PendingMemory", True, 0]
    off = subprocess.run(
        [sys.executable, "-m", "reasoner", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, SPINEKG_CACHE="off"),
        check=True,
    )
    assert warm.stderr == first.stderr == off.stdout


def test_issue15_one_case_commands_run_without_the_collector_and_restore_it(monkeypatch, capsys):
    """The one-case commands switch the cyclic collector off while they run, and back on when they return: main()
    also runs inside other programs (and these tests)."""
    seen = []
    monkeypatch.setattr("reasoner.cli.plans.plan_command", lambda args: seen.append(gc.isenabled()) or 0)
    assert gc.isenabled()
    assert main(["recommend", str(CASE)]) == 0
    assert seen == [False] and gc.isenabled()
    assert {"recommend", "explain", "why-not"} <= ONE_CASE_COMMANDS and "cohort" not in ONE_CASE_COMMANDS
