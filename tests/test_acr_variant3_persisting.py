"""ACR variant 3's MRI is for a candidate whose symptoms persist or progress during or following 6 weeks of medical
management, whatever the course's outcome short of improvement; article 002's MRI waits for 6 weeks of *failed*
conservative therapy, as its sentence says.

Found by a clinician's review (h2-22): a 50-year-old candidate for an epidural and for surgery, 6 weeks of L5
sciatica with an MRC 4 weakness, physiotherapy helping only partly, never imaged, got no MRI step, now or later:
the ACR recommendations asked for a failed treatment, and a partial improvement is (rightly) not one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reasoner.api import reason
from reasoner.kb.index import local

ACCEPTANCE = Path(__file__).parent / "acceptance"
PARTIAL = "radicular-l5-6wk-mrc4-physio-partial-candidate-acr-mri-50f"
IMPROVED = "radicular-l5-6wk-mrc4-physio-improved-candidate-no-mri-50f"
FAILED = "radicular-l5-7wk-mrc4-physio-failed-candidate-acr-mri-50f"
ACR = {"rec_ext_acr_mri_injection_candidate", "rec_ext_acr_mri_surgery_candidate"}
SEED_002 = {"rec_002_19", "rec_002_20"}
PERSISTING = "HadTreatment(conservative_care, 6 weeks, outcome failed or not_tolerated or partial_improvement or "


def _case(stem: str, **change) -> dict:
    case = yaml.safe_load((ACCEPTANCE / f"{stem}.yaml").read_text(encoding="utf-8"))["case"]
    return case | {"id": stem} | change


@pytest.fixture(scope="module")
def plans():
    cases = [_case(PARTIAL), _case(IMPROVED), _case(FAILED)]
    weeks_unrecorded = _case(PARTIAL, id="weeks-unrecorded")
    weeks_unrecorded["prior_treatments"] = [{"type": "physical_therapy", "outcome": "partial_improvement"}]
    return {r.plan.case: r.plan for r in reason([*cases, weeks_unrecorded])}


def _mri(plan):
    return [s for s in plan.steps if s.id.startswith("mri_lumbar_spine")]


def _why(plan, rec):
    return next(n for n in plan.not_applicable if local(n.recommendation) == rec)


def test_symptoms_persisting_after_6_weeks_of_care_that_partly_helped_get_acr_variant_3s_mri(plans):
    (mri,) = _mri(plans[PARTIAL])
    assert (mri.id, mri.stance, mri.phase) == ("mri_lumbar_spine_without_contrast", "do", "now")
    assert {local(r) for r in mri.recommendations} == ACR
    # article 002's MRI is after failed care: not in the plan, and not folded into the ACR step either
    assert not SEED_002 & {local(r) for r in mri.covers}
    for rec in SEED_002:
        assert _why(plans[PARTIAL], rec).why == ("FailedTreatment(conservative_care, 6 weeks) does not hold",)


def test_care_that_improved_the_symptoms_gets_no_mri(plans):
    assert _mri(plans[IMPROVED]) == []
    for rec in ACR:
        (why,) = _why(plans[IMPROVED], rec).why
        assert why.startswith(PERSISTING) and why.endswith("does not hold")


def test_after_failed_care_one_mri_stands_for_both_sources(plans):
    (mri,) = _mri(plans[FAILED])
    assert (mri.id, mri.stance) == ("mri_lumbar_spine_without_contrast", "do")
    assert ACR | SEED_002 <= {local(r) for r in mri.recommendations + mri.covers}


def test_a_course_recorded_without_its_weeks_leaves_the_mri_unknown(plans):
    plan = plans["weeks-unrecorded"]
    # ACR variant 3's MRI is unknown, not a step; article 002's MRI after failed care is shown ahead (the care is
    # under way), with no count of the weeks left, since how long it has run is not recorded
    (mri,) = _mri(plan)
    assert (mri.phase, {local(r) for r in mri.recommendations}) == ("if_persistent", SEED_002)
    assert "its weeks are not recorded" in mri.timing and "more week" not in mri.timing
    for rec in ACR:
        why = _why(plan, rec)
        assert why.status == "unknown"
        assert any(w.startswith(PERSISTING) and "prior_treatments[].weeks" in w for w in why.why), why.why
