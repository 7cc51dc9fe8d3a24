"""The spinekg command line: kb stats, validate, export, normalize, its exit statuses, and each command as a real
process."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import BNode, Graph

from reasoner.cli import build_parser, main
from reasoner.consts import PREFIXES, RDF, SK
from reasoner.kb import load as kb

from constants import EXAMPLES, ROOT


def shape(graph):
    mask = lambda term: "_" if isinstance(term, BNode) else term  # noqa: E731
    return sorted(tuple(str(mask(x)) for x in triple) for triple in graph)


def process(*args: object, command: tuple[str, ...] = (sys.executable, "-m", "reasoner")):
    """The real command in a new process (the other tests run ``main([...])`` in this one: the ``spinekg`` fixture).
    Its output is decoded as it is: ``text=True`` would turn the CSV's CRLF into LF."""
    done = subprocess.run([*command, *map(str, args)], capture_output=True, cwd=ROOT, timeout=300)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


SEED000 = EXAMPLES / "000-gluteal-s2-s3-numbness.yaml"
#: One run of each command ({out}: a folder for its outputs); ``serve`` is started as a process by test_serve.py.
EVERY_COMMAND = {
    "kb": ["kb", "stats", "--format", "json"],
    "recommend": ["recommend", SEED000, "--format", "json"],
    "explain": ["explain", SEED000, "mri_lumbar_spine"],
    "why-not": ["why-not", SEED000, "rec_000_02"],
    "graph": ["graph", SEED000, "mri_lumbar_spine", "--output", "{out}/step.svg"],
    "cohort": ["cohort", EXAMPLES, "--output", "{out}/plans.jsonl", "--summary", "{out}/summary.csv"],
    "map": ["map", "ICD10CM:M51.36", "--format", "json"],
    "query": ["query", "reference-citations", "--param", "reference=sk:acp_2017", "--format", "csv"],
    "sparql": ["sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?r a <https://w3id.org/spinekg/Recommendation> }"],
    "usage error": ["recommend"],
}


@pytest.mark.parametrize("name", EVERY_COMMAND)
def test_each_command_as_a_real_process_gives_what_main_gives_in_process(spinekg, tmp_path, name):
    """The smoke test of every command: ``python -m reasoner`` exits and prints as ``main([...])`` does, so the
    in-process tests test the command users run."""
    runs = []
    for how in ("process", "in-process"):
        out = tmp_path / how
        out.mkdir()
        args = [str(a).replace("{out}", str(out)) for a in EVERY_COMMAND[name]]
        ran = process(*args) if how == "process" else spinekg(*args)
        files = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
        # a cohort's last line says how long it took: the one figure two runs need not share
        stderr = re.sub(r"batches, [0-9.]+ s;", "batches, N s;", ran.stderr.replace(str(out), "{out}"))
        runs.append((ran.returncode, ran.stdout.replace(str(out), "{out}"), stderr, files))
    assert runs[0] == runs[1]
    assert runs[0][0] == (2 if name == "usage error" else 0), runs[0][2]
    assert runs[0][1] or runs[0][3] or name == "usage error", "the command gave nothing to compare"


def test_the_console_script_runs_the_command_line():
    script = Path(sys.executable).parent / "spinekg"
    assert script.is_file(), f"{script}: no console script (pip install -e '.[test]')"
    out = process("kb", "stats", "--format", "json", command=(str(script),))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["recommendations"] > 0
    assert process(command=(str(script),)).returncode == 2


def test_stats_json_counts_what_the_graph_holds(spinekg, kb_graph):
    out = spinekg("kb", "stats", "--format", "json")
    assert out.returncode == 0, out.stderr
    s = json.loads(out.stdout)
    recs = len(set(kb_graph.subjects(RDF.type, SK.Recommendation)))
    evs = len(set(kb_graph.subjects(RDF.type, SK.EvidenceStatement)))
    assert s["recommendations"] == recs and s["evidence_statements"] == evs
    assert sorted(s["recommendations_per_article"]) == ["000", "001", "002", "003", "004"]
    n_002 = len(
        list(
            kb_graph.query(
                "SELECT ?r WHERE { ?r a sk:Recommendation ; dcterms:source sk:article_002 }", initNs=PREFIXES
            )
        )
    )
    assert s["recommendations_per_article"]["002"] == n_002
    assert s["citations_by_status"]["dangling"] == 7  # 000 marker 4 once; 003 markers 4 and 5, three times each
    assert s["references"] == 6
    # of the safety rules, those a reference table gives (review I2: the text said 74 of 25, every table's count)
    tables = "?r a sk:Recommendation ; sk:safetyRule true ; dcterms:source/a sk:ReferenceTable"
    n_tables = len(list(kb_graph.query(f"SELECT DISTINCT ?r WHERE {{ {tables} }}", initNs=PREFIXES)))
    assert 0 < s["safety_recommendations_from_reference_tables"] == n_tables < s["safety_recommendations"]


