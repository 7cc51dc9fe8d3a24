"""Nothing lost, nothing changed: inputs are byte-identical after every command, outputs land whole, plans repeat.

Each command that reads a case or the knowledge base is run (in one child process, through ``reasoner.cli.main``)
over copies of the examples, the ontology and the query library; the SHA-256 of every input file is taken
before and after each command. Outputs given with ``--output`` must replace an existing file by renaming a
finished temporary file into place (a new inode, no temporary file left behind), and a rejected case must leave
an existing output untouched. The same case must give the same JSON plan, byte for byte, in two processes with
different hash seeds (set and dict order is not allowed to leak into the plan); the run's time is only in the
provenance graph.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from reasoner.cli import build_parser
from reasoner.consts import PROV

from constants import EXAMPLE_CASES, EXAMPLES, ROOT

CASE = "000-gluteal-s2-s3-numbness.yaml"
OTHER = "002-lumbosacral-radiculopathy.yaml"

#: Runs each command through ``reasoner.cli.main`` and records its exit status, output and the input digests.
DRIVER = r"""
import contextlib, hashlib, io, json, sys
from pathlib import Path
from reasoner.cli import main

job = json.loads(Path(sys.argv[1]).read_text())

def digests():
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for root in job["inputs"] for p in sorted(Path(root).rglob("*")) if p.is_file()}

results = []
for name, argv in job["commands"]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    results.append({"name": name, "argv": argv, "code": code, "stdout": out.getvalue(), "stderr": err.getvalue(),
                    "digests": digests() if job["check_inputs"] else {}})
Path(job["report"]).write_text(json.dumps(results))
"""


def digests(roots: list[Path]) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest() for r in roots for p in sorted(r.rglob("*")) if p.is_file()
    }


def drive(tmp: Path, commands: list[tuple[str, list[str]]], inputs: list[Path], env: dict, seed: str) -> list[dict]:
    """Run ``commands`` in one child process (hash seed ``seed``) and return what each did."""
    job, report = tmp / f"job-{seed}.json", tmp / f"report-{seed}.json"
    job.write_text(
        json.dumps(
            {
                "commands": commands,
                "inputs": [str(p) for p in inputs],
                "report": str(report),
                "check_inputs": bool(inputs),
            }
        )
    )
    env = {**os.environ, **env, "PYTHONHASHSEED": seed}
    out = subprocess.run(
        [sys.executable, "-c", DRIVER, str(job)], cwd=tmp, env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr
    return json.loads(report.read_text())


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, seeds_dir):
    """Copies of the examples, the ontology and the query library, and where outputs go."""
    tmp = tmp_path_factory.mktemp("integrity")
    shutil.copytree(EXAMPLES, tmp / "cases")
    shutil.copytree(ROOT / "ontology", tmp / "ontology")
    shutil.copytree(ROOT / "queries", tmp / "queries")
    (tmp / "out").mkdir()
    env = {"SPINEKG_ONTOLOGY": str(tmp / "ontology"), "SPINEKG_QUERIES": str(tmp / "queries")}
    env["SPINEKG_SEEDS"] = str(seeds_dir)
    return tmp, env


def recommend_formats() -> list[str]:
    """Every ``--format`` of ``spinekg recommend``, read from the command line's own parser."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(next(a for a in sub.choices["recommend"]._actions if a.dest == "format").choices)


