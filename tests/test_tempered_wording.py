"""A "do not" step whose every recommendation only tempers the expectations of its intervention
(``sk:tempersExpectations``) is worded "TEMPER EXPECTATIONS OF" by the text, HTML and DOT plans, while its stance
stays avoid in the JSON (the design's stances are do, consider and avoid): clinician's review R14, defect 8 (article
002's "do not assume efficacy" of neuropathic pain medications printed "DO NOT" beside NICE's "do not" of
gabapentinoids) and defect 2 (article 001's facet joint injections "controversial for diagnosis")."""

from __future__ import annotations

import json

import yaml

from reasoner.api import reason
from reasoner.present.dot import step_graph
from reasoner.present.html import html
from reasoner.present.text import explain, text, why_not

from constants import ACCEPTANCE

CASE = {
    "id": "t",
    "age": 56,
    "sex": "male",
    "symptoms": [
        {
            "type": "radicular_pain",
            "dermatomes": ["S1"],
            "laterality": "left",
            "duration_weeks": 22,
            "severity": "moderate",
        },
        {"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": 60, "severity": "moderate"},
    ],
    "prior_treatments": [
        {"type": "physical_therapy", "weeks": 8, "weeks_ago": 10, "outcome": "failed"},
        {"type": "nsaid", "weeks": 12, "outcome": "unchanged"},
    ],
    "red_flag_screen": {"result": "none_found"},
}


def test_a_tempered_do_not_is_worded_so_and_keeps_stance_avoid():
    [result] = reason([CASE])
    plan = result.plan
    [step] = [s for s in plan.steps if s.id == "neuropathic_agent"]
    assert step.stance == "avoid"
    assert [s["stance"] for s in json.loads(plan.to_json())["steps"] if s["id"] == "neuropathic_agent"] == ["avoid"]
    plain = text(plan)
    assert f"{step.number}. TEMPER EXPECTATIONS OF neuropathic pain medications" in plain
    assert "DO NOT neuropathic pain medications" not in plain
    assert "DO NOT gabapentinoids" in plain  # NICE's own "do not" keeps its words
    assert explain(plan, step.number).startswith(f"step {step.number}: TEMPER EXPECTATIONS OF")
    assert "(TEMPER EXPECTATIONS OF neuropathic" in why_not(plan, "rec_002_05")
    page = html(result)
    assert "TEMPER EXPECTATIONS OF</span>neuropathic pain medications" in page
    assert "DO NOT</span>neuropathic" not in page and "DO NOT neuropathic" not in page
    dot = step_graph(result, step.number)
    assert "TEMPER EXPECTATIONS OF" in dot and "DO NOT" not in dot


R18_3 = ACCEPTANCE / "claudication-plus-right-l5-radicular-apixaban-ckd-heart-disease-76m.yaml"


def test_a_do_that_may_be_unsuitable_is_shown_to_consider_and_keeps_stance_do():
    """A 76-year-old on apixaban with kidney and heart disease, chronic back pain and an acute sciatica: articles 001,
    002 and 003 say do NSAIDs, and the plan printed "DO NSAIDs" with no word that an NSAID may be unsuitable, which
    it said only in acute low back pain beside NICE's weak opioid (clinician's review R18, finding 3). Warning
    may_be_unsuitable names the step; the text, HTML and DOT plans show it to consider, while its stance stays do in
    the JSON, as its sources give it (the warning carries the mark, as tempers_expectations does)."""
    doc = yaml.safe_load(R18_3.read_text(encoding="utf-8"))
    [result] = reason([{**doc["case"], "id": R18_3.stem}])
    plan = result.plan
    [step] = [s for s in plan.steps if s.id == "nsaid"]
    assert step.stance == "do"
    assert [s["stance"] for s in json.loads(plan.to_json())["steps"] if s["id"] == "nsaid"] == ["do"]
    [w] = [w for w in plan.warnings if w.id == "may_be_unsuitable"]
    assert w.subjects[-1] == "nsaid"
    assert {"anticoagulant_and_gastrointestinal_risk", "cardiovascular_and_renal_risk"} <= set(w.subjects)
    assert w.message.count("spinekg's judgement, which no source in its reference gives") == 2
    plain = text(plan)
    assert f"{step.number}. CONSIDER NSAIDs" in plain and "DO NSAIDs" not in plain
    assert "caution_recorded, may_be_unsuitable (see WARNINGS above)" in plain
    assert explain(plan, step.number).startswith(f"step {step.number}: CONSIDER NSAIDs")
    page = html(result)
    assert "CONSIDER</span>NSAIDs" in page and "DO</span>NSAIDs" not in page
    dot = step_graph(result, step.number)
    assert "CONSIDER NSAIDs" in dot and "DO NSAIDs" not in dot
    assert not [s for s in plan.steps if s.id == "weak_opioid"], "NICE's weak opioid is for acute low back pain"


def test_a_do_without_the_judgement_is_shown_as_its_sources_give_it():
    """An anticoagulant alone at 52 is a caution, not the judgement: the sciatica's NSAID reads "DO"."""
    [result] = reason(
        [
            {
                "id": "anticoagulant-alone-sciatica",
                "age": 52,
                "risk_factors": ["anticoagulant_or_antiplatelet"],
                "symptoms": [
                    {"type": "radicular_pain", "dermatomes": ["L5"], "duration_weeks": 3, "severity": "moderate"}
                ],
            }
        ]
    )
    [step] = [s for s in result.plan.steps if s.id == "nsaid"]
    assert step.stance == "do" and f"{step.number}. DO NSAIDs" in text(result.plan)
    assert not [w for w in result.plan.warnings if w.id == "may_be_unsuitable"]


PREGNANT = ACCEPTANCE / (
    "pregnant-30wk-s1-sciatica-new-urinary-leak-nsaid-shown-to-consider-mri-without-contrast-32f.yaml"
)


def test_warnings_name_a_do_shown_to_consider_as_shown():
    """Clinician's review R19 #6: beside "5. CONSIDER NSAIDs", the warnings of a pregnant woman's plan named it
    "step 5 (do NSAIDs)" (may_be_unsuitable, judgement_caution, sources_silent_for_finding): a reader takes the
    warning's "do" as the instruction. Every warning names the step as the plan shows it; its stance stays do."""
    doc = yaml.safe_load(PREGNANT.read_text(encoding="utf-8"))
    [result] = reason([{**doc["case"], "id": PREGNANT.stem}])
    plan = result.plan
    [step] = [s for s in plan.steps if s.id == "nsaid"]
    assert step.stance == "do" and f"{step.number}. CONSIDER NSAIDs" in text(plan)
    naming = [w.id for w in plan.warnings if f"step {step.number} (" in w.message]
    assert {"may_be_unsuitable", "judgement_caution", "sources_silent_for_finding"} <= set(naming)
    assert not [w.id for w in plan.warnings if f"step {step.number} (do NSAIDs)" in w.message]
    assert all(f"step {step.number} (consider NSAIDs)" in w.message for w in plan.warnings if w.id in naming)
    # a step not shown otherwise keeps its "do" in the same warnings
    assert "(do MRI of the lumbar spine)" in next(w.message for w in plan.warnings if w.id == "judgement_caution")
