"""A red-flag screen recorded as having found a red flag, in a case none of whose findings is one (clinician's review
R20 #1): not read as "no red flag". The NoRedFlag conditions are unknown (rule no-red-flag-screen-found-unknown),
warning red_flag_screen_found_unnamed asks for the finding, and the baselines read it as spinekg does."""

from __future__ import annotations

import yaml

from bench.baselines.owlready2_swrl import Owlready2Swrl
from bench.baselines.plain_python import PlainPython
from reasoner.api import default_reasoner, reason

from constants import ACCEPTANCE

FOUND = ACCEPTANCE / "chronic-axial-26wk-red-flag-screen-found-nothing-named-no-do-not-image-24m.yaml"
NONE_FOUND = ACCEPTANCE / "chronic-axial-26wk-red-flag-screen-none-found-do-not-image-stands-24m.yaml"
MISSING = "which red flag red_flag_screen found"


def _docs() -> list[dict]:
    return [dict(yaml.safe_load(p.read_text(encoding="utf-8"))["case"], id=p.stem) for p in (FOUND, NONE_FOUND)]


def test_a_found_screen_without_a_named_red_flag_leaves_no_red_flag_unknown():
    found, clear = (r.plan for r in reason(_docs()))
    unknown = {n.recommendation.rsplit("/", 1)[-1] for n in found.not_applicable if MISSING in n.missing}
    assert "rec_ext_no_imaging_subacute_chronic_nice" in unknown
    [w] = [w for w in found.warnings if w.id == "red_flag_screen_found_unnamed"]
    assert w.subjects[0] == "red_flag_screen" and "rec_ext_no_imaging_subacute_chronic_nice" in w.subjects
    assert "pain relief is not withheld" in w.message
    assert not found.red_flags and [s for s in found.steps if s.id == "nsaid"]
    assert not [s for s in found.steps if s.id == "lumbar_spine_imaging" and s.stance == "avoid"]
    # a screen with none found: the advice against imaging stands, nothing is asked
    assert [s for s in clear.steps if s.id == "lumbar_spine_imaging" and s.stance == "avoid"]
    assert not [w for w in clear.warnings if w.id == "red_flag_screen_found_unnamed"]
    assert not [n for n in clear.not_applicable if MISSING in n.missing]


def test_a_named_red_flag_beside_a_found_screen_is_read_as_before():
    """A screen that found what the case records (a temperature of 38.5): the red flag is raised, NoRedFlag fails on
    it, and nothing asks which red flag was found."""
    [result] = reason(
        [
            {
                "id": "found-and-named",
                "age": 50,
                "symptoms": [{"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": 2}],
                "vitals": {"temperature_c": 38.5},
                "red_flag_screen": {"result": "found"},
            }
        ]
    )
    plan = result.plan
    assert "infection_suspected" in [f.id for f in plan.red_flags]
    assert not [w for w in plan.warnings if w.id == "red_flag_screen_found_unnamed"]
    assert not [n for n in plan.not_applicable if MISSING in n.missing]


def test_the_baselines_read_a_found_screen_as_spinekg_does():
    docs = _docs()
    reasoner = default_reasoner()
    want = [r.plan.to_dict() for r in reason(docs, reasoner)]
    for baseline in (PlainPython(reasoner), Owlready2Swrl(reasoner)):
        got = [p.to_dict() for batch in baseline.plans(docs) for p in batch]
        assert got == want, type(baseline).__name__
