"""Issue 6: cohorts: one plan per case, the same plan alone or in a cohort, bad cases skipped and counted,
provenance streamed, an interrupted run resumed, and the same rules run in an external SPARQL 1.1 store."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from rdflib import Dataset, Graph, URIRef

from bench.generate import generate
from reasoner.api import recommend
from reasoner.case.shapes import check_case_graph
from reasoner.case.validate import parse_case
from reasoner.cohort import run as cohort
from reasoner.cohort.run import run_cohort
from reasoner.consts import PROV, SK
from reasoner.errors import UsageError
from reasoner.plan.compact import expand

from constants import EXAMPLE_CASES


def alone(case) -> dict:
    """The plan of a case reasoned on its own, as JSON sees it."""
    return json.loads(json.dumps(recommend(case).to_dict()))


def plans_of(path: Path) -> dict[str, dict]:
    """The plans of a cohort output, each compact line joined with the run's KB part (its full plan)."""
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    part = path.with_name(path.name.removesuffix(".jsonl") + ".kb.json")
    if part.exists():
        kb = json.loads(part.read_text(encoding="utf-8"))
        lines = [expand(line, kb) for line in lines]
    return {p["case"]: p for p in lines}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """60 generated cases as JSON Lines (the bench generator: every field of the case format, red flags)."""
    path = tmp_path_factory.mktemp("gen") / "cases.jsonl"
    path.write_text("".join(json.dumps(doc) + "\n" for doc in generate(60, seed=7)), encoding="utf-8")
    return path


def test_examples_in_a_folder_give_the_plans_they_give_alone(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    for p in EXAMPLE_CASES:
        shutil.copy(p, folder / p.name)
    stats = run_cohort(folder, tmp_path / "plans.jsonl", batch_size=5)
    assert (stats.planned, stats.rejected, stats.batches) == (len(EXAMPLE_CASES), 0, 3)
    got = plans_of(tmp_path / "plans.jsonl")
    for p in EXAMPLE_CASES:
        plan = alone(p)
        assert got[plan["case"]] == plan, p.name


def test_generated_cohort_gives_the_plans_its_cases_give_alone_in_batches_and_workers(generated, tmp_path):
    stats = run_cohort(generated, tmp_path / "plans.jsonl", batch_size=16, workers=2)
    assert (stats.planned, stats.rejected, stats.batches) == (60, 0, 4)
    got = plans_of(tmp_path / "plans.jsonl")
    docs = [json.loads(line) for line in generated.read_text().splitlines()]
    assert list(got) == [d["id"] for d in docs]  # input order, whatever process reasoned the batch
    for doc in docs:
        assert got[doc["id"]] == alone(doc), doc["id"]


def test_workers_get_batches_of_even_size(generated, tmp_path, monkeypatch):
    # 60 cases in batches of at most 25 on 2 workers: 4 batches of 15, not 25 + 25 + 10 (the last reasoned alone
    # while the other worker waits); one process keeps the batches as asked
    monkeypatch.setattr(cohort, "MIN_SHARE", 1)  # workers even for so few cases
    stats = run_cohort(generated, tmp_path / "plans.jsonl", batch_size=25, workers=2)
    assert (stats.planned, stats.batches) == (60, 4)
    one = run_cohort(generated, tmp_path / "one.jsonl", batch_size=25, workers=1)
    assert (one.planned, one.batches) == (60, 3)
    assert (tmp_path / "plans.jsonl").read_bytes() == (tmp_path / "one.jsonl").read_bytes()


def test_a_cohort_smaller_than_a_batch_is_shared_by_the_workers(generated, tmp_path, monkeypatch):
    # 60 cases, batches of up to 2,000: with workers for 20 cases or more, 2 workers get a batch of 30 each (one
    # batch in one process before); fewer than that between them, and one process does it
    monkeypatch.setattr(cohort, "MIN_SHARE", 20)
    assert run_cohort(generated, tmp_path / "two.jsonl", workers=2).batches == 2
    monkeypatch.setattr(cohort, "MIN_SHARE", 31)
    assert run_cohort(generated, tmp_path / "one.jsonl", workers=2).batches == 1
    assert (tmp_path / "two.jsonl").read_bytes() == (tmp_path / "one.jsonl").read_bytes()


def test_generated_cases_conform_to_the_case_shapes(generated):
    """The SHACL case shapes check the graphs the case reader builds (they no longer run on every call)."""
    from reasoner.case.validate import case_graph
    from reasoner.kb.load import new_graph

    merged = new_graph()
    for line in generated.read_text().splitlines():
        merged += case_graph(parse_case(json.loads(line)))
    assert check_case_graph(merged) == []


def test_full_plan_lines_are_the_json_of_the_plan(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "p1", "age": 70, "symptoms": [{"type": "urinary_retention"}]}) + "\n")
    run_cohort(src, tmp_path / "plans.jsonl", full=True)
    line = (tmp_path / "plans.jsonl").read_text(encoding="utf-8")
    plan = recommend({"id": "p1", "age": 70, "symptoms": [{"type": "urinary_retention"}]})
    assert line == json.dumps(plan.to_dict(), ensure_ascii=False) + "\n"


