"""A recorded MRI contraindication: the MRI steps the sources replace give way to the CT they name, and the CT is not
advised against, not even among the care a red flag defers (the acceptance format checks only the standing steps)."""

from __future__ import annotations

import pytest

CES = {
    "id": "ces-pacemaker",
    "age": 72,
    "sex": "male",
    "symptoms": [
        {"type": "radicular_pain", "dermatomes": ["L5"], "laterality": "left", "duration_weeks": 3},
        {"type": "urinary_retention", "duration_weeks": 0.1},
        {"type": "numbness", "body_regions": ["perineum"], "laterality": "bilateral", "duration_weeks": 0.1},
    ],
}
_CT = {"ct_lumbar_spine", "ct_myelography"}


def _plan(case):
    from reasoner.api import reason
    from reasoner.case.validate import parse_case

    return reason([parse_case(case, source="test")])[0].plan


@pytest.mark.parametrize("contraindicated", [True, False])
def test_ct_not_advised_against_even_deferred_where_mri_is_contraindicated(contraindicated):
    case = dict(CES, symptoms=[*CES["symptoms"], *([{"type": "mri_contraindication"}] if contraindicated else [])])
    plan = _plan(case)
    avoided = {s.id for s in (*plan.steps, *plan.deferred) if s.stance == "avoid"} & _CT
    imaging = {(s.id, s.phase) for s in plan.steps if s.stance == "do" and s.phase == "emergency"}
    if contraindicated:
        assert not avoided, avoided
        assert ("ct_lumbar_spine", "emergency") in imaging and ("mri_lumbar_spine", "emergency") not in imaging
    else:  # article 002's "no role in initial evaluation" still waits among the deferred care, the MRI stands
        assert avoided == _CT
        assert ("mri_lumbar_spine", "emergency") in imaging and ("ct_lumbar_spine", "emergency") not in imaging
