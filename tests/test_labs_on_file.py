"""A blood work-up step names the tests the case already records (``sk:includesTest``; review R18 #7: ESR 48 and CRP 8
on file, the infection and malignancy work-ups ordered both again)."""

from __future__ import annotations

from reasoner.api import recommend

NIGHT_PAIN = {
    "id": "night-pain-esr-48",
    "age": 77,
    "sex": "male",
    "symptoms": [{"type": "axial_pain", "laterality": "midline", "duration_weeks": 6, "severity": "severe"}],
    "risk_factors": ["night_pain"],
    "prior_treatments": [{"type": "nsaid", "weeks": 5, "outcome": "unchanged"}],
    "vitals": {"temperature_c": 36.9},
}


def steps(case):
    return {s.id: s for s in recommend(case).steps}


def test_a_work_up_names_the_results_on_file_and_what_is_left_to_order():
    got = steps({**NIGHT_PAIN, "labs": {"esr_mm_h": 48, "crp_mg_l": 8}})
    infection = got["infection_blood_workup"].timing
    assert "erythrocyte sedimentation rate, 48 (labs.esr_mm_h)" in infection and "labs.crp_mg_l" in infection
    assert "order the rest of it (white cell count" in infection and "spinekg's judgement" in infection
    malignancy = got["malignancy_blood_workup"].timing
    assert malignancy.startswith("its tests are on file:") and "read them rather than order them again" in malignancy


def test_one_result_on_file_leaves_the_other_to_order():
    got = steps({**NIGHT_PAIN, "labs": {"esr_mm_h": 48}})
    malignancy = got["malignancy_blood_workup"].timing
    assert "labs.esr_mm_h" in malignancy and "order the rest of it (C-reactive protein" in malignancy


def test_no_labs_no_note():
    plain = steps(NIGHT_PAIN)
    assert plain["malignancy_blood_workup"].timing is None
