"""``red_flag_study_on_file`` (``reasoner/plan/studied.py``): suspected cauda equina syndrome whose every trigger
began before a lumbar MRI or CT of this episode, none progressing. The vignette holds the patient (review R4,
r4-16); these test the dating."""

from __future__ import annotations

import pytest

from reasoner.api import recommend


def case(sciatica: dict, study_weeks_ago: float, level: str = "L5-S1") -> dict:
    pain = {"type": "radicular_pain", "dermatomes": ["L5"], "laterality": "bilateral", **sciatica}
    study = {
        "modality": "MRI",
        "weeks_ago": study_weeks_ago,
        "findings": [{"type": "foraminal_stenosis", "level": level, "zone": "foraminal", "severity": "severe"}],
    }
    return {"id": "s", "age": 60, "symptoms": [pain], "imaging": [study]}


def warned(doc: dict) -> list:
    plan = recommend(doc)
    assert "cauda_equina_syndrome_suspected" in {f.id for f in plan.red_flags}  # the red flag always stands
    return [w for w in plan.warnings if w.id == "red_flag_study_on_file"]


def test_a_study_after_every_trigger_began_is_named():
    [w] = warned(case({"duration_weeks": 18}, 3))
    assert w.subjects[:2] == ("cauda_equina_syndrome_suspected", "imaging[0]")


@pytest.mark.parametrize(
    ("sciatica", "ago", "level"),
    [
        ({"duration_weeks": 2}, 3, "L5-S1"),  # the trigger began after the study
        ({"duration_weeks": 18, "progressive": True}, 3, "L5-S1"),  # progressing since
        ({}, 3, "L5-S1"),  # undated
        ({"duration_weeks": 18}, 30, "L5-S1"),  # the study is older than the episode
        ({"duration_weeks": 18}, 3, "C5-C6"),  # a cervical study
    ],
)
def test_no_study_that_saw_the_trigger_as_it_is_no_warning(sciatica, ago, level):
    assert not warned(case(sciatica, ago, level))
