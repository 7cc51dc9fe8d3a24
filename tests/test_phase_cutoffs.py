"""``phase_cutoffs_differ`` is said where the sources' cut-offs differ for this case: 4 to under 6 weeks (ACP 2017's
subacute, spinekg's acute), or a sciatica dated apart (clinician's review R5: the warning stood on most plans)."""

from __future__ import annotations

import pytest

from reasoner.api import recommend


def said(weeks: float) -> bool:
    pain = {"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": weeks}
    return any(w.id == "phase_cutoffs_differ" for w in recommend({"id": "p", "symptoms": [pain]}).warnings)


@pytest.mark.parametrize(("weeks", "expected"), [(2, False), (4, True), (5.5, True), (6, False), (20, False)])
def test_said_only_where_the_cut_offs_differ(weeks, expected):
    assert said(weeks) is expected
