"""A central canal stenosis reaches every root below it, sacral roots included (DESIGN.md; disc_level_roots.csv),
whatever zone the report gives it: a zone narrows a disc lesion's reach, not the canal's. Found by a clinician's
read of a new patient: an L3-L4 central stenosis with bilateral claudication explained L4 alone."""

from __future__ import annotations

import pytest

from reasoner.api import reason
from reasoner.case.validate import parse_case
from reasoner.reasoning.engine import Reasoner

CASE = {
    "id": "central-stenosis-l3-l4",
    "age": 70,
    "symptoms": [
        {"type": "neurogenic_claudication", "body_regions": ["buttock", "both_legs"], "laterality": "bilateral",
         "duration_weeks": 14},
        {"type": "radicular_pain", "dermatomes": ["S1"], "laterality": "left", "duration_weeks": 14},
    ],
    "imaging": [{"modality": "MRI", "weeks_ago": 1,
                 "findings": [{"type": "canal_stenosis", "level": "L3-L4", "zone": "central", "severity": "severe"}]}],
}  # fmt: skip


@pytest.mark.parametrize("engine", ["python", "oxigraph"])
@pytest.mark.parametrize("zone", ["central", None])
def test_a_central_canal_stenosis_explains_every_root_below_it(engine, zone):
    case = {**CASE, "imaging": [{**CASE["imaging"][0], "findings": [dict(CASE["imaging"][0]["findings"][0])]}]}
    if zone is None:
        del case["imaging"][0]["findings"][0]["zone"]
    plan = reason([parse_case(case)], Reasoner(engine=engine))[0].plan.to_dict()
    explained = {row["dermatome"] for row in plan["concordance"] if row["status"] == "explained"}
    assert {"L4", "L5", "S1", "S2", "S3"} <= explained
    assert not explained & {"L1", "L2", "L3"}
    # the S1 sciatica is concordant: the stenosis is a compression of the S1 root (a moderate or severe stenosis)
    by_root = {(e["root"], e["via"]) for row in plan["concordance"] for e in row["explained_by"]}
    assert ("S1", "central canal") in by_root
