"""Clinician review e10/e40: a red flag's emergency or urgent MRI is not ordered again when the case records the study
it asks for, done today (``NoPriorImaging`` with ``sk:maxWeeksAgo 0``); a step asking for an MRI without and with
contrast stands down only for one recorded ``contrast: true`` (``sk:withContrast true``). An older study, a CT, or a
study whose contrast is not recorded, stands nothing down. The why-not names today's study.

The acceptance vignettes (``*-mri-today-*``, ``*-contrast-mri-stays-*``) hold the patients; these test the
boundaries and the words on both sides of them.
"""

from __future__ import annotations

import pytest

from reasoner.api import reason

PROGRESSIVE = [
    {"type": "radicular_pain", "dermatomes": ["L5"], "laterality": "right", "duration_weeks": 3},
    {"type": "weakness", "dermatomes": ["L5"], "laterality": "right", "duration_weeks": 1, "progressive": True,
     "strength_mrc": 2},
]  # fmt: skip
INFECTION = {
    "symptoms": [{"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": 2}],
    "risk_factors": ["fever", "iv_drug_use"],
}


def _study(modality: str = "MRI", weeks_ago: float = 0, contrast: bool | None = None) -> dict:
    study: dict = {"modality": modality, "weeks_ago": weeks_ago}
    if contrast is not None:
        study["contrast"] = contrast
    return study


CASES = {
    "progressive-mri-today": {"symptoms": PROGRESSIVE, "imaging": [_study()]},
    "progressive-mri-1wk": {"symptoms": PROGRESSIVE, "imaging": [_study(weeks_ago=1)]},
    "progressive-ct-today": {"symptoms": PROGRESSIVE, "imaging": [_study("CT")]},
    "infection-contrast-today": {**INFECTION, "imaging": [_study(contrast=True)]},
    "infection-no-contrast-today": {**INFECTION, "imaging": [_study(contrast=False)]},
    "infection-contrast-unrecorded-today": {**INFECTION, "imaging": [_study()]},
    "infection-contrast-1wk": {**INFECTION, "imaging": [_study(weeks_ago=1, contrast=True)]},
}


@pytest.fixture(scope="module")
def plans():
    results = reason([{"id": name, **case} for name, case in CASES.items()])
    return {name: r.plan for name, r in zip(CASES, results, strict=True)}


def mri_steps(plan) -> list[str]:
    return [s.id for s in plan.steps if s.id.startswith("mri_lumbar_spine") and s.stance == "do"]


def why_not(plan, rec: str) -> list[str]:
    return next(list(n.why) for n in plan.not_applicable if n.recommendation.endswith("/" + rec))


def test_todays_mri_stands_the_progressive_deficit_mri_down_and_the_why_not_names_it(plans):
    plan = plans["progressive-mri-today"]
    assert [f.id for f in plan.red_flags] == ["progressive_neurological_deficit"]
    assert mri_steps(plan) == []
    assert "urgent_spine_surgical_referral" in [s.id for s in plan.steps]
    for rec in ("rec_safety_progressive_mri", "rec_002_18"):
        assert why_not(plan, rec) == [
            "NoPriorImaging(MRI, lumbar_spine, today, or after every progressive_neurological_deficit finding began, "
            "none progressive) does not hold: recorded imaging[0]"
        ]


@pytest.mark.parametrize("name", ["progressive-mri-1wk", "progressive-ct-today"])
def test_an_older_mri_or_a_ct_of_today_does_not(plans, name):
    assert mri_steps(plans[name]) == ["mri_lumbar_spine"]


def test_todays_contrast_mri_stands_the_infection_contrast_mri_down(plans):
    plan = plans["infection-contrast-today"]
    assert mri_steps(plan) == []
    assert "infection_blood_workup" in [s.id for s in plan.steps]
    assert why_not(plan, "rec_safety_infection_mri") == [
        "NoPriorImaging(MRI, lumbar_spine, with contrast, today) does not hold: recorded imaging[0]"
    ]


@pytest.mark.parametrize(
    "name", ["infection-no-contrast-today", "infection-contrast-unrecorded-today", "infection-contrast-1wk"]
)
def test_a_study_that_is_not_the_contrast_mri_of_today_does_not(plans, name):
    assert mri_steps(plans[name]) == ["mri_lumbar_spine_with_and_without_contrast"]


# --- red_flag_imaging_on_file: the study on file is the work-up to review (clinician review e11) --------------------

