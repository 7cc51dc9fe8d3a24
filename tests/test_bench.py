"""The benchmark's own guarantees: deterministic realistic cases, baselines whose plans are spinekg's, one table.

Nothing here is timed: speed is what ``python -m bench.run`` measures.
"""

from __future__ import annotations

import dataclasses
import doctest
import json
import math
import subprocess
import sys

import pytest
import yaml

from bench import generate, measure, table
from bench.baselines.plain_python import PlainPython
from bench.run import run_baseline
from reasoner.api import default_reasoner, reason
from reasoner.case.files import load_case
from reasoner.case.model import SCHEMA_PATH
from reasoner.case.validate import parse_case
from reasoner.errors import CaseError

from constants import ACCEPTANCE, EXAMPLE_CASES, ROOT

VIGNETTES = sorted(ACCEPTANCE.glob("*.yaml"))


@pytest.fixture(scope="module")
def reasoner():
    return default_reasoner()


def chosen_cases(n_flagged: int = 10, n_plain: int = 10) -> list[dict]:
    """Generated cases, half of them with red flags (seed 11), so the red-flag rules are exercised too."""
    flagged = [d for d, f in generate.labelled(2000, 11) if f][:n_flagged]
    plain = [d for d, f in generate.labelled(2000, 11) if not f][:n_plain]
    return flagged + plain


@pytest.fixture(scope="module")
def cases() -> list[dict]:
    return chosen_cases() + [load_case(p).data for p in EXAMPLE_CASES]


@pytest.fixture(scope="module")
def spinekg_plans(cases, reasoner) -> list[dict]:
    return [r.plan.to_dict() for r in reason(cases, reasoner)]


# --- the generator ---------------------------------------------------------------------------------------------


def test_same_seed_gives_the_same_bytes_and_another_seed_other_cases(tmp_path):
    def cli(seed: int, name: str) -> bytes:
        out = tmp_path / name
        subprocess.run(
            [sys.executable, "-m", "bench.generate", "--n", "300", "--seed", str(seed), "--output", str(out)],
            cwd=ROOT,
            check=True,
        )
        return out.read_bytes()

    first, again, other = cli(3, "a.jsonl"), cli(3, "b.jsonl"), cli(4, "c.jsonl")
    assert first == again
    lines = first.decode().splitlines()
    assert [json.loads(x)["id"] for x in lines] == [f"gen-3-{i}" for i in range(300)]
    assert first != other
    others = other.decode().splitlines()
    # not just the ids: the findings differ too
    strip = lambda line: {k: v for k, v in json.loads(line).items() if k != "id"}  # noqa: E731
    assert sum(strip(a) != strip(b) for a, b in zip(lines, others, strict=True)) > 200


def test_a_smaller_cohort_is_the_start_of_a_larger_one():
    assert list(generate.generate(50, 2)) == list(generate.generate(200, 2))[:50]


def test_every_generated_case_parses():
    for doc in generate.generate(200, 5):
        assert parse_case(doc).id == doc["id"]


def _schema_paths(schema: dict, node: dict, prefix: str = "") -> set[str]:
    """Every field path of the case format, lists as ``[]`` (``imaging[].findings[].level``)."""
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    out = set()
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        return _schema_paths(schema, node["items"], prefix + "[]") | {prefix + "[]"}
    for key, sub in node.get("properties", {}).items():
        path = f"{prefix}.{key}" if prefix else key
        out |= {path} | _schema_paths(schema, sub, path)
    return out


def _doc_paths(value, prefix: str = "") -> set[str]:
    """Every field path a case document uses, in the same notation."""
    out = set()
    if isinstance(value, dict):
        for key, sub in value.items():
            path = f"{prefix}.{key}" if prefix else key
            out |= {path} | _doc_paths(sub, path)
    elif isinstance(value, list):
        out.add(prefix + "[]")
        for sub in value:
            out |= _doc_paths(sub, prefix + "[]")
    return out


def test_every_field_of_the_case_format_is_exercised():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    wanted = _schema_paths(schema, schema)
    assert {"imaging[].findings[].new", "symptoms[].present", "scores.mjoa", "candidate_for[]"} <= wanted
    seen = set().union(*(_doc_paths(d) for d in generate.generate(1000, 6)))
    assert wanted - seen == set()


