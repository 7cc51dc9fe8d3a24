"""Care a red flag holds back is listed to resume once it is excluded; what the patient already tried without
success is not in that list (review I1: a 70-year-old whose 12 weeks of physiotherapy failed was told exercise
therapy waits for the fracture work-up, then resumes)."""

from __future__ import annotations

from reasoner.api import recommend


def claudication(**extra) -> dict:
    """Neurogenic claudication at 70 with osteoporosis (the suspected fracture holds care back; on age alone it would
    hold back only spinal manipulation: reviews R13 #6, R14 #1), physiotherapy failed."""
    return {
        "id": "claudication-70-physio-failed",
        "age": 70,
        "sex": "female",
        "symptoms": [
            {"type": "neurogenic_claudication", "laterality": "bilateral", "duration_weeks": 60, "severity": "severe"},
            {"type": "axial_pain", "laterality": "midline", "duration_weeks": 60, "severity": "mild"},
        ],
        "imaging": [
            {
                "modality": "MRI",
                "weeks_ago": 8,
                "findings": [{"type": "canal_stenosis", "level": "L4-L5", "zone": "central", "severity": "severe"}],
            }
        ],
        "prior_treatments": [{"type": "physical_therapy", "weeks": 12, "outcome": "failed"}],
        "risk_factors": ["osteoporosis"],
        **extra,
    }


def test_failed_care_is_not_among_the_care_a_red_flag_defers():
    plan = recommend(claudication())
    assert "fracture_suspected" in {f.id for f in plan.red_flags}
    deferred = {s.id for s in plan.deferred}
    assert deferred, "the red flag holds some care back"
    assert not deferred & {"exercise_therapy", "physical_therapy"}
    statuses = {n.recommendation.rsplit("/", 1)[-1]: n.status for n in plan.preempted}
    assert statuses.get("rec_ext_acp_exercise_chronic") == "already_tried"
    tried = [w for w in plan.warnings if w.id == "already_tried"]
    assert tried and "exercise therapy" in tried[0].message


def test_once_the_red_flag_is_excluded_the_failed_care_is_still_not_offered():
    plan = recommend(claudication(red_flags_excluded=["fracture_suspected"]))
    assert not {s.id for s in plan.steps if s.stance in ("do", "consider")} & {"exercise_therapy", "physical_therapy"}
