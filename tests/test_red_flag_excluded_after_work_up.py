"""derive-excluded-red-flag-feature: an exclusion (``red_flags_excluded``) covers only the features its work-up could
have seen (clinician's review R4, finding 1: r4-15, r4-15b, r4-15c). A feature of a suspicion that began after the
latest lumbar MRI or CT of this episode (its duration shorter than the weeks since), or is recorded progressive with
that study older than today, raises the red flag again; an undated one stays covered and the warning names it.

The acceptance vignettes ``ces-excluded-mri-2wk-*`` hold the patients; these test the boundaries and the words.
"""

from __future__ import annotations

import pytest

from reasoner.api import recommend

_CES = "cauda_equina_syndrome_suspected"


def ces_case(retention: dict, imaging: list[dict], excluded: tuple[str, ...] = (_CES,)) -> dict:
    """Three weeks of severe bilateral sciatica, a retention as given, the studies as given."""
    return {
        "id": "ces-after-work-up",
        "age": 44,
        "sex": "male",
        "symptoms": [
            {
                "type": "radicular_pain",
                "dermatomes": ["L5", "S1"],
                "body_regions": ["both_legs"],
                "laterality": "bilateral",
                "duration_weeks": 3,
                "severity": "severe",
            },
            {"type": "urinary_retention", **retention},
        ],
        "imaging": imaging,
        "red_flags_excluded": list(excluded),
    }


MRI_2WK = [{"modality": "MRI", "weeks_ago": 2}]


def raised(plan) -> set[str]:
    return {f.id for f in plan.red_flags}


def excluded_warning(plan):
    [w] = [w for w in plan.warnings if w.id == "red_flag_excluded"]
    return w


@pytest.mark.parametrize(
    ("retention", "imaging", "again"),
    [
        ({"duration_weeks": 0.3}, MRI_2WK, True),  # began after the MRI
        ({"duration_weeks": 2}, MRI_2WK, False),  # began the day of the MRI: it saw it
        ({"duration_weeks": 2.5, "progressive": True}, MRI_2WK, True),  # progressing since a study older than today
        ({"duration_weeks": 2.5, "progressive": True}, [{"modality": "MRI", "weeks_ago": 0}], False),  # today's MRI
        ({"duration_weeks": 0.3}, [{"modality": "CT", "weeks_ago": 2}], True),  # a CT dates it too
        ({"duration_weeks": 0.3}, [{"modality": "radiography", "weeks_ago": 2}], False),  # a radiograph does not
        ({"duration_weeks": 0.3}, [{"modality": "MRI", "weeks_ago": 4}], False),  # older than the episode: no date
        ({"duration_weeks": 0.3}, [{"modality": "MRI", "weeks_ago": 2}, {"modality": "MRI", "weeks_ago": 0}], False),
        ({}, MRI_2WK, False),  # no duration: cannot be dated, stays covered
    ],
)
def test_excluded_red_flag_feature_is_covered_only_where_the_work_up_could_have_seen_it(retention, imaging, again):
    plan = recommend(ces_case(retention, imaging))
    assert (_CES in raised(plan)) is again
    w = excluded_warning(plan)
    assert ("the exclusion does not cover urinary retention" in w.message) is again
    assert "symptoms[1]" in w.subjects


def test_a_cervical_mri_does_not_date_a_lumbar_exclusion():
    cervical = [{"modality": "MRI", "weeks_ago": 2, "findings": [{"type": "disc_protrusion", "level": "C5-C6"}]}]
    assert _CES not in raised(recommend(ces_case({"duration_weeks": 0.3}, cervical)))


def test_a_confirmed_findings_exclusion_is_not_dated_by_a_study():
    """A progressive deficit is cleared by a spine surgeon's assessment (sk:careHeldUntil): a weakness progressing
    since an MRI 2 weeks ago is what that assessment weighed, not a feature it could not have seen."""
    case = ces_case({"duration_weeks": 2.5, "progressive": False}, MRI_2WK, ("progressive_neurological_deficit",))
    case["symptoms"].append(
        {"type": "weakness", "dermatomes": ["L5"], "laterality": "left", "duration_weeks": 1, "progressive": True}
    )
    assert "progressive_neurological_deficit" not in raised(recommend(case))


def test_the_warning_and_the_deferral_say_the_exclusion_no_longer_covers_the_new_features():
    plan = recommend(ces_case({"duration_weeks": 0.3}, MRI_2WK))
    w = excluded_warning(plan)
    assert "radicular pain, bilateral" in w.message.split("; but")[0]  # the 3-week sciatica is still covered
    assert "raises the red flag again: its work-up is ordered again" in w.message
    assert "not ordered again" not in w.message
    assert not [x for x in plan.warnings if x.id == "red_flag_feature_not_acted_on"]  # not "not of this episode"


def test_undated_risk_factors_stay_covered_and_are_named():
    """r4-15: malignancy excluded on a contrast MRI 4 weeks ago; weight loss and a cancer history carry no date, so
    they stay covered (the clinician recorded the exclusion with them in front of them), and the warning says so."""
    plan = recommend(
        {
            "id": "r4-15",
            "age": 66,
            "sex": "male",
            "symptoms": [{"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": 8}],
            "imaging": [{"modality": "MRI", "contrast": True, "weeks_ago": 4}],
            "risk_factors": ["history_of_cancer", "unexplained_weight_loss", "night_pain"],
            "red_flags_excluded": ["malignancy_suspected"],
        }
    )
    assert "malignancy_suspected" not in raised(plan)
    w = excluded_warning(plan)
    assert "the case gives no date for risk_factors[0], risk_factors[1]" in w.message
    assert "remove the red flag from red_flags_excluded and plan again" in w.message


def test_a_feature_begun_in_the_week_of_the_work_up_stays_covered_and_the_warning_says_so():
    # retention of 2 weeks beside the MRI 2 weeks ago: read as seen by it, but the weeks cannot tell (review R5, r5-06c)
    plan = recommend(ces_case({"duration_weeks": 2}, MRI_2WK))
    assert _CES not in {f.id for f in plan.red_flags}
    [w] = [w for w in plan.warnings if w.id == "red_flag_excluded"]
    assert "symptoms[1] began in the week of the latest lumbar study (2 weeks ago)" in w.message


def test_a_feature_older_than_the_work_up_is_not_said_to_tie():
    plan = recommend(ces_case({"duration_weeks": 2.5}, MRI_2WK))
    [w] = [w for w in plan.warnings if w.id == "red_flag_excluded"]
    assert "in the week of the latest lumbar study" not in w.message
