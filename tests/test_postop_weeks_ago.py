"""When a prior treatment was done (``prior_treatments[].weeks_ago``), and what it tells after a lumbar operation that
helped (review J1, j1-22 to j1-24): a symptom that began before the operation and is not progressing is residual, not
ACR variant 5's new or progressing symptoms, and the operation is not offered again as if never done; one that began
after it is new (rule derive-new-or-progressing-after-lumbar-surgery; plan assembly's ``already_done``)."""

from __future__ import annotations

import json

import pytest

from reasoner.api import recommend
from reasoner.case.fromgraph import graph_document
from reasoner.case.model import CaseError, vocabulary
from reasoner.case.validate import case_graph, parse_case
from reasoner.consts import SK
from reasoner.fhir.case import bundle_from_case
from reasoner.fhir.read import case_from_bundle

CONTRAST_MRI = "mri_lumbar_spine_with_and_without_contrast"
DECOMPRESSION = "rec_ext_nice_decompression_sciatica"


def after_discectomy(leg_weeks: float = 16, weeks_ago: float | None = 2, outcome: str = "improved", **extra) -> dict:
    """Left S1 sciatica treated by a microdiscectomy; concordant extrusion; failed non-surgical care."""
    operation: dict = {"type": "decompression_surgery", "outcome": outcome}
    if weeks_ago is not None:
        operation["weeks_ago"] = weeks_ago
    return {
        "id": "after-discectomy",
        "age": 42,
        "sex": "female",
        "symptoms": [
            {
                "type": "radicular_pain",
                "dermatomes": ["S1"],
                "laterality": "left",
                "duration_weeks": leg_weeks,
                "severity": "mild",
                **extra,
            },
            {"type": "weakness", "present": False},
        ],
        "imaging": [
            {
                "modality": "MRI",
                "contrast": False,
                "weeks_ago": 1,
                "findings": [
                    {
                        "type": "disc_extrusion",
                        "level": "L5-S1",
                        "zone": "paracentral",
                        "side": "left",
                        "severity": "severe",
                    },
                ],
            }
        ],
        "prior_treatments": [{"type": "physical_therapy", "weeks": 8, "outcome": "failed"}, operation],
        "red_flag_screen": {"result": "none_found"},
    }


def steps(plan) -> set[tuple[str, str]]:
    return {(s.id, s.stance) for s in plan.steps}


def status(plan, rec: str) -> str | None:
    return next((n.status for n in plan.preempted if n.recommendation.endswith("/" + rec)), None)


def test_residual_sciatica_two_weeks_after_an_operation_that_helped_is_not_acr_variant_5():
    plan = recommend(after_discectomy())
    assert (CONTRAST_MRI, "do") not in steps(plan)
    assert "conflict_ext_imaging_after_lumbar_surgery" not in {c.id for c in plan.conflicts}


def test_the_operation_that_helped_is_not_offered_again_and_the_why_not_says_why():
    plan = recommend(after_discectomy())
    assert not {i for i, stance in steps(plan) if stance in ("do", "consider")} & {
        "decompression_surgery",
        "spine_surgery",
    }
    assert status(plan, DECOMPRESSION) == "already_done"
    (why,) = next(n.why for n in plan.preempted if n.recommendation.endswith("/" + DECOMPRESSION))
    assert "prior_treatments[1]" in why and "2 weeks ago" in why and "residual" in why


@pytest.mark.parametrize("leg_weeks", [1, 1.5])
def test_a_symptom_shorter_than_the_weeks_since_the_operation_is_new_after_it(leg_weeks):
    plan = recommend(after_discectomy(leg_weeks=leg_weeks))
    assert (CONTRAST_MRI, "do") in steps(plan)
    assert ("decompression_surgery", "consider") in steps(plan)  # a recurrence: NICE's decompression may stand


def test_a_symptom_as_long_as_the_weeks_since_began_with_the_operation_residual():
    assert (CONTRAST_MRI, "do") not in steps(recommend(after_discectomy(leg_weeks=2)))


@pytest.mark.parametrize(
    "change",
    [
        {"weeks_ago": None},  # when it was done not recorded: every symptom after it is new (the safe reading)
        {"progressive": True},  # a residual symptom getting worse is progressing
        {"outcome": "worse"},  # left worse: progressing, whenever it was done
    ],
    ids=["weeks-ago-not-recorded", "progressive", "worse"],
)
def test_the_safe_readings_keep_acr_variant_5(change):
    plan = recommend(after_discectomy(**change))
    assert (CONTRAST_MRI, "do") in steps(plan)
    if change.get("outcome") == "worse":  # an operation that left the patient worse failed: already tried
        assert status(plan, DECOMPRESSION) == "already_tried"
    else:
        assert ("decompression_surgery", "consider") in steps(plan)


def test_a_partial_improvement_helped_too():
    plan = recommend(after_discectomy(outcome="partial_improvement"))
    assert (CONTRAST_MRI, "do") not in steps(plan)
    assert status(plan, DECOMPRESSION) == "already_done"


def test_weeks_ago_is_checked_like_every_number_of_weeks():
    doc = after_discectomy()
    doc["prior_treatments"][1]["weeks_ago"] = 43 * 53
    with pytest.raises(CaseError) as err:
        parse_case(doc)
    assert [p.path for p in err.value.problems] == ["prior_treatments[1].weeks_ago"]
    doc["prior_treatments"][1]["weeks_ago"] = -1
    with pytest.raises(CaseError) as err:
        parse_case(doc)
    assert [p.path for p in err.value.problems] == ["prior_treatments[1].weeks_ago"]


def test_weeks_ago_is_in_the_case_graph_and_read_back_from_it():
    doc = after_discectomy()
    g = case_graph(parse_case(doc))
    assert [float(v) for v in g.objects(None, SK.treatmentWeeksAgo)] == [2.0]
    back, problems = graph_document(g, vocabulary())
    assert problems == []
    assert back is not None and back["prior_treatments"] == doc["prior_treatments"]


def test_weeks_ago_round_trips_through_a_fhir_bundle():
    doc = after_discectomy()
    doc["prior_treatments"][0]["weeks_ago"] = 3
    bundle = json.loads(json.dumps(bundle_from_case(doc, as_of="2025-06-30T12:00:00Z")))
    procedures = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Procedure"]
    assert procedures[0]["performedPeriod"] == {"start": "2025-04-14", "end": "2025-06-09"}
    assert procedures[1]["performedDateTime"] == "2025-06-16"
    assert case_from_bundle(bundle)["prior_treatments"] == doc["prior_treatments"]
