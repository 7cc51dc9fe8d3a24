"""A recommendation to *consider* what a step already says to do in the same phase is covered by that step, and its
sentences stay with the step, under its own id: NICE NG59's caution on NSAIDs ("taking into account … risk factors
including age") is read beside the article's "NSAIDs".

Found by a clinician's review: a 90-year-old's "DO NSAIDs" showed only article 003's "Pain control with NSAIDs
and/or acetaminophen"; NICE's wording was named ("also recommended by: rec_ext_nice_nsaid") but not shown.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
import yaml

from reasoner.api import default_reasoner, reason
from reasoner.kb.index import local
from reasoner.plan.compact import compact, expand, kb_part
from reasoner.present.text import explain, text

EXAMPLE = Path(__file__).parents[1] / "examples" / "002-lumbosacral-radiculopathy.yaml"


@pytest.fixture(scope="module")
def plan():
    return reason([EXAMPLE])[0].plan


def _nsaid(plan):
    return next(s for s in plan.steps if s.id == "nsaid" and s.stance == "do")


def test_a_covered_consider_keeps_its_sentences_under_its_own_id(plan):
    step = _nsaid(plan)
    covered = {local(r) for r in step.covers}
    assert "rec_ext_nice_nsaid" in covered
    nice = [e for e in step.evidence if e.recommendation == "rec_ext_nice_nsaid"]
    assert nice and "risk factors including age" in nice[0].quote
    # the step's own recommendations' sentences come first, the covered ones after
    owner = {local(r) for r in step.recommendations}
    seen = [e.recommendation in owner for e in step.evidence]
    assert seen == sorted(seen, reverse=True)
    note = text(plan)
    assert "rec_ext_nice_nsaid (covered by this step):" in note
    assert "risk factors including age" in note.split("rec_ext_nice_nsaid (covered by this step):")[1].split("\n  ")[1]
    assert "its sentences, below, are kept with this step's" in explain(plan, step.number)


def test_an_urgent_red_flag_step_does_not_take_the_sentences_of_what_it_covers():
    plan = reason([EXAMPLE.parent / "000-gluteal-s2-s3-numbness.yaml"])[0].plan
    mri = plan.steps[0]
    assert "rec_000_01" in [local(r) for r in mri.covers]
    assert {e.recommendation for e in mri.evidence} <= {local(r) for r in mri.recommendations}


def test_the_compact_line_brings_the_covered_sentences_back(plan):
    part = kb_part(default_reasoner())
    line = orjson.loads(orjson.dumps(compact(plan, part)))  # as written and read back
    assert [s.get("backed") for s in line["steps"] if s["id"] == "nsaid" and s["stance"] == "do"] == [
        ["rec_ext_nice_nsaid"]
    ]
    assert expand(line, part) == json.loads(plan.to_json())


def test_a_study_a_step_includes_is_covered_by_it_and_keeps_its_sentences():
    """After lumbar surgery with no current scan, ACR variant 5's MRI without and with contrast and ACR variant 3's
    MRI without contrast (a surgery candidate) are one study (``sk:includes``): one MRI step, which covers
    rec_ext_acr_mri_surgery_candidate and keeps its sentence under its own id, and stands where the MRI due now stood
    (found by a clinician's review: two MRI orders in one plan). Article 000's MRI (rec_000_01) was the included
    study here until "multilevel" came to mean two levels or more (review J3): one bulge is not multilevel."""
    vignette = (
        Path(__file__).parent / "acceptance" / "post-discectomy-new-level-s1-no-current-mri-one-mri-order-50f.yaml"
    )
    plan = reason([yaml.safe_load(vignette.read_text())["case"] | {"id": vignette.stem}])[0].plan
    mri = [s for s in plan.steps if s.id.startswith("mri_lumbar_spine")]
    assert [s.id for s in mri] == ["mri_lumbar_spine_with_and_without_contrast"]
    included = "rec_ext_acr_mri_surgery_candidate"
    assert {included, "rec_002_19"} <= {local(r) for r in mri[0].covers}
    assert any("Variant 3" in e.quote for e in mri[0].evidence if e.recommendation == included)
    assert f"{included} (covered by this step):" in text(plan)
    why = next(n for n in plan.preempted if local(n.recommendation) == included)
    assert why.status == "covered" and "includes MRI lumbar spine without contrast" in why.why[0]
    ids = [s.id for s in plan.steps]
    # where the MRI due now stood: first after the screen, before the specialist's opinion it informs (a candidate
    # for surgery only gets no injection referral, rec_000_15)
    assert ids[:2] == ["red_flag_screening", "mri_lumbar_spine_with_and_without_contrast"]
    assert "spine_specialist_referral" in ids and "interventional_pain_referral" not in ids
