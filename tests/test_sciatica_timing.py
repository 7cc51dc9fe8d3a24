"""A step about sciatica is timed by the sciatica where the case dates it apart from a longer back pain episode
(``sk:sciaticaWeeks``): article 000's epidural "If Symptoms Persist After 6 Weeks" is not due now for a 3-week
sciatica on years of back pain, and is for an 8-week one; the steps about the back pain keep the episode's timing.

The plan of a 3-week sciatica is the acceptance vignette
``radicular-3wk-l5-on-3yr-chronic-lbp-epidural-not-yet-due-46m``; these tests check which recommendations count from
the sciatica (read from the KB's populations) and the edges: a sciatica past 6 weeks, and a course of care longer
than the sciatica (it began before the sciatica did).
"""

from __future__ import annotations

import pytest

from reasoner.api import default_reasoner, reason
from reasoner.consts import SK
from reasoner.plan.parts import sciatica_timed

BACK = {"type": "axial_pain", "body_regions": ["lower_back"], "laterality": "midline", "duration_weeks": 156}
MRI = {
    "modality": "MRI",
    "weeks_ago": 0,
    "findings": [{"type": "disc_protrusion", "level": "L4-L5", "side": "left", "zone": "paracentral"}],
}


def _case(name: str, sciatica_weeks: float, **more) -> dict:
    pain = {"type": "radicular_pain", "dermatomes": ["L5"], "laterality": "left", "duration_weeks": sciatica_weeks}
    return {
        "id": f"sciatica-timing-{name}",
        "age": 46,
        "symptoms": [BACK, pain, {"type": "weakness", "present": False}],
        "red_flag_screen": {"result": "none_found"},
        "candidate_for": ["injection"],
        "imaging": [MRI],
        **more,
    }


CASES = {
    "3wk": _case("3wk", 3),
    "8wk": _case("8wk", 8),
    # 12 weeks of physiotherapy that did not help, 3 weeks of sciatica: the course began for the back pain
    "3wk-care-12wk": _case(
        "3wk-care-12wk", 3, prior_treatments=[{"type": "physical_therapy", "weeks": 12, "outcome": "unchanged"}]
    ),
}


@pytest.fixture(scope="module")
def plans() -> dict:
    return {name: r.plan for name, r in zip(CASES, reason(list(CASES.values())), strict=True)}


def _epidural(plan):
    rec = str(SK.rec_000_10)
    return next(s for s in plan.steps if rec in s.recommendations)


def test_recommendations_about_sciatica_are_timed_by_it_and_low_back_pain_ones_by_the_episode():
    timed = {r.removeprefix(str(SK)) for r in sciatica_timed(default_reasoner())}
    # article 000's epidural and referrals, article 002's MRI after failed care, NICE's decompression for sciatica
    assert {
        "rec_000_10",
        "rec_000_15",
        "rec_000_16",
        "rec_002_19",
        "rec_002_20",
        "rec_ext_nice_decompression_sciatica",
    } <= timed
    # any spinal symptom with multilevel degeneration (000_13), low back pain with or without sciatica (ACR variant
    # 3's MRI for an injection candidate), a facet-mediated pain (000_09): the episode's
    assert not {"rec_000_13", "rec_000_09", "rec_ext_acr_mri_injection_candidate"} & timed


@pytest.mark.parametrize(
    "name,phase,timing",
    [
        (
            "3wk",
            "if_persistent",
            "if symptoms persist after 6 weeks (the sciatica, dated apart from the episode, has lasted 3 weeks)",
        ),
        ("8wk", "now", "due now: 8 weeks of sciatica (dated apart from the episode) ≥ 6 weeks"),
        (
            "3wk-care-12wk",
            "if_persistent",
            "if symptoms persist after 6 weeks (the sciatica, dated apart from the episode, has lasted 3 weeks)",
        ),
    ],
)
def test_the_epidural_for_sciatica_counts_from_the_sciatica(plans, name, phase, timing):
    step = _epidural(plans[name])
    assert (step.phase, step.timing) == (phase, timing)
