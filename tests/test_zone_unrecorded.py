"""A disc herniation whose zone is not recorded: the traversing root is its likely reach, the exiting root a possible
one (rule ``infer-possible-root-compression``), unknown rather than "not explained" (DESIGN.md: a missing fact is
unknown, not false). Found by a clinician's review: a right L4-L5 protrusion with no zone and L4 pain was said not
to explain the L4 pain, although an L4-L5 foraminal or far-lateral protrusion compresses L4 (disc_level_roots.csv).

The vignettes ``radicular-l4-pain-l4l5-protrusion-zone-{unrecorded,paracentral,foraminal}-52m`` hold the plan a
clinician expects; these tests hold the edges: which side, which roots, an earlier episode's study, both engines and
the plain-Python baseline.
"""

from __future__ import annotations

import copy

import pytest
from baselines_agree import plain_python_and_spinekg_plans

from reasoner.api import reason
from reasoner.case.validate import parse_case
from reasoner.reasoning.engine import Reasoner

SK = "https://w3id.org/spinekg/"
ZONE = "imaging[].findings[].zone"
UNKNOWN = "unknown: the zone is not recorded"
NEEDS_COMPRESSION = ("rec_000_10", "rec_ext_nice_decompression_sciatica")  # epidural (000), decompression (NICE)

BASE = {
    "age": 52,
    "sex": "male",
    "symptoms": [{"type": "radicular_pain", "dermatomes": ["L4"], "laterality": "right", "duration_weeks": 9}],
    "imaging": [
        {
            "modality": "MRI",
            "weeks_ago": 0,
            "findings": [{"type": "disc_protrusion", "level": "L4-L5", "side": "right"}],
        }
    ],
    "prior_treatments": [{"type": "conservative_care", "weeks": 8, "outcome": "failed"}],
    "candidate_for": ["injection", "surgery"],
}


def case(name: str, symptom: dict | None = None, finding: dict | None = None, **imaging) -> dict:
    doc = copy.deepcopy(BASE)
    doc["id"] = f"zone-{name}"
    doc["symptoms"][0].update(symptom or {})
    doc["imaging"][0]["findings"][0].update(finding or {})
    doc["imaging"][0].update(imaging)
    return doc


CASES = {
    "unrecorded": case("unrecorded"),
    "paracentral": case("paracentral", finding={"zone": "paracentral"}),
    "foraminal": case("foraminal", finding={"zone": "foraminal"}),
    "other-side": case("other-side", symptom={"laterality": "left"}),
    "both-sides": case("both-sides", symptom={"laterality": "bilateral"}),
    "earlier-episode": case("earlier-episode", weeks_ago=100),
    "l5-s1-extrusion": case("l5-s1-extrusion", symptom={"dermatomes": ["L5"]}, finding={"type": "disc_extrusion",
                                                                                           "level": "L5-S1"}),
}  # fmt: skip


@pytest.fixture(scope="module", params=["python", "oxigraph"])
def plans(request) -> dict[str, dict]:
    docs = list(CASES.values())
    results = reason([parse_case(d) for d in docs], Reasoner(engine=request.param))
    return {name: r.plan.to_dict() for name, r in zip(CASES, results, strict=True)}


def status(plan: dict, dermatome: str) -> str | None:
    return next((row["status"] for row in plan["concordance"] if row["dermatome"] == dermatome), None)


def why_not(plan: dict, rec: str) -> dict:
    return next(n for n in plan["not_applicable"] if n["recommendation"] == SK + rec)


def warned(plan: dict) -> list[dict]:
    return [w for w in plan["warnings"] if w["id"] == "zone_not_recorded"]


def test_without_a_zone_the_exiting_root_is_unknown_not_unexplained(plans):
    plan = plans["unrecorded"]
    assert status(plan, "L4") == UNKNOWN
    [row] = [row for row in plan["concordance"] if row["dermatome"] == "L4"]
    assert [(e["finding"], e["type"], e["root"]) for e in row["explained_by"]] == [
        ("imaging[0].findings[0]", "disc_herniation", "L4")
    ]
    assert "the zone on the imaging report decides" in row["explained_by"][0]["via"]
    for rec in NEEDS_COMPRESSION:
        assert why_not(plan, rec)["status"] == "unknown"
        assert list(why_not(plan, rec)["missing"]) == [ZONE]
    [w] = warned(plan)
    assert list(w["subjects"]) == ["imaging[0].findings[0]", "imaging[0].findings[0].zone"]
    assert "it reaches the L5 root" in w["message"] and "it would reach the L4 root" in w["message"]
    # no compression is claimed: no step rests on one
    assert not {s["id"] for s in plan["steps"]} & {"epidural_steroid_injection", "decompression_surgery"}


def test_the_possible_compression_is_no_inferred_compression():
    [result] = reason([parse_case(CASES["unrecorded"])])
    types = result.run.fact_types[result.run.case + "/imaging/0/finding/0"]
    assert SK + "possible_root_compression" in types
    assert SK + "nerve_root_compression" not in types and SK + "nerve_root_impingement" not in types


def test_a_recorded_zone_decides_as_before(plans):
    assert status(plans["paracentral"], "L4") == "not explained"
    assert status(plans["foraminal"], "L4") == "explained"
    for name in ("paracentral", "foraminal"):
        assert not warned(plans[name])
        assert not [n for n in plans[name]["not_applicable"] if ZONE in n["missing"]]
    assert why_not(plans["paracentral"], "rec_ext_nice_decompression_sciatica")["status"] == "fails"
    assert "decompression_surgery" in {s["id"] for s in plans["foraminal"]["steps"]}


def test_a_symptom_on_the_other_side_is_not_explained(plans):
    plan = plans["other-side"]
    assert status(plan, "L4") == "not explained"
    assert not warned(plan)
    assert why_not(plan, "rec_ext_nice_decompression_sciatica")["status"] == "fails"


def test_bilateral_symptoms_are_unknown_on_the_finding_side_only(plans):
    assert status(plans["both-sides"], "L4") == f"not explained (left side), otherwise {UNKNOWN}"


def test_an_earlier_episodes_study_makes_no_possible_compression(plans):
    plan = plans["earlier-episode"]
    assert status(plan, "L4") == "not explained" and not warned(plan)


def test_the_exiting_root_at_l5_s1_too(plans):
    plan = plans["l5-s1-extrusion"]
    assert status(plan, "L5") == UNKNOWN
    assert "it would reach the L5 root" in warned(plan)[0]["message"]


def test_plain_python_gives_the_same_plans():
    got, want = plain_python_and_spinekg_plans(list(CASES.values()))
    assert got == want
