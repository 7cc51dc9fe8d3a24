"""A "do not" step whose every recommendation only tempers the expectations of its intervention
(``sk:tempersExpectations``) is worded "TEMPER EXPECTATIONS OF" by the text, HTML and DOT plans, while its stance
stays avoid in the JSON (the design's stances are do, consider and avoid): clinician's review R14, defect 8 (article
002's "do not assume efficacy" of neuropathic pain medications printed "DO NOT" beside NICE's "do not" of
gabapentinoids) and defect 2 (article 001's facet joint injections "controversial for diagnosis")."""

from __future__ import annotations

import json

from reasoner.api import reason
from reasoner.present.dot import step_graph
from reasoner.present.html import html
from reasoner.present.text import explain, text, why_not

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
