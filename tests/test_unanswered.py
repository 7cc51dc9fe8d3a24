"""``candidacy_unanswered`` (``reasoner/plan/unanswered.py``): a candidacy the case records that no step of the plan
answers. The acceptance vignette holds the patient (review R3, r3-14); these test the boundaries."""

from __future__ import annotations

from reasoner.api import recommend


def unanswered(plan) -> dict:
    return {w.subjects[1]: w for w in plan.warnings if w.id == "candidacy_unanswered"}


AXIAL = {"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": 40}
DDD = {"modality": "MRI", "weeks_ago": 26, "findings": [{"type": "degenerative_disc_disease", "level": "L4-L5"}]}


def test_a_surgical_candidate_no_source_offers_surgery_is_told_so_and_no_step_is_made_up():
    plan = recommend({"id": "u", "age": 48, "symptoms": [AXIAL], "imaging": [DDD], "candidate_for": ["surgery"]})
    w = unanswered(plan)["surgery_candidate"]
    assert w.subjects[0] == "candidate_for"
    assert "none applies to this case" in w.message and "the decision is the clinician's" in w.message
    assert not any(s.id in ("spine_surgery", "spinal_fusion", "decompression_surgery") for s in plan.steps)


def test_no_candidacy_no_warning():
    plan = recommend({"id": "u", "age": 48, "symptoms": [AXIAL], "imaging": [DDD]})
    assert not unanswered(plan)


def test_a_candidacy_the_plan_acts_on_is_answered():
    # 10 weeks of L5 sciatica, failed care, never imaged, a candidate: ACR variant 3's MRI is given because of the
    # candidacy, which answers it (the injection or operation waits for the MRI)
    sciatica = {"type": "radicular_pain", "dermatomes": ["L5"], "laterality": "left", "duration_weeks": 10}
    failed = [{"type": "physical_therapy", "weeks": 8, "outcome": "unchanged"}]
    plan = recommend(
        {"id": "u", "age": 45, "symptoms": [sciatica], "prior_treatments": failed, "candidate_for": ["surgery"]}
    )
    assert any(s.id.startswith("mri_lumbar_spine") and s.stance == "do" for s in plan.steps)
    assert "surgery_candidate" not in unanswered(plan)


def test_undecided_recommendations_are_named_with_the_field_they_need():
    # claudication over a spondylolisthesis whose stability was never assessed, no care recorded yet: decompression and
    # fusion both wait for segmental instability to be recorded, and the warning says so
    case = {
        "id": "u",
        "age": 67,
        "symptoms": [{"type": "neurogenic_claudication", "body_regions": ["both_legs"], "duration_weeks": 40}],
        "imaging": [
            {
                "modality": "MRI",
                "weeks_ago": 4,
                "findings": [
                    {"type": "canal_stenosis", "level": "L4-L5", "zone": "central", "severity": "severe"},
                    {"type": "spondylolisthesis", "level": "L4-L5"},
                ],
            }
        ],
        "candidate_for": ["surgery"],
    }
    w = unanswered(recommend(case))["surgery_candidate"]
    assert "rec_003_19" in w.subjects and "segmental_instability" in w.message
    # with physiotherapy failed, article 000's surgical consultation for persistent claudication (rec_000_19, review
    # R6) answers the candidacy: the surgeon assesses the stability
    failed = recommend(
        {**case, "prior_treatments": [{"type": "physical_therapy", "weeks": 16, "outcome": "unchanged"}]}
    )
    assert "rec_000_19" in {r.rsplit("/", 1)[-1] for s in failed.steps for r in s.recommendations}
    assert "surgery_candidate" not in unanswered(failed)
