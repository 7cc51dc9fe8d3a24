"""One step numbering in every command (regression: two clinician reviewers).

The text plan numbers a part of an umbrella step under it (``2.``, ``2.1.``), while ``explain CASE N``, ``why-not``
("it gives step 10"), the HTML report and FHIR counted every step, parts included, with one running number: in
example 002, the step the text shows as "13. DO NOT short-term oral corticosteroids" was step 19 to ``explain``,
``explain CASE 13`` gave another step's evidence, and ``explain CASE 2.1`` was refused. ``Plan`` now gives each
step its number once (``step_numbers``), and every face shows and takes that number.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from reasoner.api import reason
from reasoner.kb.index import local
from reasoner.plan.model import step_numbers
from reasoner.present.dot import step_graph
from reasoner.present.text import STANCE as STANCES
from reasoner.present.text import explain, text, why_not

from constants import ACCEPTANCE, EXAMPLE_CASES, EXAMPLES

SEED002 = EXAMPLES / "002-lumbosacral-radiculopathy.yaml"
STEROIDS = ACCEPTANCE / "steroids-transplant-acute-lbp-no-imaging-66f.yaml"
#: a step line of the text plan: its number, stance and heading
STEP_LINE = re.compile(r"^ +(\d+(?:\.\d+)?)\. (DO NOT|DO|CONSIDER|TEMPER EXPECTATIONS OF) (.+)$", re.M)


def _vignette(path: Path) -> dict | None:
    """The case of an acceptance vignette (its id the file stem), None for one that must be rejected."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if "rejected" in (doc.get("expect") or {}):
        return None
    return {"id": path.stem, **doc["case"]}


VIGNETTES = [p for p in sorted(ACCEPTANCE.glob("*.yaml")) if _vignette(p) is not None]
NAMES = [p.stem for p in EXAMPLE_CASES] + [f"acceptance/{p.stem}" for p in VIGNETTES]


@pytest.fixture(scope="module")
def plans() -> dict:
    """Every example's and valid vignette's plan, reasoned in one batch: name → Plan."""
    cases = [*EXAMPLE_CASES, *(_vignette(p) for p in VIGNETTES)]
    return {name: r.plan for name, r in zip(NAMES, reason(cases), strict=True)}


def shown(plan) -> list[tuple[str, str, str]]:
    """The steps as the text plan prints them: (number, stance, heading with its timing)."""
    return STEP_LINE.findall(text(plan))


def test_the_examples_and_vignettes_have_steps_with_parts(plans):
    """The tests below mean something only if some plans number parts (2.1) after their umbrella step."""
    assert "3.1" in [s.number for s in plans["002-lumbosacral-radiculopathy"].steps]
    assert sum(any(s.part_of for s in p.steps) for p in plans.values()) >= 10


@pytest.mark.parametrize("name", NAMES)
def test_explain_n_explains_the_step_the_text_shows_as_n(plans, name):
    plan = plans[name]
    steps = shown(plan)
    assert [n for n, *_ in steps] == [s.number for s in plan.steps], "the text shows every step once, in plan order"
    assert [s["number"] for s in plan.to_dict()["steps"]] == [n for n, *_ in steps], "JSON gives the same numbers"
    for number, stance, heading in steps:
        assert explain(plan, number).splitlines()[0].startswith(f"step {number}: {stance} {heading.split(' — ')[0]}")


@pytest.mark.parametrize("name", NAMES)
def test_why_not_names_the_step_by_the_number_the_text_shows(plans, name):
    plan = plans[name]
    by_number = {n: f"{stance} {heading.split(' — ')[0]}" for n, stance, heading in shown(plan)}
    for rec in {local(r) for s in plan.steps for r in s.recommendations}:
        said = re.fullmatch(r"\S+ applies: it gives step (\S+) \((.+), \w+\)", why_not(plan, rec))
        assert said, why_not(plan, rec)
        assert by_number[said.group(1)] == said.group(2), f"{rec}: why-not's step {said.group(1)} is another step"


def test_explain_takes_a_part_number_and_a_step_number_as_printed(spinekg):
    out = spinekg("explain", SEED002, "3.1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("step 3.1: DO NSAIDs (now)")
    # the text's last step, not the step at that position counted with the six parts of conservative care
    steps = json.loads(spinekg("recommend", SEED002, "--format", "json").stdout)["steps"]
    last = steps[-1]
    assert "." not in last["number"] and int(last["number"]) < len(steps)
    assert spinekg("explain", SEED002, last["number"]).stdout.startswith(
        f"step {last['number']}: {STANCES[last['stance']]} {last['label']}"
    )
    refused = spinekg("explain", SEED002, str(len(steps)))  # counted one by one, more than the plan numbers
    assert refused.returncode == 2 and "3.1 nsaid" in refused.stderr
    assert f"{last['number']} {last['id']}" in refused.stderr
    assert "it gives step 3.1 (DO NSAIDs, now)" in spinekg("why-not", SEED002, "rec_002_02").stdout


def test_a_vignette_whose_first_step_has_a_part(plans):
    """The steroid-treated transplant patient: urgent imaging (1) with its MRI (1.1), then the infection work-up as
    step 2, which ``explain 2`` gave the MRI's evidence for."""
    plan = plans[f"acceptance/{STEROIDS.stem}"]
    assert [(s.number, s.id) for s in plan.steps[:3]] == [
        ("1", "lumbar_spine_imaging"),
        ("1.1", "mri_lumbar_spine_with_and_without_contrast"),
        ("2", "infection_blood_workup"),
    ]
    assert plan.step("2").id == "infection_blood_workup" and plan.step("1.1").part_of == "lumbar_spine_imaging"
    assert explain(plan, "2").startswith("step 2: DO blood work-up for spinal infection")


def test_the_provenance_picture_is_titled_with_the_printed_number():
    result = reason([SEED002])[0]
    dot = step_graph(result, "3.1")
    assert "Provenance of step 3.1: DO NSAIDs" in dot and "step 3.1: DO NSAIDs" in dot
    assert dot.startswith("digraph step_3_1 {")


def test_a_part_is_numbered_under_its_umbrella_and_never_before_it():
    numbers = step_numbers([("a", None), ("b", "a"), ("c", "a"), ("d", None), ("e", "d")])
    assert numbers == ["1", "1.1", "1.2", "2", "2.1"]
    # a part whose umbrella is not before it (no plan does that) is a step of its own, not a part of another
    assert step_numbers([("b", "a"), ("a", None), ("c", "x")]) == ["1", "2", "3"]
    # an intervention given in two phases: a part stands under the latest umbrella of that id
    assert step_numbers([("care", None), ("x", "care"), ("care", None), ("y", "care")]) == ["1", "1.1", "2", "2.1"]
