"""Rule derive-new-severe-motor-deficit: a severe motor deficit (MRC 3 or less) raises the progressive neurological
deficit red flag when it is of this episode (not recorded as older than it), getting worse, or of unknown duration;
a residual one, older than the episode and not getting worse, does not, and the plan says it saw it.

Found by a clinician's review: a foot drop left over from a discectomy 6 years ago (MRC 3, 312 weeks, not
progressive) in a patient with 2 weeks of new back pain was a progressive deficit, with an urgent MRI, an urgent
surgical referral and conservative care deferred.
"""

from __future__ import annotations

import pytest

from reasoner.api import recommend

FLAG = "progressive_neurological_deficit"


def case(weakness: dict, pain_weeks: float | None = 2) -> dict:
    symptoms = [{"type": "weakness", "dermatomes": ["L5"], "laterality": "left", "strength_mrc": 3, **weakness}]
    if pain_weeks is not None:
        symptoms.insert(0, {"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": pain_weeks})
    return {"id": "severe-deficit", "age": 45, "symptoms": symptoms}


@pytest.mark.parametrize(
    ("weakness", "pain_weeks", "raised"),
    [
        ({"duration_weeks": 312, "progressive": False}, 2, False),  # residual, older than the episode, stable
        ({"duration_weeks": 312}, 2, False),  # progressive not recorded: read as not progressive (as incontinence)
        ({"duration_weeks": 312, "progressive": True}, 2, True),  # old but getting worse
        ({"duration_weeks": 0, "progressive": False}, 2, True),  # new this episode, not changing since: still new
        ({"duration_weeks": 2, "progressive": False}, 2, True),  # as old as the episode
        ({"progressive": False}, 2, True),  # duration not recorded: new, the safe reading
        ({"duration_weeks": 312, "progressive": False}, None, False),  # no pain, stable 12 wk or more (R9 #2)
        ({"duration_weeks": 8, "progressive": False}, None, True),  # no pain: the deficit is the episode, < 12 wk
        ({"duration_weeks": 312}, None, True),  # no pain, course not recorded: not known to be stable
        ({"duration_weeks": 12, "progressive": False}, 20, False),  # in the episode, stable 12 wk: long-standing
        ({"duration_weeks": 312, "progressive": False, "strength_mrc": 4}, 2, False),  # not severe
    ],
)
def test_severe_motor_deficit_raises_the_red_flag_only_when_new_or_worse(weakness, pain_weeks, raised):
    plan = recommend(case(weakness, pain_weeks))
    assert (FLAG in {f.id for f in plan.red_flags}) is raised
    urgent = {(s.id, s.phase) for s in plan.steps if s.phase in ("emergency", "urgent")}
    assert (("urgent_spine_surgical_referral", "urgent") in urgent) is raised


def test_a_residual_severe_deficit_is_named_in_a_warning():
    plan = recommend(case({"duration_weeks": 312, "progressive": False}))
    [w] = [w for w in plan.warnings if w.id == "red_flag_feature_not_acted_on"]
    assert w.subjects == ("symptoms[1]", "severe_motor_deficit", FLAG)
    assert "residual deficit" in w.message and "progressive: true" in w.message
