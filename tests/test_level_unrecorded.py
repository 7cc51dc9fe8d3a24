"""A compressive imaging finding recorded without a level: which root it compresses depends on the level, so the
conditions that need a concordant compression are unknown rather than failed (rule
``infer-level-unknown-root-compression``, ``finding-present-level-unknown``; DESIGN.md: a missing fact is unknown, not
false). Found by a clinician's review (g2-05): left L5 sciatica and an MRI "left disc extrusion" with no level were
said to be "not explained", the epidural's FindingPresent(nerve_root_impingement) "does not hold", and nothing asked
for the level, although a left L4-L5 (paracentral) or L5-S1 (foraminal) extrusion compresses L5
(disc_level_roots.csv).

The vignette ``radicular-l5-pain-extrusion-level-unrecorded-48m`` holds the plan a clinician expects; these tests
hold the edges: a recorded level decides as before, which findings compress, which side, an earlier episode's study,
both engines and the plain-Python baseline.
"""

from __future__ import annotations

import copy

import pytest
from baselines_agree import plain_python_and_spinekg_plans

from reasoner.api import reason
from reasoner.case.validate import parse_case
from reasoner.reasoning.engine import Reasoner

SK = "https://w3id.org/spinekg/"
LEVEL = "imaging[].findings[].level"
UNKNOWN = "unknown: the level is not recorded"
NEEDS_COMPRESSION = ("rec_000_10", "rec_ext_nice_decompression_sciatica")  # epidural (000), decompression (NICE)

BASE = {
    "age": 48,
    "sex": "male",
    "symptoms": [{"type": "radicular_pain", "dermatomes": ["L5"], "laterality": "left", "duration_weeks": 8}],
    "imaging": [{"modality": "MRI", "weeks_ago": 1, "findings": [{"type": "disc_extrusion", "side": "left"}]}],
    "prior_treatments": [{"type": "conservative_care", "weeks": 7, "outcome": "failed"}],
    "candidate_for": ["injection", "surgery"],
}


def case(name: str, symptom: dict | None = None, finding: dict | None = None, **imaging) -> dict:
    doc = copy.deepcopy(BASE)
    doc["id"] = f"level-{name}"
    doc["symptoms"][0].update(symptom or {})
    doc["imaging"][0]["findings"][0].update(finding or {})
    doc["imaging"][0].update(imaging)
    return doc


CASES = {
    "unrecorded": case("unrecorded"),
    "l4-l5": case("l4-l5", finding={"level": "L4-L5"}),  # a level, no zone: traversing L5, as before
    "l2-l3": case("l2-l3", finding={"level": "L2-L3"}),  # a level that reaches no L5 root: not explained
    "foraminal-no-level": case("foraminal-no-level", finding={"zone": "foraminal"}),
    "severe-foraminal-stenosis": case("severe-foraminal-stenosis",
                                      finding={"type": "foraminal_stenosis", "severity": "severe"}),
    "mild-foraminal-stenosis": case("mild-foraminal-stenosis",
                                    finding={"type": "foraminal_stenosis", "severity": "mild"}),
    "bulge": case("bulge", finding={"type": "disc_bulge"}),
    "spondylosis": case("spondylosis", finding={"type": "spondylosis"}),
    "other-side": case("other-side", finding={"side": "right"}),
    "both-sides": case("both-sides", symptom={"laterality": "bilateral"}),
    "earlier-episode": case("earlier-episode", weeks_ago=100),
}  # fmt: skip
#: beside the level-less extrusion, a concordant one at L4-L5: the compression holds
CASES["and-a-concordant-level"] = case("and-a-concordant-level")
CASES["and-a-concordant-level"]["imaging"][0]["findings"].append(
    {"type": "disc_protrusion", "level": "L4-L5", "side": "left"}
)


@pytest.fixture(scope="module", params=["python", "oxigraph"])
def plans(request) -> dict[str, dict]:
    docs = list(CASES.values())
    results = reason([parse_case(d) for d in docs], Reasoner(engine=request.param))
    return {name: r.plan.to_dict() for name, r in zip(CASES, results, strict=True)}


def status(plan: dict, dermatome: str) -> str | None:
    return next((row["status"] for row in plan["concordance"] if row["dermatome"] == dermatome), None)


def why_not(plan: dict, rec: str) -> dict | None:
    return next((n for n in plan["not_applicable"] if n["recommendation"] == SK + rec), None)