BAD = [
    '{"id": "ok-1", "age": 40}',
    "",
    '{"id": "bad-json", "age": ',
    '{"id": "bad-age", "age": -3}',
    '{"id": "ok-1", "age": 41}',
    '{"id": "bad-derm", "symptoms": [{"type": "numbness", "dermatomes": ["L9"]}]}',
    '{"id": "ok-2", "age": 50, "age": 51}',
    '{"id": "ok-3", "symptoms": [{"type": "radicular_pain", "dermatomes": ["L5"], "duration_weeks": 2}]}',
]


def test_bad_cases_are_reported_by_line_skipped_and_counted(spinekg, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(("\n".join(BAD) + "\n").encode() + b'{"id": "bad-utf8", "sex": "\xff"}\n')
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    out = spinekg(
        "cohort", src, "--output", tmp_path / "plans.jsonl", "--summary", tmp_path / "s.csv", "--batch-size", 3
    )
    assert out.returncode == 0, out.stderr
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before
    err = out.stderr
    for expected in (
        "line 3: : '{src}:3' is not valid JSON",
        "line 4: age: -3 is out of range",
        "line 5: id: 'ok-1' is already used by an earlier case of the cohort",
        "line 6: symptoms[0].dermatomes[0]: 'L9' is not a dermatome",
        "line 7: age: 'age' is a duplicate key",
        'line 9: : b\', "sex": "\\xff"}\\n\' is not valid UTF-8',
    ):
        assert f"spinekg: {expected.replace('{src}', str(src))}" in err, (expected, err)
    assert "2 planned, 6 rejected" in err and "8 read" in err
    assert list(plans_of(tmp_path / "plans.jsonl")) == ["ok-1", "ok-3"]
    rows = list(csv.DictReader((tmp_path / "s.csv").open(encoding="utf-8")))
    assert [(r["source"], r["status"]) for r in rows] == [
        ("line 1", "planned"),
        ("line 3", "rejected"),
        ("line 4", "rejected"),
        ("line 5", "rejected"),
        ("line 6", "rejected"),
        ("line 7", "rejected"),
        ("line 8", "planned"),
        ("line 9", "rejected"),
    ]
    assert rows[3]["case"] == "ok-1" and "already used" in rows[3]["problems"]


def test_summary_counts_red_flags_and_steps_per_phase(tmp_path):
    src = tmp_path / "in.jsonl"
    doc = {"id": "ces", "age": 50, "symptoms": [{"type": "urinary_retention", "duration_weeks": 1}]}
    src.write_text(json.dumps(doc) + "\n")
    run_cohort(src, tmp_path / "plans.jsonl", summary=tmp_path / "s.csv")
    row = next(csv.DictReader((tmp_path / "s.csv").open(encoding="utf-8")))
    plan = recommend(doc)
    assert row["red_flags"] == " ".join(f.id for f in plan.red_flags) == "cauda_equina_syndrome_suspected"
    assert int(row["emergency"]) == sum(s.phase == "emergency" for s in plan.steps) > 0
    assert row["warnings"] == " ".join(w.id for w in plan.warnings)


@pytest.mark.parametrize("suffix", [".nt", ".nq"])
def test_provenance_traces_every_step_to_its_recommendation_evidence_and_findings(generated, tmp_path, suffix):
    prov = tmp_path / f"prov{suffix}"
    run_cohort(generated, tmp_path / "plans.jsonl", provenance=prov, batch_size=25)
    if suffix == ".nt":
        g = Graph().parse(prov, format="nt")
    else:
        ds = Dataset()
        ds.parse(prov, format="nquads")
        names = {str(c.identifier) for c in ds.graphs()}
        assert any(n.endswith("/provenance") for n in names) and any("/kb/" in n for n in names)
        g = Graph()
        for s, p, o, _ in ds.quads():
            g.add((s, p, o))
    plans = plans_of(tmp_path / "plans.jsonl")
    for case_id, plan in plans.items():
        case = f"{SK}case/{case_id}"
        for n, step in enumerate(plan["steps"], 1):
            s = URIRef(f"{case}/step/{n}")
            derived = {str(o) for o in g.objects(s, PROV.wasDerivedFrom)}
            assert set(step["recommendations"]) <= derived, (case_id, n)
            for rec in step["recommendations"]:
                assert any(True for _ in g.objects(URIRef(rec), PROV.wasDerivedFrom)), rec  # evidence (KB slice)
            assert any(d.startswith(case + "/") for d in derived) or not step["triggered_by"], (case_id, n)


def test_an_interrupted_run_resumes_without_redoing_or_losing_cases(generated, tmp_path, monkeypatch):
    outs = {"output": tmp_path / "plans.jsonl", "summary": tmp_path / "s.csv", "provenance": tmp_path / "p.nt"}
    whole = {k: tmp_path / f"whole-{v.name}" for k, v in outs.items()}
    run_cohort(generated, whole["output"], summary=whole["summary"], provenance=whole["provenance"], batch_size=10)

    real, calls = cohort.reason_batch, []

    def dying(r, raws, source, kind, *rest):
        calls.append(len(raws))
        if len(calls) == 4:  # the fourth batch is half-written when the process dies
            out = real(r, raws, source, kind, *rest)
            raise KeyboardInterrupt(out)
        return real(r, raws, source, kind, *rest)

    monkeypatch.setattr(cohort, "reason_batch", dying)
    with pytest.raises(KeyboardInterrupt):
        run_cohort(generated, outs["output"], summary=outs["summary"], provenance=outs["provenance"], batch_size=10)
    assert not outs["output"].exists()  # nothing at the final name until the run completes
    partial = tmp_path / ".plans.jsonl.partial"
    assert len(partial.read_text().splitlines()) == 30
    with partial.open("a") as f:
        f.write('{"case": "half-writ')  # what a kill in the middle of a write leaves

    calls.clear()
    monkeypatch.setattr(cohort, "reason_batch", lambda *a: (calls.append(len(a[1])), real(*a))[1])
    stats = run_cohort(
        generated, outs["output"], summary=outs["summary"], provenance=outs["provenance"], batch_size=10, resume=True
    )
    assert stats.resumed_from == 30 and sum(calls) == 30  # only the cases not done before
    assert outs["output"].read_bytes() == whole["output"].read_bytes()
    assert outs["summary"].read_bytes() == whole["summary"].read_bytes()
    timeless = lambda p: sorted(x for x in p.read_text().splitlines() if "AtTime" not in x)  # noqa: E731
    assert timeless(outs["provenance"]) == timeless(whole["provenance"])
    assert not partial.exists() and not (tmp_path / ".plans.jsonl.state").exists()


def test_resume_refuses_a_state_of_other_input(generated, tmp_path, monkeypatch):
    other = tmp_path / "other.jsonl"
    other.write_text(generated.read_text().splitlines()[0] + "\n")
    state = tmp_path / ".plans.jsonl.state"
    state.write_text(json.dumps({"fingerprint": {"input": "elsewhere"}, "done": 1, "lengths": {}}))
    with pytest.raises(UsageError, match="other input"):
        run_cohort(other, tmp_path / "plans.jsonl", resume=True)


def test_cli_progress_bar_and_summary_line(spinekg, generated, tmp_path):
    out = spinekg("cohort", generated, "--output", tmp_path / "plans.jsonl", "--progress", "--batch-size", 20)
    assert out.returncode == 0, out.stderr
    assert "spinekg cohort: 100%" in out.stderr and "60/60" in out.stderr
    assert "60 read, 60 planned, 0 rejected" in out.stderr


def test_cli_usage_errors_exit_2(spinekg, tmp_path):
    out = spinekg("cohort", tmp_path / "missing.jsonl", "--output", tmp_path / "p.jsonl")
    assert out.returncode == 2 and "no such file or folder" in out.stderr
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a"}\n')
    out = spinekg("cohort", src, "--output", tmp_path / "p.jsonl", "--provenance", tmp_path / "p.rdf")
    assert out.returncode == 2 and "must end in .nt" in out.stderr and not (tmp_path / "p.jsonl").exists()


# --- the same rules in a SPARQL 1.1 store ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def oxigraph_server(tmp_path):
    """A real, writable Oxigraph server on loopback, stopped by the test that started it."""
    binary = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "serve", "--location", str(tmp_path / "store"), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/query?query=ASK%7B%7D", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail(f"oxigraph did not start: {proc.stderr.read().decode()[:500]}")
    # the user's own data, which a run must leave as it was
    mine = "INSERT DATA { <urn:mine> <urn:p> 1 . GRAPH <urn:g> { <urn:a> <urn:b> 2 } }"
    body = urllib.parse.urlencode({"update": mine})
    urllib.request.urlopen(urllib.request.Request(f"{base}/update", data=body.encode()), timeout=10).read()
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def _quad_count(base: str) -> int:
    q = "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
    req = urllib.request.Request(
        f"{base}/query?{urllib.parse.urlencode({'query': q})}", headers={"Accept": "application/sparql-results+json"}
    )
    data = json.loads(urllib.request.urlopen(req, timeout=10).read())
    return int(data["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize("graph_store", [True, False], ids=["graph-store-protocol", "insert-data"])
def test_endpoint_mode_gives_the_embedded_plans_and_leaves_the_store_as_it_was(
    spinekg, generated, tmp_path, oxigraph_server, graph_store
):
    embedded = tmp_path / "embedded.jsonl"
    run_cohort(generated, embedded, batch_size=25)
    before = _quad_count(oxigraph_server)
    args = ["--endpoint", f"{oxigraph_server}/query", "--update-endpoint", f"{oxigraph_server}/update"]
    if graph_store:
        args += ["--graph-store", f"{oxigraph_server}/store"]
    out = spinekg("cohort", generated, "--output", tmp_path / "remote.jsonl", "--batch-size", 25, *args)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "remote.jsonl").read_bytes() == embedded.read_bytes()
    assert _quad_count(oxigraph_server) == before == 2


def test_endpoint_that_does_not_answer_is_a_clear_error(spinekg, generated, tmp_path):
    port = _free_port()  # nothing listens there
    out = spinekg("cohort", generated, "--output", tmp_path / "p.jsonl", "--endpoint", f"http://127.0.0.1:{port}/query")
    assert out.returncode != 0 and f"127.0.0.1:{port}" in out.stderr and "Traceback" not in out.stderr


def test_outputs_never_overwrite_the_input_or_each_other(generated, tmp_path):
    before = generated.read_bytes()
    with pytest.raises(UsageError, match="is the input"):
        run_cohort(generated, generated)
    with pytest.raises(UsageError, match="is --output"):
        run_cohort(generated, tmp_path / "p.jsonl", summary=tmp_path / "p.jsonl")
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "a.json").write_text('{"id": "a"}')
    with pytest.raises(UsageError, match="inside the input folder"):
        run_cohort(folder, folder / "plans.jsonl")
    assert generated.read_bytes() == before and not (folder / "plans.jsonl").exists()
