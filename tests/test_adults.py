"""``adult_sources_only`` (``reasoner/plan/adults.py``): at 16 and 17, the steps that rest only on guidelines for
adults are named. The vignette holds the patient (review R4, r4-09); these test the ages and the steps named."""

from __future__ import annotations

import pytest

from reasoner.api import recommend


def case(age: float) -> dict:
    pain = {"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": 3}
    return {"id": "a", "age": age, "symptoms": [pain]}


@pytest.mark.parametrize("age", [16, 17])
def test_an_adolescent_covered_by_nice_is_told_which_steps_rest_only_on_adult_guidelines(age):
    plan = recommend(case(age))
    [w] = [w for w in plan.warnings if w.id == "adult_sources_only"]
    named = set(w.subjects[1:])
    assert "spinal_manipulation" in named  # ACP 2017 alone
    # a step NICE or an article gives too is not named: the adolescent is in NICE's population
    offered = {s.id: s for s in plan.steps if s.stance in ("do", "consider")}
    assert named <= set(offered)
    assert "stay_active_advice" in offered and "stay_active_advice" not in named


@pytest.mark.parametrize("age", [18, 45])
def test_an_adult_gets_no_such_warning(age):
    assert not [w for w in recommend(case(age)).warnings if w.id == "adult_sources_only"]
