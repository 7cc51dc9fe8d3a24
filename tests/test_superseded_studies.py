"""Imaging that does not show the spine as it is now (``reasoner/plan/superseded.py``), one group per warning id:

- ``study_before_operation``: a lumbar study older than the case's latest dated operation, read by the plan
  (clinician's review R20 #2: a pre-operative MRI read as the stenosis a second decompression rests on);
- ``previous_episode_study``: a study from before this episode that the concordance table reads as explaining a
  symptom, while the rules give no injection or operation on it (review R20 #7).

The acceptance vignettes hold the two patients; these test the words, the boundaries and that no step changes.
"""

from __future__ import annotations

import copy

from reasoner.api import recommend
from reasoner.present.text import text


def warnings(plan, wid: str) -> list:
    return [w for w in plan.warnings if w.id == wid]


def steps(plan) -> set[tuple[str, str]]:
    return {(s.id, s.stance) for s in plan.steps}


#: 68, an L4-L5 laminectomy 39 weeks ago that helped; claudication, left L5 pain and back pain back for 8 weeks; the
#: only MRI is the one before the operation (review R20 #2)
AFTER_LAMINECTOMY = {
    "id": "after-laminectomy",
    "age": 68,
    "sex": "male",
    "symptoms": [
        {"type": "neurogenic_claudication", "body_regions": ["both_legs"], "laterality": "bilateral",
         "duration_weeks": 8, "severity": "moderate", "progressive": False},
        {"type": "radicular_pain", "dermatomes": ["L5"], "body_regions": ["lateral_leg"], "laterality": "left",
         "duration_weeks": 8, "severity": "moderate", "progressive": False},
        {"type": "axial_pain", "body_regions": ["lower_back"], "laterality": "midline", "duration_weeks": 8,
         "severity": "mild"},
        {"type": "weakness", "present": False},
    ],
    "imaging": [
        {"modality": "MRI", "contrast": False, "weeks_ago": 42, "findings": [
            {"type": "canal_stenosis", "level": "L4-L5", "severity": "severe"},
            {"type": "lateral_recess_stenosis", "level": "L4-L5", "side": "left", "severity": "moderate"},
        ]},
    ],
    "prior_treatments": [
        {"type": "decompression_surgery", "weeks_ago": 39, "outcome": "improved"},
        {"type": "acetaminophen", "weeks": 6, "outcome": "unchanged"},
    ],
    "red_flag_screen": {"result": "none_found"},
}  # fmt: skip


def _mri_weeks_ago(case: dict, weeks: float) -> dict:
    out = copy.deepcopy(case)
    out["imaging"][0]["weeks_ago"] = weeks
    return out


def test_study_before_operation_says_it_predates_the_operation_and_names_what_rests_on_it():
    plan = recommend(AFTER_LAMINECTOMY)
    [w] = warnings(plan, "study_before_operation")
    assert w.message.startswith(
        "MRI, 42 weeks ago (imaging[0]) predates decompression surgery, 39 weeks ago, improved (prior_treatments[0]): "
        "it shows the spine before the operation changed it, not the current anatomy"
    )
    number = {(s.id, s.stance): s.number for s in plan.steps}
    # the steps a level chosen on imaging guides, whatever their stance: the decompression and NICE's "do not epidural"
    assert f"step {number['decompression_surgery', 'consider']} (consider decompression surgery)" in w.message
    assert f"step {number['epidural_steroid_injection', 'avoid']} (do not epidural steroid injection)" in w.message
    assert "the concordance table below reads it as explaining L5, S1, S2" in w.message
    new = number["mri_lumbar_spine_with_and_without_contrast", "do"]
    assert f"on a study done since the operation: step {new} (do MRI lumbar spine without and with contrast)" in (
        w.message
    )
    # the revision, said as spinekg's judgement, once for the operation (not for each of its parts)
    judgement = w.message.split("spinekg's judgement, which no source in its reference gives: ")[1]
    assert "would be a revision of an operated spine" in judgement and "instability" in judgement
    assert "decompression preserving facet joint" not in judgement
    assert w.subjects[:2] == ("imaging[0]", "prior_treatments[0]")
    assert {"decompression_surgery", "epidural_steroid_injection", "mri_lumbar_spine_with_and_without_contrast"} <= set(
        w.subjects
    )
    # care the study does not guide is not named (pain relief does not wait for a new study)
    assert "NSAIDs" not in w.message
    # one warning for the study: the operation says more than the previous episode
    assert not warnings(plan, "previous_episode_study")


def test_study_before_operation_changes_no_step_and_is_shown_on_the_steps_it_names():
    plan = recommend(AFTER_LAMINECTOMY)
    assert {("decompression_surgery", "consider"), ("mri_lumbar_spine_with_and_without_contrast", "do")} <= steps(plan)
    plain = text(plan)
    block = plain.split("CONSIDER decompression surgery", 1)[1].split("rec_003_19", 1)[0]
    assert "study_before_operation" in block


