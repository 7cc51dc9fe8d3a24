"""The warnings on what a case's own records leave open (``reasoner/plan/records.py``), one group per warning id:

- ``weakness_side_not_recorded``: a leg weakness with no side, which could be bilateral leg weakness (suspected cauda
  equina syndrome) or, with its course, grade or dermatomes unrecorded, a progressive neurological deficit;
- ``durations_disagree``: two records of one symptom whose durations put the case in different phases;
- ``outcome_not_recorded``: a prior treatment with no outcome that the plan offers again.

The acceptance vignettes hold the patients (review G2: g2-22, g2-08, g2-23); these test the boundaries.
"""

from __future__ import annotations

import pytest

from reasoner.api import reason, recommend
from reasoner.plan.followup import brought_forward


def warnings(plan, wid: str) -> list:
    return [w for w in plan.warnings if w.id == wid]


def with_weakness(weakness: dict, *others: dict, **extra) -> dict:
    pain = {"type": "radicular_pain", "dermatomes": ["L5"], "laterality": "left", "duration_weeks": 3}
    return {"id": "w", "age": 45, "symptoms": [pain, {"type": "weakness", **weakness}, *others], **extra}


# --- weakness_side_not_recorded -------------------------------------------------------------------------------------


def test_an_unplaced_weakness_with_no_side_names_both_red_flags_and_every_field_to_record():
    plan = recommend(with_weakness({"duration_weeks": 3}))
    [w] = warnings(plan, "weakness_side_not_recorded")
    assert w.subjects[:7] == (
        "symptoms[1]",
        "symptoms[1].laterality",
        "symptoms[1].dermatomes",
        "symptoms[1].strength_mrc",
        "symptoms[1].progressive",
        "cauda_equina_syndrome_suspected",
        "progressive_neurological_deficit",
    )
    assert "\u201cbilateral sciatica or bilateral leg weakness\u201d" in w.message  # red_flags.csv's words
    assert "neither red flag" in w.message
    # no source gives a neurological examination for sciatica: the warning says so, and no step is made up
    assert "no source recommendation of a neurological examination applies" in w.message
    # no grade and no course: the progressive deficit is undecided, and the follow-up comes early (review R17 #2)
    assert "undecided" in w.message and "within 1-2 weeks" in w.message
    [follow] = [s for s in plan.steps if s.phase == "follow_up" and s.timing]
    assert follow.timing.startswith("early: within 1-2 weeks") and w.subjects[7:] == (follow.id,)


def test_a_graded_dermatomal_weakness_with_no_side_asks_only_for_what_is_missing():
    plan = recommend(with_weakness({"dermatomes": ["S1"], "strength_mrc": 4, "duration_weeks": 3}))
    [w] = warnings(plan, "weakness_side_not_recorded")
    assert w.subjects[1:5] == (
        "symptoms[1].laterality",
        "symptoms[1].progressive",
        "cauda_equina_syndrome_suspected",
        "progressive_neurological_deficit",
    )
    assert "graded MRC 3 or less" not in w.message and "two or more roots" not in w.message
    assert not plan.red_flags  # a weakness of unknown side is not bilateral weakness
    # graded MRC 4 with no course: whether it is getting worse decides the progressive deficit (review R17 #1, #2)
    assert "ask whether the weakness is getting worse" in w.message and "within 1-2 weeks" in w.message


def test_a_graded_weakness_with_no_side_recorded_stable_asks_for_no_early_review():
    stable = {"dermatomes": ["S1"], "strength_mrc": 4, "progressive": False, "duration_weeks": 3}
    plan = recommend(with_weakness(stable))
    [w] = warnings(plan, "weakness_side_not_recorded")
    assert "undecided" not in w.message and "within 1-2 weeks" not in w.message  # only the side is open
    assert all("early" not in (s.timing or "") for s in plan.steps)


def test_a_progressive_weakness_with_no_side_names_only_the_red_flag_not_yet_raised():
    plan = recommend(with_weakness({"dermatomes": ["L5"], "strength_mrc": 4, "progressive": True}))
    assert "progressive_neurological_deficit" in [f.id for f in plan.red_flags]
    [w] = warnings(plan, "weakness_side_not_recorded")
    assert w.subjects[-1] == "cauda_equina_syndrome_suspected"
    assert "progressive_neurological_deficit" not in w.subjects and "that red flag" in w.message


def test_a_sources_neurological_examination_step_is_named_where_the_plan_has_one():
    spondylosis = {  # article 004's patient: multilevel spondylosis with mild height loss, examined for deficits
        "modality": "radiography",
        "weeks_ago": 0,
        "findings": [
            {"type": "vertebral_height_loss", "level": "L2", "severity": "mild"},
            {"type": "disc_space_narrowing", "level": "L3-L4"},
            {"type": "disc_space_narrowing", "level": "L4-L5"},  # multilevel: two levels or more
        ],
    }
    plan = recommend(with_weakness({"duration_weeks": 3}, imaging=[spondylosis]))
    exams = [s for s in plan.steps if s.id == "neurological_examination"]
    [w] = warnings(plan, "weakness_side_not_recorded")
    assert exams and all(f"step {s.number} (do neurological examination)" in w.message for s in exams)
    assert "no source recommendation" not in w.message


