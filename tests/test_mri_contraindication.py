"""A recorded MRI contraindication: the MRI steps the sources replace give way to the CT they name, and the CT is not
advised against, not even among the care a red flag defers (the acceptance format checks only the standing steps)."""

from __future__ import annotations

import pytest

CES = {
    "id": "ces-pacemaker",
    "age": 72,
    "sex": "male",
    "symptoms": [
        {"type": "radicular_pain", "dermatomes": ["L5"], "laterality": "left", "duration_weeks": 3},
        {"type": "urinary_retention", "duration_weeks": 0.1},
        {"type": "numbness", "body_regions": ["perineum"], "laterality": "bilateral", "duration_weeks": 0.1},
    ],
}
_CT = {"ct_lumbar_spine", "ct_myelography"}


def _plan(case):
    from reasoner.api import reason
    from reasoner.case.validate import parse_case

    return reason([parse_case(case, source="test")])[0].plan


@pytest.mark.parametrize("contraindicated", [True, False])
def test_ct_not_advised_against_even_deferred_where_mri_is_contraindicated(contraindicated):
    case = dict(CES, symptoms=[*CES["symptoms"], *([{"type": "mri_contraindication"}] if contraindicated else [])])
    plan = _plan(case)
    avoided = {s.id for s in (*plan.steps, *plan.deferred) if s.stance == "avoid"} & _CT
    imaging = {(s.id, s.phase) for s in plan.steps if s.stance == "do" and s.phase == "emergency"}
    if contraindicated:
        assert not avoided, avoided
        assert ("ct_lumbar_spine", "emergency") in imaging and ("mri_lumbar_spine", "emergency") not in imaging
    else:  # article 002's "no role in initial evaluation" still waits among the deferred care, the MRI stands
        assert avoided == _CT
        assert ("mri_lumbar_spine", "emergency") in imaging and ("ct_lumbar_spine", "emergency") not in imaging


_MRI = {"mri_lumbar_spine", "mri_lumbar_spine_without_contrast", "mri_lumbar_spine_with_and_without_contrast"}
_SCIATICA = {"type": "radicular_pain", "dermatomes": ["L5"], "laterality": "left", "duration_weeks": 2}


@pytest.mark.parametrize(
    ("risk", "ct_stance"),
    [("iv_drug_use", "consider"), ("history_of_cancer", "consider"), ("significant_trauma", "do")],
)
def test_sciatica_red_flag_mri_of_article_002_gives_way_where_mri_is_contraindicated(risk, ct_stance):
    """Article 002's "Obtain MRI immediately" for suspected infection, malignancy or fracture in radiculopathy gives way
    with the safety rules' MRI: the CT ACR variant 7 (or, for the fracture, the red-flag table and variant 6) names
    stands in its place, and no MRI step is left to warn about."""
    extra = {"vitals": {"temperature_c": 38.5}} if risk == "iv_drug_use" else {}
    case = {"id": f"sciatica-{risk}", "age": 52, "sex": "male", "risk_factors": [risk], **extra,
            "symptoms": [_SCIATICA, {"type": "mri_contraindication"}]}  # fmt: skip
    plan = _plan(case)
    given = {(s.id, s.stance) for s in plan.steps if s.stance != "avoid"}
    assert not {i for i, _ in given} & _MRI, given
    assert ("ct_lumbar_spine", ct_stance) in given
    assert "contraindicated_step" not in {w.id for w in plan.warnings}


@pytest.mark.parametrize("contraindicated", [True, False])
def test_fracture_imaging_names_only_the_studies_the_patient_can_have(contraindicated):
    """ACR variant 6's first imaging for a suspected fracture: radiography, MRI or CT without contrast; with MRI
    contraindicated the step names radiography or CT without IV contrast (the same step, without the MRI)."""
    symptoms = [{"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": 1}]
    case = {"id": "fracture", "age": 80, "sex": "female", "risk_factors": ["osteoporosis"],
            "symptoms": symptoms + ([{"type": "mri_contraindication"}] if contraindicated else [])}  # fmt: skip
    (step,) = [s for s in _plan(case).steps if s.id == "lumbar_spine_imaging" and s.stance == "do"]
    assert step.phase == "urgent"
    if contraindicated:
        assert step.label == "imaging of the lumbar spine (radiography or CT without IV contrast)"
        assert step.recommendations == ("https://w3id.org/spinekg/rec_safety_fracture_imaging_mri_contraindicated",)
    else:
        assert step.label == "imaging of the lumbar spine"


