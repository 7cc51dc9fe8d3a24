"""A red flag's own emergency or urgent steps are not held for a review of a finding the sources are silent on, nor
weighed for an adolescent's age (clinician's review R5: r5-04, suspected cauda equina syndrome at 30 weeks of
pregnancy; r5-03, fever, weight loss and night pain at 17). The cautions that do belong stay."""

from __future__ import annotations

from reasoner.api import recommend


def warning(plan, wid: str):
    return [w for w in plan.warnings if w.id == wid]


def test_a_pregnant_patients_emergency_mri_is_not_for_review_and_her_referral_carries_the_caution():
    plan = recommend(
        {
            "id": "p",
            "age": 29,
            "symptoms": [
                {"type": "radicular_pain", "dermatomes": ["S1"], "laterality": "bilateral", "duration_weeks": 2},
                {"type": "urinary_retention", "duration_weeks": 0.1},
                {
                    "type": "numbness",
                    "body_regions": ["perianal_region"],
                    "laterality": "bilateral",
                    "duration_weeks": 0.1,
                },
            ],
            "risk_factors": ["pregnancy"],
        }
    )
    emergency = {s.id for s in plan.steps if s.phase == "emergency"}
    assert "mri_lumbar_spine" in emergency and "emergency_spine_surgical_referral" in emergency
    [silent] = warning(plan, "sources_silent_for_finding")
    assert "mri_lumbar_spine" not in silent.subjects and "not to be delayed" in silent.message
    [caution] = warning(plan, "judgement_caution")
    assert "emergency_spine_surgical_referral" in caution.subjects


def test_an_adolescents_red_flag_work_up_is_not_named_as_resting_on_adult_guidelines():
    plan = recommend(
        {
            "id": "a",
            "age": 17,
            "symptoms": [
                {"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": 3, "progressive": True}
            ],
            "risk_factors": ["night_pain", "unexplained_weight_loss", "fever"],
        }
    )
    safety = {s.id for s in plan.steps if s.safety}
    assert safety  # the red flags' work-up is in the plan
    for w in warning(plan, "adult_sources_only"):
        assert safety.isdisjoint(w.subjects[1:])