@pytest.mark.parametrize(
    "weakness",
    [
        {"dermatomes": ["L5"], "laterality": "left"},  # a side recorded
        {"laterality": "bilateral"},  # both sides: the cauda equina red flag itself
        {"body_regions": ["both_legs"]},  # both legs by its place: the same
        {"dermatomes": ["C6"], "body_regions": ["hands"]},  # an arm's weakness, not a leg's
        {"present": False},  # an absence is no weakness
        {"dermatomes": ["L5"], "strength_mrc": 4, "progressive": True, "laterality": "right"},
    ],
    ids=["sided", "bilateral", "both-legs", "hand", "absent", "progressive-sided"],
)
def test_no_side_warning_where_the_side_is_recorded_or_the_weakness_is_not_a_legs(weakness):
    assert not warnings(recommend(with_weakness(weakness)), "weakness_side_not_recorded")


def test_no_side_warning_once_both_red_flags_are_raised():
    retention = {"type": "urinary_retention", "duration_weeks": 1}  # new retention: suspected cauda equina syndrome
    plan = recommend(with_weakness({"duration_weeks": 3, "progressive": True}, retention))
    assert {"cauda_equina_syndrome_suspected", "progressive_neurological_deficit"} <= {f.id for f in plan.red_flags}
    assert not warnings(plan, "weakness_side_not_recorded")


def test_a_follow_up_brought_forward_says_the_early_interval_first_and_the_routine_one_as_replaced():
    timing = brought_forward("in 6 weeks", "warning weakness_grade_not_recorded")
    # review R17 #3: "early, not at the routine interval (in 6 weeks)" was heard as 6 weeks
    assert timing.startswith("early: within 1-2 weeks, not at the routine interval of 6 weeks (spinekg's judgement")
    assert "(in 6 weeks)" not in timing and "no source in its reference gives an interval" in timing
    assert "not at the routine interval of 4-6 weeks" in brought_forward("every 4-6 weeks", "warning x")


# --- durations_disagree ---------------------------------------------------------------------------------------------


def sciatica(*weeks: float, side: str = "left", derm: str = "L5") -> list[dict]:
    return [{"type": "radicular_pain", "dermatomes": [derm], "laterality": side, "duration_weeks": w} for w in weeks]


def test_one_symptom_charted_in_two_phases_is_warned_with_both_records_and_the_phase_used():
    plan = recommend({"id": "d", "age": 46, "symptoms": sciatica(3, 30)})
    [w] = warnings(plan, "durations_disagree")
    assert w.subjects == ("symptoms[0].duration_weeks", "symptoms[1].duration_weeks", "chronic_phase")
    assert "left L5 radicular pain" in w.message and "30 weeks, so this case is in the chronic phase" in w.message
    assert "at 3 weeks it would be in the acute phase" in w.message
    opioid = next(s for s in plan.steps if s.id == "opioid")  # NICE's chronic "do not": the phase decides it
    assert f"step {opioid.number} (do not opioids)" in w.message


@pytest.mark.parametrize(
    "symptoms",
    [
        sciatica(8, 10),  # one phase (subacute)
        sciatica(3) + sciatica(30, side="right"),  # two symptoms: left and right
        sciatica(3) + sciatica(30, derm="S1"),  # two symptoms: L5 and S1
        sciatica(3, 30) + [{"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": 30}],  # held
        sciatica(3)
        + [
            {"type": "weakness", "dermatomes": ["L5"], "laterality": "left", "duration_weeks": w} for w in (3, 30)
        ],  # fmt: skip  (the pain decides the episode, not the weakness)
    ],
    ids=["same-phase", "other-side", "other-dermatome", "phase-held-by-another-pain", "not-the-episode"],
)
def test_no_duration_warning_where_the_records_do_not_change_the_phase(symptoms):
    assert not warnings(recommend({"id": "d", "age": 46, "symptoms": symptoms}), "durations_disagree")


def test_the_warnings_are_the_same_in_one_batch_as_alone():
    cases = [{"id": "a", "symptoms": sciatica(3, 30)}, with_weakness({"duration_weeks": 3})]
    batch = [r.plan.warnings for r in reason(cases)]
    assert batch == [recommend(c).warnings for c in cases]


# --- outcome_not_recorded -------------------------------------------------------------------------------------------


def with_course(*courses: dict) -> dict:
    pain = {"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": 20}
    return {"id": "o", "age": 50, "symptoms": [pain], "prior_treatments": list(courses)}


def test_a_course_without_an_outcome_names_its_outcome_field_and_the_steps_it_decides():
    plan = recommend(with_course({"type": "physical_therapy", "weeks": 8}, {"type": "nsaid", "weeks": 6}))
    found = warnings(plan, "outcome_not_recorded")
    assert [w.subjects[0] for w in found] == ["prior_treatments[0].outcome", "prior_treatments[1].outcome"]
    physio, nsaid = found
    assert "exercise_therapy" in physio.subjects and "nsaid" in nsaid.subjects
    # the steps named are offered, and advice (not a course that fails) is never among them
    offered = {s.id for s in plan.steps if s.stance in ("do", "consider")}
    assert set(physio.subjects[1:]) <= offered and set(nsaid.subjects[1:]) <= offered
    assert "stay_active_advice" in offered and "stay_active_advice" not in physio.subjects + nsaid.subjects


@pytest.mark.parametrize("outcome", ["improved", "partial_improvement", "unchanged", "not_tolerated"])
def test_a_course_with_any_outcome_is_not_reported_as_unrecorded(outcome):
    plan = recommend(with_course({"type": "physical_therapy", "weeks": 8, "outcome": outcome}))
    assert not warnings(plan, "outcome_not_recorded")


def test_a_course_the_plan_does_not_offer_again_is_not_reported():
    # an epidural 20 weeks into axial pain is nothing the plan offers: its outcome decides no step
    plan = recommend(with_course({"type": "epidural_steroid_injection", "weeks": 1}))
    assert not warnings(plan, "outcome_not_recorded")