def test_stats_text_names_every_article(spinekg):
    out = spinekg("kb", "stats")
    assert out.returncode == 0
    for article in ("000", "001", "002", "003", "004"):
        assert f"  {article}  " in out.stdout


def test_validate_passes_on_the_kb(spinekg, seeds_dir):
    out = spinekg(
        "kb", "validate", "--gate", "shacl", "--gate", "violations", "--gate", "quotes", "--gate", "normalised"
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "passes" in out.stdout


def test_validate_fails_with_exit_1_and_names_the_term_on_a_broken_kb(tmp_path):
    broken = tmp_path / "ontology"
    import shutil

    shutil.copytree(kb.ONTOLOGY_DIR, broken)
    rec = broken / "recommendations" / "002.ttl"
    rec.write_text(
        rec.read_text(encoding="utf-8").replace("sk:intervention sk:nsaid ;", "sk:intervention sk:nsaidz ;"),
        encoding="utf-8",
    )
    # a real process: SPINEKG_ONTOLOGY is read when reasoner.kb is imported
    env = {"SPINEKG_ONTOLOGY": str(broken), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "reasoner", "kb", "validate", "--gate", "violations"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert out.returncode == 1
    assert "sk:nsaidz" in out.stdout


@pytest.mark.parametrize("fmt,parse_as", [("ttl", "turtle"), ("owl", "xml"), ("jsonld", "json-ld"), ("nt", "nt")])
def test_issue14_export_is_the_graph_the_queries_run_on(fmt, parse_as, tmp_path, kb_graph):
    """Issue 14: ``kb export`` was the KB with its 14 module headers folded into one (``kb-modules`` gave 1 row on
    it, 14 in ``spinekg query``); now it is the query graph itself (RDF/XML without the modules' imports)."""
    from reasoner.consts import OWL
    from reasoner.sparql.library import Dataset, run

    target = tmp_path / f"spinekg.{fmt}"
    assert main(["kb", "export", "--format", fmt, "--output", str(target)]) == 0
    back = Graph().parse(target, format=parse_as)
    want = Graph()
    want += (t for t in kb_graph if fmt != "owl" or t[1] != OWL.imports)
    modules = len(kb.module_paths())
    assert len(run("kb-modules", data=Dataset(back)).rows) == len(run("kb-modules").rows) == modules > 1
    # rdflib.compare.isomorphic takes a minute on this graph: compare the ground triples exactly and
    # the blank-node triples as a multiset with the blank nodes masked
    assert len(back) == len(want)
    assert shape(back) == shape(want)
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.java
def test_owl_export_loads_in_owlready2(tmp_path, java):
    import owlready2

    target = tmp_path / "spinekg.owl"
    main(["kb", "export", "--format", "owl", "--output", str(target)])
    world = owlready2.World()
    onto = world.get_ontology("file://" + str(target)).load()
    assert onto.search_one(iri=str(SK.saddle_pattern_deficit)) is not None


def test_usage_errors_exit_2(spinekg):
    assert spinekg("kb", "export", "--format", "pdf", "--output", "x").returncode == 2
    assert spinekg("kb", "nope").returncode == 2
    assert spinekg().returncode == 2


def test_normalize_check_exits_1_on_an_unnormalised_file(tmp_path):
    import shutil

    broken = tmp_path / "ontology"
    shutil.copytree(kb.ONTOLOGY_DIR, broken)
    core = broken / "core.ttl"
    core.write_text(core.read_text(encoding="utf-8") + "\n\n", encoding="utf-8")
    # a real process: SPINEKG_ONTOLOGY is read when reasoner.kb is imported
    env = {"SPINEKG_ONTOLOGY": str(broken), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "reasoner", "kb", "normalize", "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert out.returncode == 1 and "core.ttl" in out.stdout


def test_every_subcommand_is_documented_with_an_example():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    parser = build_parser()
    kb_parser = parser._subparsers._group_actions[0].choices["kb"]
    for name, sub in kb_parser._subparsers._group_actions[0].choices.items():
        assert f"spinekg kb {name}" in readme, name
        assert "example:" in (sub.epilog or ""), name
    for name, sub in parser._subparsers._group_actions[0].choices.items():
        assert f"spinekg {name}" in readme, name
        assert "example:" in (sub.epilog or ""), name