OLD_BACK_PAIN = {
    "age": 74,
    "symptoms": [{"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": 52}],
}
WARNING_CASES = {
    "fracture-mri-4wk": {**OLD_BACK_PAIN, "imaging": [_study(weeks_ago=4)]},
    "fracture-radiograph-4wk": {**OLD_BACK_PAIN, "imaging": [_study("radiography", weeks_ago=4)]},
    "fracture-mri-before-episode": {**OLD_BACK_PAIN, "imaging": [_study(weeks_ago=104)]},
    "fracture-mri-4wk-excluded": {
        **OLD_BACK_PAIN,
        "imaging": [_study(weeks_ago=4)],
        "red_flags_excluded": ["fracture_suspected"],
    },
}


@pytest.fixture(scope="module")
def warned(plans):
    results = reason([{"id": name, **case} for name, case in WARNING_CASES.items()])
    found = {name: r.plan for name, r in zip(WARNING_CASES, results, strict=True)}
    return {**plans, **found}


def on_file(plan) -> list:
    return [w for w in plan.warnings if w.id == "red_flag_imaging_on_file"]


def test_the_fracture_study_of_this_episode_is_named_as_the_work_up_to_review(warned):
    (warning,) = on_file(warned["fracture-mri-4wk"])
    assert warning.subjects == ("fracture_suspected", "imaging[0]", "rec_safety_fracture_imaging")
    assert "MRI, 4 weeks ago (imaging[0])" in warning.message
    assert "record red_flags_excluded: [fracture_suspected] and plan again" in warning.message
    assert "lumbar_spine_imaging" not in [s.id for s in warned["fracture-mri-4wk"].steps]  # a warning, not a step


@pytest.mark.parametrize(
    "name",
    [
        "fracture-radiograph-4wk",  # the fracture imaging step still stands (MRI or CT may be needed)
        "fracture-mri-before-episode",  # an earlier episode's study is not this one's work-up
        "fracture-mri-4wk-excluded",  # the work-up is done: red_flag_excluded says so instead
        "infection-no-contrast-today",  # the contrast MRI is still to do
        "progressive-mri-1wk",  # the urgent MRI is still to do
    ],
)
def test_no_work_up_on_file_while_its_imaging_is_still_due_or_the_flag_is_gone(warned, name):
    assert on_file(warned[name]) == []


@pytest.mark.parametrize(
    ("name", "flag", "recs"),
    [
        ("progressive-mri-today", "progressive_neurological_deficit", ("rec_002_18", "rec_safety_progressive_mri")),
        ("infection-contrast-today", "infection_suspected", ("rec_safety_infection_mri",)),
    ],
)
def test_todays_study_is_named_for_the_red_flag_it_answers(warned, name, flag, recs):
    (warning,) = on_file(warned[name])
    assert warning.subjects == (flag, "imaging[0]", *recs)


@pytest.mark.parametrize(
    "weeks_ago,duration,level,imaging",
    [
        (0, 1, "L1", "advanced_imaging"),  # today's radiograph: MRI or CT is what remains
        (1, 2, "L1", "advanced_imaging"),  # a radiograph of this episode
        (10, None, "L1", "advanced_imaging"),  # no duration recorded: any radiograph is of this episode
        (10, 1, "L1", "lumbar_spine_imaging"),  # an earlier episode's radiograph: the first imaging is still to do
        (0, 1, "C5", "lumbar_spine_imaging"),  # a neck radiograph is not the lumbar one (sk:studyRegion)
    ],
)
def test_a_radiograph_of_this_episode_leaves_mri_or_ct_for_a_suspected_fracture(weeks_ago, duration, level, imaging):
    """PriorImaging with sk:inEpisode true holds for exactly the studies NoPriorImaging of the modality fails on:
    rec_safety_fracture_imaging (radiography, MRI or CT) and rec_safety_fracture_advanced_imaging (MRI or CT) split on
    a lumbar radiograph of this episode, so one of the two, never both, asks for the imaging."""
    pain = {"type": "axial_pain"} | ({} if duration is None else {"duration_weeks": duration})
    case = {
        "id": "fracture-radiograph",
        "age": 79,
        "symptoms": [pain],
        "risk_factors": ["osteoporosis", "minor_trauma"],
        "imaging": [
            {
                "modality": "radiography",
                "weeks_ago": weeks_ago,
                "findings": [{"type": "vertebral_height_loss", "level": level, "severity": "mild"}],
            }
        ],
    }
    (result,) = reason([case])
    steps = [(s.id, s.stance, s.phase) for s in result.plan.steps if s.id.endswith("imaging")]
    assert steps == [(imaging, "do", "urgent")]
