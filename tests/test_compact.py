"""Issue 15: a cohort line refers to the knowledge base instead of repeating it, and loses nothing.

``expand(compact(plan), kb_part)`` must be exactly the full plan (``recommend --format json``) for every example,
every acceptance vignette and a few hundred generated cases; a cohort's compact lines and its KB part join back to
the plans ``--full`` writes.
"""

from __future__ import annotations

import json
from dataclasses import replace

import orjson
import pytest
import yaml

from bench.generate import generate
from reasoner.api import default_reasoner, reason
from reasoner.case.validate import parse_case
from reasoner.cohort.run import run_cohort
from reasoner.plan.compact import FORMAT, compact, expand, kb_part

from constants import ACCEPTANCE, EXAMPLES


def _vignettes():
    out = []
    for path in sorted(ACCEPTANCE.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        case = dict(doc.get("case") or {})
        case.setdefault("id", path.stem)
        try:
            out.append(parse_case(case))
        except Exception:  # a vignette meant to be rejected
            continue
    return out


@pytest.fixture(scope="module")
def plans():
    cases = sorted(EXAMPLES.glob("*.yaml")) + _vignettes() + list(generate(300, seed=15))
    return [r.plan for r in reason(cases)]


def test_issue15_compact_line_expands_to_the_full_plan(plans):
    part = kb_part(default_reasoner())
    differ = []
    for plan in plans:
        line = orjson.loads(orjson.dumps(compact(plan, part)))  # as written and read back
        if expand(line, part) != json.loads(plan.to_json()):
            differ.append(plan.case)
    assert differ == [], f"{len(differ)} of {len(plans)} plans do not join back: {differ[:5]}"


def test_issue15_compact_lines_are_a_fraction_of_the_full_plans(plans):
    part = kb_part(default_reasoner())
    full = sum(len(p.to_json().encode()) for p in plans)
    small = sum(len(orjson.dumps(compact(p, part))) for p in plans)
    assert small < full / 3, (small, full)


def test_issue15_the_not_applicable_recommendations_are_carried_by_their_conditions(plans):
    part = kb_part(default_reasoner())
    lines = [compact(plan, part) for plan in plans]

    # every plan's why-nots come back from the statuses of the conditions not at their default: none is listed, but
    # where a rung is shown ahead (wipahead: a step whose failed-care condition is pending, or a why-not saying so),
    # which conditions' statuses alone do not say; those plans keep their entries (expand still gives the whole plan)
    def ahead(plan):
        pending = any("pending, not failed" in w for n in plan.not_applicable for w in n.why)
        return pending or any(
            s.phase == "if_persistent" and s.timing and ("begins it now" in s.timing or "so far " in s.timing)
            for s in plan.steps
        )

    assert all(
        ahead(p) or ("conditions" in line and line["not_applicable"] == [])
        for p, line in zip(plans, lines, strict=True)
    )
    assert sum("conditions" in line and line["not_applicable"] == [] for line in lines) > len(lines) // 2
    decided = [(int(k), v) for line in lines for k, v in line.get("conditions", {}).items()]
    assert decided and all(0 <= k < len(part["condition_defaults"]) for k, _ in decided)
    assert all(v[0] in "hfu" and v != [part["condition_defaults"][k], []] for k, v in decided)
    assert {v[0] for _, v in decided} == {"h", "f", "u"}  # holds, fails (with the facts) and unknown all occur
    entry = next(e for line in lines for e in expand(line, part)["not_applicable"])
    assert entry["why"] and entry["status"] in ("fails", "unknown")


def test_issue15_a_cohort_writes_compact_lines_and_its_kb_part_once(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(d) + "\n" for d in generate(40, seed=3)), encoding="utf-8")
    run_cohort(cases, tmp_path / "plans.jsonl", errors=None, progress=False)
    run_cohort(cases, tmp_path / "full.jsonl", errors=None, progress=False, full=True)
    part = json.loads((tmp_path / "plans.kb.json").read_text(encoding="utf-8"))
    lines = [json.loads(x) for x in (tmp_path / "plans.jsonl").read_text(encoding="utf-8").splitlines()]
    whole = [json.loads(x) for x in (tmp_path / "full.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(line["format"] == FORMAT for line in lines)
    assert [expand(line, part) for line in lines] == whole
    assert not (tmp_path / "full.kb.json").exists()


def test_issue15_a_line_and_a_part_of_another_kb_version_are_refused(plans):
    part = kb_part(default_reasoner())
    line = compact(plans[0], part)
    with pytest.raises(ValueError, match="KB version"):
        expand({**line, "kb_version": "0.0.0+other"}, part)


def test_issue15_a_why_not_of_its_own_wording_is_kept_whole_and_still_joins_back(plans):
    part = kb_part(default_reasoner())
    plan = next(p for p in plans if p.not_applicable)
    odd = replace(plan.not_applicable[0], why=("a reason no condition gives",))
    changed = replace(plan, not_applicable=(odd, *plan.not_applicable[1:]))
    line = orjson.loads(orjson.dumps(compact(changed, part)))
    assert "conditions" in line and [e["why"] for e in line["not_applicable"]] == [list(odd.why)]
    assert expand(line, part) == json.loads(changed.to_json())


def test_issue15_why_nots_that_disagree_on_a_condition_are_listed_one_by_one(plans):
    part = kb_part(default_reasoner())
    recs = part["recommendations"]
    for plan in plans:  # a plan with two why-nots naming the same failed condition (a named, shared one)
        by_key: dict = {}
        for n, e in enumerate(plan.not_applicable):
            rec = e.recommendation.removeprefix("https://w3id.org/spinekg/")
            for i, key in enumerate(recs[rec]["keys"], 1):
                text = recs[rec]["conditions"][f"c{i}"] + " does not hold"
                if text in e.why:
                    by_key.setdefault(key, []).append((n, e, text))
        shared = next((v for v in by_key.values() if len(v) > 1), None)
        if shared is not None:
            break
    else:
        pytest.fail("no plan has two why-nots with the same failed condition")
    n, entry, text = shared[0]
    why = tuple(w + ": recorded symptoms[9]" if w == text else w for w in entry.why)
    entries = list(plan.not_applicable)
    entries[n] = replace(entry, why=why)
    changed = replace(plan, not_applicable=tuple(entries))
    line = orjson.loads(orjson.dumps(compact(changed, part)))
    assert "conditions" not in line and len(line["not_applicable"]) == len(entries)
    assert expand(line, part) == json.loads(changed.to_json())