def commands(tmp: Path) -> list[tuple[str, list[str]]]:
    case, other, out = str(tmp / "cases" / CASE), str(tmp / "cases" / OTHER), tmp / "out"
    cmds = [(f"recommend --format {f}", ["recommend", case, "--format", f]) for f in recommend_formats()]
    cmds += [
        ("recommend --output json", ["recommend", case, "--format", "json", "--output", str(out / "plan.json")]),
        ("recommend --output ttl", ["recommend", case, "--format", "ttl", "--output", str(out / "plan.ttl")]),
        ("recommend --output html", ["recommend", case, "--format", "html", "--output", str(out / "plan.html")]),
        ("explain", ["explain", case, "mri_lumbar_spine"]),
        ("why-not", ["why-not", case, "rec_000_05"]),
        ("graph svg", ["graph", case, "mri_lumbar_spine", "--output", str(out / "step.svg")]),
        ("graph dot", ["graph", case, "1", "--output", str(out / "step.dot")]),
        ("query", ["query", "case-red-flags", "--case", case, other]),
        ("query list", ["query"]),
        ("sparql", ["sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "--case", case, "--format", "json"]),
        ("sparql rdflib", ["sparql", "ASK { ?s ?p ?o }", "--case", other, "--engine", "rdflib"]),
        ("cohort", ["cohort", str(tmp / "cases"), "--output", str(out / "cohort.jsonl"), "--workers", "1"]),
        ("map", ["map", "numbness"]),
        ("kb stats", ["kb", "stats"]),
        ("kb stats json", ["kb", "stats", "--format", "json"]),
        ("kb validate", ["kb", "validate", "--gate", "normalised", "--gate", "violations", "--gate", "quotes"]),
        ("kb normalize --check", ["kb", "normalize", "--check"]),
        ("kb export ttl", ["kb", "export", "--format", "ttl", "--output", str(out / "kb.ttl")]),
        ("kb export owl", ["kb", "export", "--format", "owl", "--output", str(out / "kb.owl")]),
        ("a rejected case", ["recommend", str(tmp / "bad" / "bad.yaml"), "--output", str(out / "kept.json")]),
    ]
    return cmds


@pytest.fixture(scope="module")
def ran(workspace):
    """Every command, once, with the outputs given ``--output`` already there (so each must be replaced)."""
    tmp, env = workspace
    (tmp / "bad").mkdir()
    (tmp / "bad" / "bad.yaml").write_text("id: bad\nsymptoms:\n  - {type: numbness, dermatomes: [L9]}\n")
    for name in OUTPUTS + ["kept.json"]:
        (tmp / "out" / name).write_text("an older file\n", encoding="utf-8")
    inodes = {p.name: p.stat().st_ino for p in (tmp / "out").iterdir()}
    inputs = [tmp / "cases", tmp / "bad", tmp / "ontology", tmp / "queries", Path(env["SPINEKG_SEEDS"])]
    before = digests(inputs)
    assert len(before) > 50
    results = drive(tmp, commands(tmp), inputs, env, "1")
    return {r["name"]: r for r in results}, before, inodes


OUTPUTS = ["plan.json", "plan.ttl", "plan.html", "step.svg", "kb.ttl", "kb.owl"]


@pytest.mark.parametrize("name", [name for name, _ in commands(Path("/"))])
def test_every_input_file_is_byte_identical_after_the_command(ran, name):
    results, before, _ = ran
    result = results[name]
    assert result["code"] == (2 if name == "a rejected case" else 0), result["stderr"][-2000:]
    after = result["digests"]
    changed = sorted(p for p in before if after.get(p) != before[p])
    added = sorted(set(after) - set(before))
    assert not changed and not added, f"{name} changed or removed {changed} and added {added}"


@pytest.mark.parametrize("name", OUTPUTS)
def test_an_output_replaces_the_old_file_by_a_rename_and_leaves_no_temporary_file(ran, workspace, name):
    _, _, inodes = ran
    tmp, _ = workspace
    path = tmp / "out" / name
    assert path.read_bytes() != b"an older file\n" and path.stat().st_size > 100
    assert path.stat().st_ino != inodes[name], f"{name} was rewritten in place, not renamed into place"
    expected = {*OUTPUTS, "kept.json", "step.dot", "cohort.jsonl", "cohort.kb.json"}
    assert {p.name for p in (tmp / "out").iterdir()} == expected, "a temporary file was left behind"


def test_a_rejected_case_leaves_an_existing_output_untouched(ran, workspace):
    results, _, inodes = ran
    tmp, _ = workspace
    kept = tmp / "out" / "kept.json"
    assert "symptoms[0].dermatomes[0]: 'L9' is not a dermatome" in results["a rejected case"]["stderr"]
    assert kept.read_bytes() == b"an older file\n" and kept.stat().st_ino == inodes["kept.json"]


def test_an_output_that_is_the_input_case_is_refused(spinekg, tmp_path):
    case = tmp_path / "case.json"
    case.write_text('{"id": "same-file", "symptoms": [{"type": "axial_pain"}]}', encoding="utf-8")
    before = hashlib.sha256(case.read_bytes()).hexdigest()
    out = spinekg("recommend", case, "--format", "json", "--output", case)
    assert hashlib.sha256(case.read_bytes()).hexdigest() == before, "the input case was overwritten by the plan"
    assert out.returncode == 2 and "--output" in out.stderr


# --- the same input, the same plan -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def twice(workspace):
    """JSON and text plans and the provenance of every example, from two processes with different hash seeds."""
    tmp, env = workspace
    runs = []
    for seed in ("1", "2"):
        out = tmp / f"plans-{seed}"
        out.mkdir()
        cmds = []
        for ex in EXAMPLE_CASES:
            case, plan = str(tmp / "cases" / ex.name), str(out / f"{ex.stem}.json")
            cmds.append((f"{ex.stem}.json", ["recommend", case, "--format", "json", "--output", plan]))
            cmds.append((f"{ex.stem}.txt", ["recommend", case]))
        cmds.append(("provenance", ["recommend", str(tmp / "cases" / CASE), "--format", "ttl"]))
        runs.append((out, {r["name"]: r for r in drive(tmp, cmds, [], env, seed)}))
    return runs


@pytest.mark.parametrize("example", EXAMPLE_CASES, ids=lambda p: p.stem)
def test_the_same_case_gives_the_same_json_plan_byte_for_byte_in_two_processes(twice, example):
    (out1, res1), (out2, res2) = twice
    assert res1[f"{example.stem}.json"]["code"] == res2[f"{example.stem}.json"]["code"] == 0
    one, two = (out1 / f"{example.stem}.json").read_bytes(), (out2 / f"{example.stem}.json").read_bytes()
    assert one == two
    assert res1[f"{example.stem}.txt"]["stdout"] == res2[f"{example.stem}.txt"]["stdout"]
    body = one.decode()
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", body), "a timestamp in the plan body"
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-", body), "a random id in the plan body"


def test_the_run_time_is_only_in_the_provenance_which_is_otherwise_the_same(twice):
    (_, res1), (_, res2) = twice
    graphs = [Graph().parse(data=r["provenance"]["stdout"], format="turtle") for r in (res1, res2)]
    times = [sorted(g.objects(None, PROV.startedAtTime)) for g in graphs]
    assert all(len(t) == 1 for t in times) and times[0] != times[1]
    for g in graphs:
        g.remove((None, PROV.startedAtTime, None))
        g.remove((None, PROV.endedAtTime, None))
    assert isomorphic(graphs[0], graphs[1])