def test_study_before_operation_not_for_a_study_since_the_operation_nor_one_of_its_week():
    for weeks in (38, 39):  # after it, or in the same week (a pre-operative study or a post-operative one)
        assert not warnings(recommend(_mri_weeks_ago(AFTER_LAMINECTOMY, weeks)), "study_before_operation")


def test_study_before_operation_not_for_an_undated_operation():
    case = copy.deepcopy(AFTER_LAMINECTOMY)
    del case["prior_treatments"][0]["weeks_ago"]
    assert not warnings(recommend(case), "study_before_operation")


def test_study_before_operation_not_where_the_plan_reads_nothing_of_it():
    """Review R5, r5-02's patient: residual back pain 6 weeks after a discectomy, the pre-operative MRI's extrusion on
    the right and a mild disc narrowing; no injection or operation rests on it and it explains no symptom."""
    case = {
        "id": "residual-back-pain",
        "age": 41,
        "symptoms": [{"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": 30, "severity": "mild",
                      "progressive": False}],
        "imaging": [{"modality": "MRI", "weeks_ago": 14, "findings": [
            {"type": "disc_extrusion", "level": "L5-S1", "zone": "paracentral", "side": "right",
             "severity": "moderate"},
            {"type": "disc_space_narrowing", "level": "L5-S1", "severity": "mild"}]}],
        "prior_treatments": [{"type": "decompression_surgery", "weeks_ago": 6, "outcome": "improved"}],
    }  # fmt: skip
    assert not warnings(recommend(case), "study_before_operation")


#: 51, left L5 sciatica back for 4 weeks; the only MRI, 24 weeks old, showed a left paracentral L4-L5 extrusion; an
#: epidural 16 weeks ago helped; a candidate for an injection and surgery (review R20 #7)
RECURRENT_SCIATICA = {
    "id": "recurrent-sciatica",
    "age": 51,
    "sex": "female",
    "symptoms": [
        {"type": "radicular_pain", "dermatomes": ["L5"], "body_regions": ["lateral_leg", "dorsum_of_foot"],
         "laterality": "left", "duration_weeks": 4, "severity": "moderate"},
        {"type": "weakness", "present": False},
    ],
    "imaging": [
        {"modality": "MRI", "contrast": False, "weeks_ago": 24, "findings": [
            {"type": "disc_extrusion", "level": "L4-L5", "side": "left", "zone": "paracentral", "severity": "moderate"},
        ]},
    ],
    "prior_treatments": [
        {"type": "epidural_steroid_injection", "weeks_ago": 16, "outcome": "improved"},
        {"type": "nsaid", "weeks": 3, "outcome": "partial_improvement"},
    ],
    "candidate_for": ["injection", "surgery"],
    "red_flag_screen": {"result": "none_found"},
}  # fmt: skip


def test_previous_episode_study_says_why_the_explained_root_gives_no_injection_or_operation():
    plan = recommend(RECURRENT_SCIATICA)
    [w] = warnings(plan, "previous_episode_study")
    assert w.message.startswith(
        "MRI, 24 weeks ago (imaging[0]) is from before this episode began (the episode has lasted 4 weeks): a previous "
        "episode's study"
    )
    assert "The concordance table below reads it as explaining L5" in w.message
    assert "only from a study of this episode (rule infer-root-compression)" in w.message
    assert "(an epidural for radicular symptoms with nerve compression, a decompression) is not given on it" in (
        w.message
    )
    new = next(s for s in plan.steps if s.id == "mri_lumbar_spine_without_contrast")
    assert w.message.endswith(
        f"a study of this episode decides it: step {new.number} (do MRI lumbar spine without contrast), which the "
        "plan orders"
    )
    assert w.subjects == ("imaging[0]", "mri_lumbar_spine_without_contrast")
    # the warning explains the plan; it changes no step
    assert not {("epidural_steroid_injection", "do"), ("epidural_steroid_injection", "consider")} & steps(plan)


def test_previous_episode_study_not_for_a_study_of_this_episode():
    """The same MRI 3 weeks ago is this episode's: the rules give the epidural and the decompression on it."""
    plan = recommend(_mri_weeks_ago(RECURRENT_SCIATICA, 3))
    assert not warnings(plan, "previous_episode_study")
    assert ("epidural_steroid_injection", "consider") in steps(plan)


def test_previous_episode_study_not_where_the_concordance_reads_nothing_of_it():
    case = copy.deepcopy(RECURRENT_SCIATICA)
    case["imaging"][0]["findings"][0]["level"] = "L2-L3"  # reaches the L3 root, not the painful L5
    assert not warnings(recommend(case), "previous_episode_study")
