"""Rules derive-weakness-of-this-episode, derive-leg-weakness-on-both-sides and derive-bilateral-leg-weakness-by-side:
a left and a right leg weakness are bilateral leg weakness (suspected cauda equina syndrome) only when each is of this
episode; a residual weakness (older than the episode and not getting worse, the same test a severe motor deficit
passes to raise a progressive neurological deficit) does not make a new weakness of the other leg bilateral, and the
plan names both (red_flag_feature_not_acted_on).

Found by a clinician's review (I1, case i1-24): a left foot drop left by a discectomy five years ago (MRC 2, 260
weeks, not progressive) beside 2 weeks of new right L5 sciatica with MRC 4 weakness was "bilateral leg weakness":
suspected cauda equina syndrome, an emergency MRI and referral, conservative care deferred.
"""

from __future__ import annotations

import pytest

from reasoner.api import recommend

CES = "cauda_equina_syndrome_suspected"
NEW = {"duration_weeks": 2, "progressive": False}
OLD = {"duration_weeks": 260, "progressive": False}


def case(left: dict, right: dict | None = None, **extra) -> dict:
    weak = {"type": "weakness", "dermatomes": ["L5"], "strength_mrc": 4}
    return {
        "id": "two-sided-weakness",
        "age": 51,
        "symptoms": [
            {"type": "radicular_pain", "dermatomes": ["L5"], "laterality": "right", "duration_weeks": 2},
            {**weak, "laterality": "right", **(NEW if right is None else right)},
            {**weak, "laterality": "left", **left},
        ],
        **extra,
    }


@pytest.mark.parametrize(
    ("left", "right", "raised"),
    [
        (OLD, NEW, False),  # residual left, new right: a right L5 radiculopathy
        ({**OLD, "strength_mrc": 2}, NEW, False),  # the review's dense old foot drop
        ({"duration_weeks": 260}, NEW, False),  # progressive not recorded: stable, as for a severe motor deficit
        ({**OLD, "progressive": True}, NEW, True),  # the old side getting worse
        (NEW, NEW, True),  # both new
        ({"progressive": False}, NEW, True),  # the left's duration not recorded: of this episode, the safe reading
        ({"duration_weeks": 2}, NEW, True),  # as old as the episode
        (OLD, OLD, False),  # both residual: no weakness of this presentation on either side
    ],
)
def test_a_residual_side_does_not_make_the_other_bilateral(left, right, raised):
    plan = recommend(case(left, right))
    assert (CES in {f.id for f in plan.red_flags}) is raised
    emergency = {s.id for s in plan.steps if s.phase == "emergency"}
    assert ("emergency_spine_surgical_referral" in emergency) is raised


def test_one_bilateral_record_stays_a_red_flag_whatever_its_age():
    plan = recommend(
        {
            "id": "old-bilateral",
            "age": 51,
            "symptoms": [
                {"type": "radicular_pain", "dermatomes": ["L5"], "laterality": "right", "duration_weeks": 2},
                {"type": "weakness", "dermatomes": ["L5"], "laterality": "bilateral", "strength_mrc": 4, **OLD},
            ],
        }
    )
    assert CES in {f.id for f in plan.red_flags}


def test_the_plan_names_the_two_sided_weakness_it_did_not_raise_on():
    plan = recommend(case(OLD))
    mine = [w for w in plan.warnings if w.id == "red_flag_feature_not_acted_on" and CES in w.subjects]
    assert [w.subjects for w in mine] == [
        ("symptoms[1]", "leg_weakness_on_both_sides", CES),
        ("symptoms[2]", "leg_weakness_on_both_sides", CES),
    ]
    assert all("residual deficit" in w.message and "progressive: true" in w.message for w in mine)


def test_no_warning_when_the_red_flag_is_raised():
    plan = recommend(case(NEW))
    assert not [w for w in plan.warnings if w.id == "red_flag_feature_not_acted_on" and CES in w.subjects]
