"""The dermatome–imaging concordance reads only symptoms of a kind spinekg knows (collect rule symptom-dermatomes):
a symptom recorded as an unmapped code is a bare ``sk:Symptom``, and whether the imaging explains it is not known
(clinician's review R4, r4-10: arterial claudication, ICD-10-CM I70.213, in both legs read as 'explained' by an
L4-L5 stenosis). The baselines mirror it (the acceptance vignette of the same patient is in their equality test)."""

from __future__ import annotations

from reasoner.api import recommend

STENOSIS = {
    "modality": "MRI",
    "weeks_ago": 3,
    "findings": [{"type": "canal_stenosis", "level": "L4-L5", "zone": "central", "severity": "moderate"}],
}


def plan_with(symptom_type: str):
    symptom = {"type": symptom_type, "body_regions": ["both_legs"], "laterality": "bilateral", "duration_weeks": 30}
    return recommend({"id": "u", "age": 67, "unmapped_codes": "warn", "symptoms": [symptom], "imaging": [STENOSIS]})


def test_an_unmapped_symptom_is_not_explained_by_imaging():
    assert not plan_with("ICD10CM:I70.213").concordance


def test_a_known_symptom_in_the_same_place_is():
    rows = plan_with("neurogenic_claudication").concordance
    assert rows and any("explained" in str(r) for r in rows)