def test_red_flags_come_at_the_configured_rates():
    n = 20_000
    counts = dict.fromkeys(generate.RED_FLAG_RATES, 0)
    any_flag = 0
    for _, flags in generate.labelled(n, 9):
        any_flag += bool(flags)
        for f in flags:
            counts[f] += 1
    for flag, rate in generate.RED_FLAG_RATES.items():
        band = 4 * math.sqrt(n * rate * (1 - rate))
        assert abs(counts[flag] - n * rate) <= band, (flag, counts[flag], n * rate)
    p = 1 - math.prod(1 - r for r in generate.RED_FLAG_RATES.values())
    assert abs(any_flag - n * p) <= 4 * math.sqrt(n * p * (1 - p)), (any_flag, n * p)


def test_the_reasoner_raises_exactly_the_red_flags_each_case_was_drawn_with(reasoner):
    sample = list(generate.labelled(2000, 12))
    picked = [x for x in sample if x[1]][:40] + [x for x in sample if not x[1]][:160]
    assert {f for _, flags in picked for f in flags} == set(generate.RED_FLAG_RATES)
    results = reason([doc for doc, _ in picked], reasoner)
    for (doc, flags), result in zip(picked, results, strict=True):
        assert {f.id for f in result.plan.red_flags} == set(flags), doc


# --- the baselines ---------------------------------------------------------------------------------------------


def assert_same_plans(baseline, cases, spinekg_plans):
    got = [p.to_dict() for batch in baseline.plans(cases) for p in batch]
    assert len(got) == len(cases)
    for doc, want, have in zip(cases, spinekg_plans, got, strict=True):
        assert have == want, (doc["id"], measure.first_difference(want, have))


def test_plain_python_plans_equal_spinekg(reasoner, cases, spinekg_plans):
    assert_same_plans(PlainPython(reasoner), cases, spinekg_plans)


def acceptance_cases() -> list[dict]:
    """The clinical acceptance vignettes' cases the reader accepts (id: the file stem): cervical levels, zones, cord
    compression, myelopathy grades, duration phases, vitals, labs, red-flag screens, severity none, MRC grades."""
    out = []
    for path in VIGNETTES:
        doc = {**yaml.safe_load(path.read_text(encoding="utf-8"))["case"], "id": path.stem}
        try:
            parse_case(doc)
        except CaseError:
            continue  # a vignette of a case the reader rejects
        out.append(doc)
    return out


def test_plain_python_plans_equal_spinekg_on_the_acceptance_vignettes(reasoner):
    docs = acceptance_cases()
    assert len(docs) >= 20
    assert_same_plans(PlainPython(reasoner), docs, [r.plan.to_dict() for r in reason(docs, reasoner)])


@pytest.mark.java
def test_owlready2_swrl_plans_equal_spinekg(reasoner, cases, spinekg_plans, java):
    from bench.baselines.owlready2_swrl import Owlready2Swrl

    assert_same_plans(Owlready2Swrl(reasoner, batch_size=len(cases)), cases, spinekg_plans)


def test_rdflib_owlrl_plan_equals_spinekg(reasoner):
    from bench.baselines.rdflib_owlrl import RdflibOwlrl

    # one case with much to get right (OWL RL closes a whole KB per case, so one is what a test can afford):
    # a red flag, imaging at a disc level (root reach, concordance), a prior treatment
    doc = next(
        d
        for d, flags in generate.labelled(2000, 11)
        if flags
        and d.get("prior_treatments")
        and any(f.get("level") for s in d.get("imaging", []) for f in s["findings"])
    )
    want = reason([doc], reasoner)[0].plan.to_dict()
    (have,) = next(RdflibOwlrl(reasoner).plans([doc]))
    assert have.to_dict() == want, measure.first_difference(want, have.to_dict())


@pytest.mark.long
def test_rdflib_owlrl_plans_equal_spinekg_on_every_case(reasoner, cases, spinekg_plans):
    """The examples and the 20 generated cases through OWL RL: several minutes (``pytest -m long``)."""
    from bench.baselines.rdflib_owlrl import RdflibOwlrl

    assert_same_plans(RdflibOwlrl(reasoner), cases, spinekg_plans)


# --- the harness -----------------------------------------------------------------------------------------------