def warned(plan: dict) -> list[dict]:
    return [w for w in plan["warnings"] if w["id"] == "level_not_recorded"]


def steps(plan: dict) -> set[str]:
    return {s["id"] for s in plan["steps"]}


def test_without_a_level_the_root_is_unknown_not_unexplained(plans):
    plan = plans["unrecorded"]
    assert status(plan, "L5") == UNKNOWN
    [row] = [row for row in plan["concordance"] if row["dermatome"] == "L5"]
    assert [(e["finding"], e["type"], e["level"], e["root"]) for e in row["explained_by"]] == [
        ("imaging[0].findings[0]", "disc_extrusion", "level not recorded", "L5")
    ]
    assert "the level on the imaging report decides" in row["explained_by"][0]["via"]
    for rec in NEEDS_COMPRESSION:
        assert why_not(plan, rec)["status"] == "unknown", why_not(plan, rec)
        assert list(why_not(plan, rec)["missing"]) == [LEVEL]
    [w] = warned(plan)
    assert list(w["subjects"]) == ["imaging[0].findings[0]", "imaging[0].findings[0].level"]
    assert "records no level" in w["message"] and "it would reach the L5 root" in w["message"]
    missing = [w for w in plan["warnings"] if w["id"] == "missing_fact" and w["subjects"][0] == LEVEL]
    assert missing and set(missing[0]["subjects"][1:]) >= set(NEEDS_COMPRESSION)
    assert not [w for w in plan["warnings"] if w["id"] == "zone_not_recorded"]
    # no compression is claimed: no step rests on one
    assert not steps(plan) & {"epidural_steroid_injection", "decompression_surgery"}


def test_the_possible_compression_is_no_inferred_compression():
    [result] = reason([parse_case(CASES["unrecorded"])])
    types = result.run.fact_types[result.run.case + "/imaging/0/finding/0"]
    assert SK + "level_unknown_root_compression" in types
    assert SK + "nerve_root_compression" not in types and SK + "nerve_root_impingement" not in types


def test_a_recorded_level_decides_as_before(plans):
    assert status(plans["l4-l5"], "L5") == "explained"
    assert {"epidural_steroid_injection", "decompression_surgery"} <= steps(plans["l4-l5"])
    assert status(plans["l2-l3"], "L5") == "not explained"
    assert why_not(plans["l2-l3"], "rec_ext_nice_decompression_sciatica")["status"] == "fails"
    for name in ("l4-l5", "l2-l3"):
        assert not warned(plans[name])
        assert not [n for n in plans[name]["not_applicable"] if LEVEL in n["missing"]]


def test_a_zone_without_a_level_and_a_compressing_stenosis_are_unknown_too(plans):
    for name in ("foraminal-no-level", "severe-foraminal-stenosis"):
        assert status(plans[name], "L5") == UNKNOWN, name
        assert list(why_not(plans[name], "rec_000_10")["missing"]) == [LEVEL]
        assert warned(plans[name])


def test_findings_that_compress_no_root_keep_their_meaning(plans):
    for name in ("mild-foraminal-stenosis", "bulge", "spondylosis"):
        assert status(plans[name], "L5") == "not explained", name
        assert not warned(plans[name])
        assert why_not(plans[name], "rec_000_10")["status"] == "fails"


def test_a_finding_on_the_other_side_is_not_explained(plans):
    plan = plans["other-side"]
    assert status(plan, "L5") == "not explained"
    assert not warned(plan)
    assert why_not(plan, "rec_ext_nice_decompression_sciatica")["status"] == "fails"


def test_bilateral_symptoms_are_unknown_on_the_finding_side_only(plans):
    assert status(plans["both-sides"], "L5") == f"not explained (right side), otherwise {UNKNOWN}"


def test_an_earlier_episodes_study_makes_no_possible_compression(plans):
    plan = plans["earlier-episode"]
    assert status(plan, "L5") == "not explained" and not warned(plan)


def test_a_concordant_finding_at_a_level_decides(plans):
    plan = plans["and-a-concordant-level"]
    assert status(plan, "L5") == "explained"
    assert {"epidural_steroid_injection", "decompression_surgery"} <= steps(plan)
    assert why_not(plan, "rec_000_10") is None


def test_plain_python_gives_the_same_plans():
    got, want = plain_python_and_spinekg_plans(list(CASES.values()))
    assert got == want
