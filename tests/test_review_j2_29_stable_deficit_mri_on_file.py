"""Clinician review J2-29: the urgent MRI of a progressive neurological deficit is not ordered again where an MRI on
file was taken after every finding that raises the red flag began and none of them is recorded as progressing
(``condition_NoPriorImaging_MRI_today_or_after_stable_deficit``: ``sk:maxWeeksAgo 0`` with
``sk:orAfterStableTriggersOf``). A deficit that is progressive, or whose course or duration is not recorded, may have
changed since the study: today's MRI is still asked for. The urgent referral stands either way.

The acceptance vignettes ``progressive-severe-l4-weakness-*-58m`` hold the patients; these test the boundaries and
the words.
"""

from __future__ import annotations

import pytest

from reasoner.api import reason

PAIN = {"type": "radicular_pain", "dermatomes": ["L4"], "laterality": "right", "duration_weeks": 10}


def _weakness(mrc: int = 2, weeks: float | None = 6, progressive: bool | None = False, derm: str = "L4") -> dict:
    w: dict = {"type": "weakness", "dermatomes": [derm], "laterality": "right", "strength_mrc": mrc}
    if weeks is not None:
        w["duration_weeks"] = weeks
    if progressive is not None:
        w["progressive"] = progressive
    return w


def _case(*symptoms: dict, weeks_ago: float = 1) -> dict:
    return {"symptoms": [PAIN, *symptoms], "imaging": [{"modality": "MRI", "weeks_ago": weeks_ago}]}


NUMBNESS_WORSENING = {"type": "numbness", "dermatomes": ["L4"], "laterality": "right", "duration_weeks": 2,
                      "progressive": True}  # fmt: skip
CASES = {
    "stable-mri-after-onset": _case(_weakness()),
    "progressive-mri-after-onset": _case(_weakness(progressive=True)),
    "course-unrecorded-mri-after-onset": _case(_weakness(progressive=None)),
    "duration-unrecorded": _case(_weakness(weeks=None)),
    "stable-mri-before-onset": _case(_weakness(), weeks_ago=8),
    "stable-mri-the-week-it-began": _case(_weakness(), weeks_ago=6),
    "stable-and-worsening-numbness": _case(_weakness(), NUMBNESS_WORSENING),
    "two-stable-mri-between-onsets": _case(_weakness(), _weakness(mrc=3, weeks=3, derm="L5"), weeks_ago=4),
    "two-stable-mri-after-both": _case(_weakness(), _weakness(mrc=3, weeks=3, derm="L5"), weeks_ago=2),
}


@pytest.fixture(scope="module")
def plans():
    results = reason([{"id": name, **case} for name, case in CASES.items()])
    return {name: r.plan for name, r in zip(CASES, results, strict=True)}


def steps(plan) -> list[str]:
    return [s.id for s in plan.steps if s.stance == "do" and s.phase == "urgent"]


@pytest.mark.parametrize("name", ["stable-mri-after-onset", "two-stable-mri-after-both"])
def test_an_mri_after_a_stable_deficit_began_is_the_one_to_act_on(plans, name):
    plan = plans[name]
    assert [f.id for f in plan.red_flags] == ["progressive_neurological_deficit"]
    assert "mri_lumbar_spine" not in steps(plan)
    assert "urgent_spine_surgical_referral" in steps(plan)
    (warning,) = [w for w in plan.warnings if w.id == "red_flag_imaging_on_file"]
    assert warning.subjects == ("progressive_neurological_deficit", "imaging[0]", "rec_002_18",
                                "rec_safety_progressive_mri")  # fmt: skip
    assert "taken after every finding that raises the red flag began" in warning.message
    assert "none of them recorded as progressing" in warning.message
    why = {n.recommendation.rsplit("/", 1)[-1]: list(n.why) for n in plan.not_applicable}
    for rec in ("rec_safety_progressive_mri", "rec_002_18"):
        assert why[rec] == [
            "NoPriorImaging(MRI, lumbar_spine, today, or after every progressive_neurological_deficit finding began, "
            "none progressive) does not hold: recorded imaging[0]"
        ]


@pytest.mark.parametrize(
    "name",
    [
        "progressive-mri-after-onset",  # still changing: it may have outrun the study
        "course-unrecorded-mri-after-onset",  # not known to be stable
        "duration-unrecorded",  # the case does not date the deficit
        "stable-mri-before-onset",  # the study predates the deficit
        "stable-mri-the-week-it-began",  # not known to be after it
        "stable-and-worsening-numbness",  # another finding raising the flag is progressing
        "two-stable-mri-between-onsets",  # the L5 weakness began after the study
    ],
)
def test_otherwise_the_urgent_mri_stays(plans, name):
    plan = plans[name]
    assert "progressive_neurological_deficit" in [f.id for f in plan.red_flags]
    assert "mri_lumbar_spine" in steps(plan)
    assert "urgent_spine_surgical_referral" in steps(plan)
    assert [w for w in plan.warnings if w.id == "red_flag_imaging_on_file"] == []