def test_the_plan_digest_tells_plans_apart(reasoner, cases):
    plan, other = (r.plan for r in reason(cases[:2], reasoner))
    assert measure.digest(plan) == measure.digest(reason(cases[:1], reasoner)[0].plan)
    assert measure.digest(plan) != measure.digest(other)
    changed = dataclasses.replace(plan, steps=plan.steps[:-1])
    assert measure.digest(plan) != measure.digest(changed)


class _Dropping:
    """A baseline that gets one plan wrong: the harness must void its row."""

    def __init__(self, inner, wrong: int):
        self.inner, self.wrong = inner, wrong

    def plans(self, docs):
        for i, batch in enumerate(self.inner.plans(docs)):
            yield [dataclasses.replace(p, steps=p.steps[1:]) if i == self.wrong else p for p in batch]


def test_a_baseline_whose_plan_differs_voids_its_row(reasoner, cases):
    docs = cases[:4]
    reference = [measure.digest(r.plan) for r in reason(docs, reasoner)]
    ok = run_baseline(PlainPython(reasoner), docs, reference, None, 0.001, reasoner)
    assert ok["plans"] == {"equal": True, "compared": 4} and ok["status"] == "finished"
    bad = run_baseline(_Dropping(PlainPython(reasoner), 2), docs, reference, None, 0.001, reasoner)
    assert bad["plans"]["equal"] is False and bad["plans"]["case"] == docs[2]["id"]
    assert bad["plans"]["where"].startswith("plan.steps")
    assert "**VOID**" in table.baseline_cell(bad) and docs[2]["id"] in table.baseline_cell(bad)


def test_quick_run_writes_one_table_with_every_column(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--baselines", "c", "--results-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (data,) = tmp_path.glob("*.json")
    result = json.loads(data.read_text(encoding="utf-8"))
    assert (tmp_path / "latest.md").read_text(encoding="utf-8") == data.with_suffix(".md").read_text(encoding="utf-8")
    text = (tmp_path / "latest.md").read_text(encoding="utf-8")
    assert text in done.stdout
    rows = [line for line in text.splitlines() if line.startswith("|")]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    assert header == ["measurement", "spinekg", "target", *table.BASELINES.values()]
    assert all(len(r.strip("|").split("|")) == len(header) for r in rows)
    # header, rule, single, cold; per size: cohort, bytes per case (N-Triples, Turtle, gzip), the Python floor,
    # stage shares, in-process; the external-store row
    assert len(rows) == 2 + 2 + 7 * len(result["sizes"]) + 1
    m = result["machine"]
    assert m["cpu"] and m["cores"] and m["ram_gib"] and m["python"]
    assert all(m["packages"][p] for p in ("pyoxigraph", "rdflib", "owlrl", "owlready2"))
    (size,) = result["sizes"]
    assert size["cohort"]["plans"] == size["cases"] and size["cohort"]["peak_mib"] > 0
    assert size["cohort"]["bytes_per_case"] > 0 and set(size["cohort"]["bytes"]) >= {"plans.jsonl", "prov.nt"}
    turtle = size["cohort_turtle"]
    assert (
        set(turtle["bytes"]) >= {"plans.jsonl", "prov.ttl"}
        and turtle["bytes_per_case"] < size["cohort"]["bytes_per_case"]
    )
    packed = size["cohort_gzip"]
    assert set(packed["bytes"]) >= {"plans.jsonl.gz", "prov.nt.gz"} and packed["plans"] == size["cases"]
    assert packed["bytes_per_case"] * 5 < size["cohort"]["bytes_per_case"]
    assert size["python_floor_seconds"] > 0 and 99 <= sum(v for k, v in size["stages"].items() if k != "seconds") <= 101
    assert result["endpoint"]["cases"] == 10 and result["endpoint"]["exit"] == 0
    c = size["baselines"]["c"]
    assert c["status"] == "finished" and c["plans"] == {"equal": True, "compared": size["cases"]} and c["ratio"] > 0
    assert size["baselines"]["a"] == {"status": "not run", "reason": "not selected"}
    assert result["single_case"]["p50_ms"] > 0 and result["cold_cli"]["median_s"] > 0


@pytest.mark.parametrize("module", ["bench.generate", "bench.measure", "bench.table", "bench.baselines"])
def test_doctests(module):
    import importlib

    failed, attempted = doctest.testmod(importlib.import_module(module))
    assert attempted > 0 and failed == 0
