"""The next rung ahead of time (reasoner/plan/ahead.py): a step after failed care while that care is under way.

The vignettes in tests/acceptance/ check the steps (…-mri-if-persistent-50m, …-nothing-ahead-38f,
…-decompression-after-12-62m); these check what the plan says of them: the timing counts the care's weeks, a
deferring red flag holds them back with the rest of the care, and a recommendation that stays out for another reason
says the care is pending, not failed.
"""

from __future__ import annotations

from reasoner.api import reason
from reasoner.kb.index import local

SCIATICA = {
    "id": "ahead-sciatica",
    "age": 50,
    "sex": "male",
    "symptoms": [
        {"type": "radicular_pain", "dermatomes": ["L4"], "laterality": "right", "duration_weeks": 3},
    ],
    "prior_treatments": [{"type": "nsaid", "weeks": 2, "outcome": "partial_improvement"}],
    "candidate_for": ["injection"],
}


def _plan(case):
    return reason([case])[0].plan


def test_ahead_timing_counts_the_care():
    """If a step is shown ahead, its timing names the care's weeks recorded and those left, and it is never due now."""
    plan = _plan(SCIATICA)
    mri = [s for s in plan.steps if "rec_002_20" in map(local, s.recommendations + s.covers)]
    assert mri, [(s.id, s.phase) for s in plan.steps]
    assert mri[0].phase == "if_persistent" and mri[0].after_weeks == 6
    assert "after 6 weeks of conservative care" in mri[0].timing
    assert "prior_treatments[0]" in mri[0].timing and "4 more week(s)" in mri[0].timing


def test_ahead_why_not_says_pending():
    """If a recommendation waits on care under way and fails on another condition (rec_002_19 asks for a surgical
    candidate), then its why-not says the care is pending, not that it failed."""
    plan = _plan(SCIATICA)
    why = next(n for n in plan.not_applicable if local(n.recommendation) == "rec_002_19")
    assert why.status == "fails"
    assert any(
        line.startswith("FailedTreatment(conservative_care, 6 weeks) is pending, not failed") for line in why.why
    )
    assert not any("FailedTreatment" in line and "does not hold" in line for line in why.why)


def test_ahead_deferred_by_red_flag():
    """If a red flag holds the care back (back pain at 72 with osteoporosis, a suspected fracture), then a step shown
    ahead (article 003's decompression after 12 weeks of failed care, 10 recorded) waits with it: deferred, not a step.
    (A fracture suspected on age alone holds back only spinal manipulation: reviews R13 #6, R14 #1.)"""
    stenosis = {
        "id": "ahead-stenosis-72",
        "age": 72,
        "sex": "male",
        "symptoms": [
            {"type": "neurogenic_claudication", "body_regions": ["buttock"], "laterality": "bilateral",
             "duration_weeks": 20},
            {"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": 20},
        ],
        "imaging": [
            {"modality": "MRI", "weeks_ago": 3, "findings": [
                {"type": "canal_stenosis", "level": "L4-L5", "zone": "central", "severity": "severe"}]},
        ],
        "prior_treatments": [{"type": "physical_therapy", "weeks": 10, "outcome": "failed"}],
        "candidate_for": ["surgery"],
        "risk_factors": ["osteoporosis"],
    }  # fmt: skip
    plan = _plan(stenosis)
    assert [f.id for f in plan.red_flags] == ["fracture_suspected"]
    assert not any("rec_003_19" in map(local, s.recommendations) for s in plan.steps)
    assert any(local(p.recommendation) == "rec_003_19" and p.status == "deferred" for p in plan.preempted)
    assert any(s.phase == "if_persistent" and "rec_003_19" in map(local, s.recommendations) for s in plan.deferred)
    # without the red flag (at 62, no osteoporosis), the same step is shown ahead
    plan = _plan(dict(stenosis, id="ahead-stenosis-62", age=62, risk_factors=[]))
    assert any(s.phase == "if_persistent" and "rec_003_19" in map(local, s.recommendations) for s in plan.steps)
