"""Case input under fuzzing: every generated file gives a plan or a rejection naming the field, never a crash.

Valid generated cases must give a plan whose every step has evidence and a complete provenance chain;
broken ones (one class of damage each, see ``fuzz_strategies.CLASSES``) must be rejected with a problem at
the damaged field, with nothing coerced. The library is fuzzed for volume, the command line for a sample.
The default run tries a few hundred files; ``pytest -m long tests/test_fuzz_case.py`` tries 10,000 and
writes how each class of input ended to ``$SPINEKG_FUZZ_REPORT`` (JSON) when that is set.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from rdflib import URIRef

from reasoner.api import reason
from reasoner.case.files import load_case
from reasoner.case.model import MAX_BYTES, case_iri
from reasoner.case.paths import field_path
from reasoner.consts import OA, PROV, RDF, SK
from reasoner.errors import CaseError

from constants import EXAMPLES, ROOT
from fuzz_strategies import CLASSES, STRATEGIES, CaseFile, huge_file_of

#: A bound against hangs (a file must be read, and a valid one planned, within it), not a speed test.
TIME_LIMIT_S = 120
EXAMPLES_PER_CLASS = 25
LONG_TOTAL = 10_000
LONG_CLI_PER_CLASS = 10
CLI_SAMPLE = ("valid", "wrong_type", "malformed_json", "deep_nesting", "injection", "huge_file", "rdf_literal")
OUTCOMES = ("plan", "rejected", "crashed", "hung")
TALLY: dict[str, Counter] = {kind: Counter() for kind in CLASSES}
CLI_TALLY: dict[str, Counter] = {kind: Counter() for kind in CLASSES}
STEPS_CHECKED = Counter()
#: Valid cases hypothesis tries first: example files with red flags and many steps (so the checks are not vacuous).
EXPLICIT = {
    "valid": [
        CaseFile("valid", ".yaml", path.read_bytes(), "plan", doc=yaml.safe_load(path.read_text(encoding="utf-8")))
        for path in (EXAMPLES / "redflag-cauda-equina.yaml", EXAMPLES / "003-disc-space-narrowing.yaml")
    ]
}


class Hung(Exception):
    """A library call ran past ``TIME_LIMIT_S``."""


@contextlib.contextmanager
def time_limit(seconds: float):
    def expire(signum, frame):
        raise Hung(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def resolves(doc: dict, path: str) -> bool:
    """Whether a field path (``imaging[0].findings[2]``, ``scores.mjoa``) names something ``doc`` holds."""
    cur: object = doc
    for key, index in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]", path):
        if key:
            if not isinstance(cur, dict) or key not in cur:
                return False
            cur = cur[key]
        else:
            if not isinstance(cur, list) or int(index) >= len(cur):
                return False
            cur = cur[int(index)]
    return bool(path)


def placed(problem, source: str) -> bool:
    """A problem names a field path, or the file (unreadable, not YAML/JSON, too big), or the whole document."""
    return bool(problem.path) or problem.value == source or problem.message.startswith(("is not a mapping", "has "))


# --- the checks, one generated file at a time ---------------------------------------------------------------------


def check_library(sample: CaseFile) -> None:
    """Read (and for a case that is read, plan) one file with the library, and hold the outcome to the contract."""
    with tempfile.TemporaryDirectory() as tmp:
        path = sample.write(Path(tmp) / "case")
        digest = sha256(path) if not sample.size else None
        outcome, error, result = "crashed", None, None
        try:
            with time_limit(TIME_LIMIT_S):
                try:
                    case = load_case(path)
                    result = reason([case])[0]
                    graph = result.provenance()
                    outcome = "plan"
                except CaseError as exc:
                    outcome, error = "rejected", exc
        except Hung:
            outcome = "hung"
            raise
        finally:
            TALLY[sample.kind][outcome] += 1
        assert digest is None or sha256(path) == digest, "the reader changed its input file"
    if sample.expect == "plan":
        assert error is None, f"a valid case was rejected:\n{error}"
        check_plan(sample, case, result, graph)
        return
    assert result is None, f"a plan was made from a broken file: {case.data!r}"
    assert error.problems and all(placed(p, error.source) for p in error.problems), str(error)
    assert any(sample.names(p.path) for p in error.problems), f"no problem at {sample.paths}:\n{error}"
    assert all(c.isprintable() or c == "\n" for c in str(error)), f"raw control characters in {str(error)!r}"


def check_plan(sample: CaseFile, case, result, graph) -> None:
    doc, plan = sample.doc, result.plan
    if sample.suffix in (".yaml", ".json"):  # exactly as given: no coercion, no default filled in
        assert json.dumps(case.data, sort_keys=True) == json.dumps(doc, sort_keys=True)
    assert plan.case == doc["id"]
    for flag in plan.red_flags:
        assert flag.triggered_by and all(resolves(doc, p) for p in flag.triggered_by), flag
    case = str(case_iri(doc["id"]))
    (run,) = graph.subjects(RDF.type, SK.ReasoningRun)
    assert (run, PROV.used, URIRef(case)) in graph
    nodes = sorted(graph.subjects(RDF.type, SK.PlanStep), key=lambda s: int(graph.value(s, SK.stepPosition)))
    assert len(nodes) == len(plan.steps)
    for node, step in zip(nodes, plan.steps, strict=True):
        assert all(resolves(doc, p) for p in step.triggered_by), (step.id, step.triggered_by)
        assert step.evidence and all(e.quote and e.article for e in step.evidence), step
        assert (node, PROV.wasGeneratedBy, run) in graph
        derived = set(graph.objects(node, PROV.wasDerivedFrom))
        # its recommendations and those it covers whose sentences it keeps (wiprfev; Step.backed), and every one it
        # covers named by sk:covers (a covered one that argues nothing for it is not a derivation: article 000's
        # routine referral under a progressive deficit's urgent one)
        recs = {str(o) for o in derived if (o, RDF.type, SK.Recommendation) in graph}
        assert recs == {*step.recommendations, *step.backed}
        assert {str(o) for o in graph.objects(node, SK.covers)} == set(step.covers)
        facts = {field_path(case, str(o)) for o in derived if str(o) == case or str(o).startswith(case + "/")}
        assert facts == set(step.triggered_by), (step.id, facts, step.triggered_by)
        quotes = set()
        for rec in (*step.recommendations, *step.covers):  # a covered "consider" keeps its sentences on the step
            evidence = list(graph.objects(URIRef(rec), PROV.wasDerivedFrom))
            assert evidence, f"{rec} derives from no evidence in the provenance"
            for ev in evidence:
                quotes.update(str(q) for q in graph.objects(ev, OA.hasTarget / OA.hasSelector / OA.exact))
                quotes.update(str(q) for q in graph.objects(ev, SK.referenceText))
        assert {e.quote for e in step.evidence} <= quotes, step.id
    STEPS_CHECKED["steps"] += len(plan.steps)
    STEPS_CHECKED["red_flags"] += len(plan.red_flags)


def check_cli(sample: CaseFile) -> None:
    """``spinekg recommend FILE --format json`` in a subprocess: exit 0 and a plan, or exit 2 naming the field."""
    with tempfile.TemporaryDirectory() as tmp:
        path = sample.write(Path(tmp) / "case")
        outcome = "crashed"
        try:
            out = subprocess.run(
                [sys.executable, "-m", "reasoner", "recommend", str(path), "--format", "json"],
                capture_output=True,
                cwd=ROOT,
                timeout=TIME_LIMIT_S,
            )
            outcome = {0: "plan", 2: "rejected"}.get(out.returncode, "crashed")
        except subprocess.TimeoutExpired:
            outcome = "hung"
            raise
        finally:
            CLI_TALLY[sample.kind][outcome] += 1
    stdout, stderr = out.stdout.decode(), out.stderr.decode("utf-8", "backslashreplace")
    assert "Traceback" not in stderr, stderr
    if sample.expect == "plan":
        assert out.returncode == 0, stderr
        assert json.loads(stdout)["case"] == sample.doc["id"]
        return
    assert out.returncode == 2 and stdout == "", (out.returncode, stdout[:500], stderr)
    shown = [str(path) if p == "" else f"  {p[:-1]}" if p.endswith("*") else f"  {p}: " for p in sample.paths]
    assert any(s in stderr for s in shown), f"none of {shown} in:\n{stderr}"


def run_class(kind: str, examples: int, check) -> None:
    """Run ``check`` over ``examples`` files of one class drawn by hypothesis (no example database is kept)."""
    settings_ = settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck), print_blob=True
    )
    test = given(STRATEGIES[kind])(check)
    for sample in EXPLICIT.get(kind, []):
        test = example(sample)(test)
    settings_(test)()


def report(tally: dict[str, Counter], cli: dict[str, Counter], seconds: float) -> dict:
    def table(t):
        return {kind: {o: t[kind][o] for o in OUTCOMES} for kind in CLASSES if sum(t[kind].values())}

    def total(t):
        return {o: sum(t[k][o] for k in CLASSES) for o in OUTCOMES}

    return {
        "library": table(tally),
        "library_total": total(tally),
        "cli": table(cli),
        "cli_total": total(cli),
        "valid_plans_checked": dict(STEPS_CHECKED),
        "seconds": round(seconds),
    }


@pytest.fixture(scope="module", autouse=True)
def figures():
    """After the module: print how each class of input ended, and write it to $SPINEKG_FUZZ_REPORT if set."""
    start = time.monotonic()
    yield
    figures = report(TALLY, CLI_TALLY, time.monotonic() - start)
    print("\nfuzzing figures:", json.dumps(figures, indent=1))
    if os.environ.get("SPINEKG_FUZZ_REPORT"):
        Path(os.environ["SPINEKG_FUZZ_REPORT"]).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


# --- the tests ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", CLASSES)
def test_generated_case_files_give_a_plan_or_a_rejection_at_the_field(kind):
    run_class(kind, EXAMPLES_PER_CLASS, check_library)
    assert TALLY[kind]["crashed"] == TALLY[kind]["hung"] == 0
    assert kind != "valid" or STEPS_CHECKED["steps"] > 0 and STEPS_CHECKED["red_flags"] > 0


def test_a_50_mb_file_is_rejected_by_its_size_before_it_is_parsed():
    sample = huge_file_of(50_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        path = sample.write(Path(tmp) / "case")
        with time_limit(TIME_LIMIT_S), pytest.raises(CaseError) as caught:
            load_case(path)
    TALLY["huge_file"]["rejected"] += 1
    (problem,) = caught.value.problems
    assert problem.value == str(path)
    assert problem.message == f"is 50.0 MB, larger than the {MAX_BYTES / 1e6:g} MB limit of a case file"


@pytest.mark.parametrize("kind", CLI_SAMPLE)
def test_the_command_line_exits_0_with_a_plan_or_2_naming_the_field(kind):
    run_class(kind, 1, check_cli)


@pytest.mark.long
def test_long_run_of_10000_generated_files(request):
    """The long run: 10,000 files through the library and 10 of each class through the command line."""
    if "long" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("the long fuzzing run: pytest -m long tests/test_fuzz_case.py")
    start, failures = time.monotonic(), []
    each = LONG_TOTAL // len(CLASSES)
    for n, kind in enumerate(CLASSES):
        try:
            run_class(kind, each + (LONG_TOTAL % len(CLASSES) if n == 0 else 0), check_library)
        except Exception as exc:  # keep going: every class is reported, then the test fails
            failures.append(f"{kind}: {exc!r}"[:2000])
        try:
            run_class(kind, LONG_CLI_PER_CLASS, check_cli)
        except Exception as exc:
            failures.append(f"{kind} (command line): {exc!r}"[:2000])
    figures = report(TALLY, CLI_TALLY, time.monotonic() - start)
    print("\nlong fuzzing run:", json.dumps(figures, indent=1))
    if os.environ.get("SPINEKG_FUZZ_REPORT"):
        Path(os.environ["SPINEKG_FUZZ_REPORT"]).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    assert not failures, "\n".join(failures)
    assert figures["library_total"]["crashed"] == figures["library_total"]["hung"] == 0
