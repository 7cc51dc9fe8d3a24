"""Clinician review R2 ("night pain missing from the red flag's reasons", r2-10): a raised red flag's reason names
every trigger ``red_flags.csv`` lists for it that the case records, also those spinekg does not raise it on alone
(``sk:listedTriggerOf``, ``sk:accompanyingTriggerOf``), apart from those that raised it: a past cancer raises
suspected malignancy, and the night pain recorded beside it is named, not dropped. The red flag's ``triggered_by``
stays the findings that raised it.
"""

from __future__ import annotations

from reasoner.api import reason

BACK = {"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": 3}
APART = "listed among its triggers in red_flags.csv though spinekg does not raise it on them alone: "


def flag(case: dict, flag_id: str):
    plan = reason([{"id": "r2-reason", **case}])[0].plan
    (found,) = [f for f in plan.red_flags if f.id == flag_id]
    return found


def test_night_pain_is_named_beside_the_cancer_history_that_raised_malignancy():
    f = flag(
        {"age": 45, "symptoms": [BACK], "risk_factors": ["history_of_cancer", "night_pain"]}, "malignancy_suspected"
    )
    assert f.triggered_by == ("risk_factors[0]",)
    assert f.reason == f"history of cancer — risk_factors[0]; and, {APART}night pain — risk_factors[1]"


def test_over_50_the_back_pain_is_named_with_the_trigger_it_is():
    case = {"age": 58, "symptoms": [BACK], "risk_factors": ["unexplained_weight_loss", "night_pain"]}
    f = flag(case, "malignancy_suspected")
    assert f.reason.startswith("unexplained weight loss — risk_factors[0]; and, " + APART)
    assert "night pain — risk_factors[1]" in f.reason
    assert "symptoms[0] (back pain or sciatica over age 50)" in f.reason


def test_a_trigger_that_raised_the_red_flag_is_not_named_again():
    retention = {"type": "urinary_retention", "duration_weeks": 0.3}
    case = {"age": 55, "symptoms": [{**BACK, "type": "radicular_pain", "dermatomes": ["S1"]}, retention]}
    f = flag(case, "cauda_equina_syndrome_suspected")
    assert f.reason.count("symptoms[1]") == 1 and APART not in f.reason


def test_no_other_trigger_recorded_no_clause():
    f = flag({"age": 45, "symptoms": [BACK], "risk_factors": ["history_of_cancer"]}, "malignancy_suspected")
    assert f.reason == "history of cancer — risk_factors[0]"
