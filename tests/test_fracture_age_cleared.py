"""Rule derive-older-back-pain-not-cleared: back pain at 70 or over raises suspected vertebral fracture on age alone
until an MRI or CT of the lumbar spine done since the pain began records no vertebral height loss (ACR variant 6
answers older age with initial imaging); the plan then names that study (warning fracture_age_cleared_by_imaging).

Found by clinicians' reviews (J3 j3-14 and its variant v14a, I1 i1-15): a 73-year-old with a year of stable
neurogenic claudication, an MRI of 3 weeks ago recording severe central stenosis and no height loss, and failed
physiotherapy had decompression deferred "until suspected vertebral fracture is excluded" on his age alone.
"""

from __future__ import annotations

import pytest

from reasoner.api import recommend

FLAG = "fracture_suspected"
NO_HEIGHT_LOSS = {"type": "vertebral_height_loss", "present": False}
STENOSIS = {"type": "canal_stenosis", "level": "L4-L5", "zone": "central", "severity": "severe"}


CLAUDICATION = {"type": "neurogenic_claudication", "body_regions": ["both_legs"], "duration_weeks": 52}


def case(study: dict | None, age: float = 73, pain: dict | None = None, **more) -> dict:
    back = {"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": 52, **(pain or {})}
    back = {k: v for k, v in back.items() if v is not None}  # a key given None: not recorded
    doc = {"id": "age-cleared", "age": age, "symptoms": [back, CLAUDICATION], **more}
    if study is not None:
        doc["imaging"] = [study]
    return doc


def mri(*findings: dict, modality: str = "MRI", weeks_ago: float = 3) -> dict:
    return {"modality": modality, "weeks_ago": weeks_ago, "findings": list(findings)}


@pytest.mark.parametrize(
    ("doc", "raised"),
    [
        (case(mri(STENOSIS, NO_HEIGHT_LOSS)), False),  # the lumbar MRI of this episode records no height loss
        (case(mri(STENOSIS, NO_HEIGHT_LOSS, modality="CT")), False),  # a CT answers it too
        (case(mri(STENOSIS, {"type": "vertebral_height_loss", "severity": "none"})), False),  # severity none
        (case(mri(NO_HEIGHT_LOSS)), False),  # no level recorded: read as of the lumbar spine
        (case(mri(STENOSIS, NO_HEIGHT_LOSS, weeks_ago=0)), False),  # today's
        (case(mri(STENOSIS)), True),  # no record of height loss either way: not read as absent
        (case(None), True),  # no imaging
        (case(mri(STENOSIS, NO_HEIGHT_LOSS, modality="radiography")), True),  # a radiograph may miss a fracture
        (case(mri(STENOSIS, NO_HEIGHT_LOSS, weeks_ago=60)), True),  # from before the pain began
        # the back pain began after the study (within the episode of claudication): it cannot show its fracture
        (case(mri(STENOSIS, NO_HEIGHT_LOSS, weeks_ago=5), pain={"duration_weeks": 2}), True),
        (case(mri(STENOSIS, NO_HEIGHT_LOSS, weeks_ago=5), pain={"duration_weeks": None}), False),  # the episode's
        (case(mri({**STENOSIS, "level": "C5-C6"}, NO_HEIGHT_LOSS)), True),  # a cervical study
        (case(mri(STENOSIS, {**NO_HEIGHT_LOSS, "level": "L2"})), True),  # one level only: not the whole study
        (case(mri(STENOSIS, NO_HEIGHT_LOSS), pain={"dermatomes": ["T10"]}), True),  # a pain above L1
        (case(mri(STENOSIS, NO_HEIGHT_LOSS), risk_factors=["osteoporosis"]), True),  # another feature stands
        (case(mri(STENOSIS, {"type": "vertebral_height_loss", "level": "L2", "new": True})), True),  # a fracture
    ],
)
def test_age_alone_raises_the_fracture_flag_until_lumbar_imaging_of_the_episode_records_no_height_loss(doc, raised):
    plan = recommend(doc)
    assert (FLAG in {f.id for f in plan.red_flags}) is raised


def test_the_plan_names_the_study_that_cleared_age():
    plan = recommend(case(mri(STENOSIS, NO_HEIGHT_LOSS), candidate_for=["surgery"]))
    [w] = [w for w in plan.warnings if w.id == "fracture_age_cleared_by_imaging"]
    assert w.subjects == (FLAG, "symptoms[0]", "imaging[0]")
    assert "MRI, 3 weeks ago (imaging[0]: no vertebral body height loss, imaging[0].findings[1])" in w.message
    assert "does not raise the fracture red flag on age" in w.message
    assert "suspected_compression_fracture" not in {p.id for p in plan.presentations}
    assert "bone_health_assessment" not in {s.id for s in plan.steps}


def test_with_another_feature_the_flag_stands_and_the_warning_says_on_what():
    plan = recommend(case(mri(STENOSIS, NO_HEIGHT_LOSS), risk_factors=["osteoporosis"]))
    [flag] = [f for f in plan.red_flags if f.id == FLAG]
    assert flag.triggered_by == ("risk_factors[0]",)
    [w] = [w for w in plan.warnings if w.id == "fracture_age_cleared_by_imaging"]
    assert "stands on its other features (osteoporosis, risk_factors[0])" in w.message


def test_a_study_without_a_record_of_height_loss_says_what_to_record():
    plan = recommend(case(mri(STENOSIS)))
    [w] = [w for w in plan.warnings if w.id == "red_flag_imaging_on_file"]
    assert "raised on age alone" in w.message and "{type: vertebral_height_loss, present: false}" in w.message
    assert "fracture_age_cleared_by_imaging" not in {w.id for w in plan.warnings}


def test_a_flag_on_more_than_age_does_not_ask_for_the_record():
    plan = recommend(case(mri(STENOSIS), risk_factors=["osteoporosis"]))
    [w] = [w for w in plan.warnings if w.id == "red_flag_imaging_on_file"]
    assert "raised on age alone" not in w.message