_SK = "https://w3id.org/spinekg/"


@pytest.mark.parametrize(
    ("flag", "extra"),
    [
        ("infection_suspected", {"risk_factors": ["iv_drug_use"], "vitals": {"temperature_c": 38.8}}),
        ("malignancy_suspected", {"risk_factors": ["history_of_cancer"]}),
    ],
)
def test_cauda_equina_with_infection_or_cancer_gets_one_emergency_ct_that_may_be_with_contrast(flag, extra):
    """Cauda equina syndrome with suspected infection or malignancy, MRI contraindicated: one CT, the emergency one
    (ACR variant 4's CT), which says what the other work-up may need of it (ACR variant 7: CT with IV contrast); the
    urgent CT to consider for the infection or malignancy is that study, not a second one."""
    case = dict(CES, **extra, symptoms=[*CES["symptoms"], {"type": "mri_contraindication"}])
    plan = _plan(case)
    assert flag in {r.id for r in plan.red_flags}
    (ct,) = [s for s in plan.steps if s.id in _CT and s.stance != "avoid"]
    assert (ct.stance, ct.phase) == ("do", "emergency")
    assert ct.label == "CT of the lumbar spine (without or with IV contrast, or CT myelography)"
    assert _SK + "rec_safety_ces_ct_with_contrast" in ct.recommendations
    covered = _SK + ("rec_safety_infection_ct" if flag == "infection_suspected" else "rec_safety_malignancy_ct")
    assert covered in ct.covers


def test_cauda_equina_alone_emergency_ct_is_without_contrast():
    """Without infection or malignancy suspected the emergency CT stays the one variant 4 names."""
    plan = _plan(dict(CES, symptoms=[*CES["symptoms"], {"type": "mri_contraindication"}]))
    (ct,) = [s for s in plan.steps if s.id in _CT and s.stance != "avoid"]
    assert ct.label == "CT of the lumbar spine (without IV contrast, or CT myelography)"
    assert ct.recommendations == (_SK + "rec_safety_ces_ct",)


def test_metastatic_cord_compression_pathway_gets_its_ct_as_an_emergency_and_warns_of_the_whole_spine_mri():
    """Suspected cancer with a progressing deficit, MRI contraindicated: ACR variant 7's CT (the only study the sources
    name for suspected cancer besides MRI) is offered in the pathway's emergency phase, once; the whole-spine MRI, for
    which no source names another study, stands and the warning says that no source names one."""
    case = {"id": "mscc-pacemaker", "age": 68, "sex": "female", "risk_factors": ["history_of_cancer"],
            "symptoms": [{"type": "radicular_pain", "dermatomes": ["L4"], "laterality": "right", "duration_weeks": 2},
                         {"type": "weakness", "dermatomes": ["L4"], "laterality": "right", "duration_weeks": 1,
                          "progressive": True, "strength_mrc": 3},
                         {"type": "mri_contraindication"}]}  # fmt: skip
    plan = _plan(case)
    (ct,) = [s for s in plan.steps if s.id in _CT and s.stance != "avoid"]
    assert (ct.stance, ct.phase) == ("consider", "emergency")
    assert ct.recommendations == (_SK + "rec_safety_malignancy_mscc_ct",)
    assert ct.covers == (_SK + "rec_safety_malignancy_ct",)
    assert ("mri_entire_spine", "emergency") in {(s.id, s.phase) for s in plan.steps if s.stance == "do"}
    (warning,) = [w for w in plan.warnings if w.id == "contraindicated_step"]
    assert "mri_entire_spine" in warning.subjects
    assert "no source names another study of the whole spine" in warning.message
