"""The text plan shows, on a step, the warnings that name it beside a finding of the patient
(``reasoner.present.text.STEP_WARNINGS``): a clinician acts on the step, not on the list at the top (review R4,
r4-07: "DO NSAIDs" at 24 weeks of pregnancy)."""

from __future__ import annotations

from reasoner.api import recommend
from reasoner.present.text import text

SCIATICA = {
    "type": "radicular_pain",
    "dermatomes": ["S1"],
    "laterality": "left",
    "duration_weeks": 3,
    "severity": "severe",
}


def step_block(plain: str, head: str) -> list[str]:
    lines = plain.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().endswith(head) and ". " in line)
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("       ") and line.strip()[:1].isdigit():
            break
        block.append(line)
    return block


def test_a_caution_is_shown_on_the_step_it_names():
    plain = text(recommend({"id": "t", "age": 32, "symptoms": [SCIATICA], "risk_factors": ["pregnancy"]}))
    nsaid = step_block(plain, "DO NSAIDs")
    assert any("read with the warnings:" in line and "judgement_caution" in line for line in nsaid)
    epidural = step_block(plain, "CONSIDER epidural steroid injection")
    assert any("read with the warning: judgement_caution" in line for line in epidural)


def test_no_finding_to_weigh_no_line():
    plain = text(recommend({"id": "t", "age": 32, "symptoms": [SCIATICA]}))
    assert "read with the warning" not in plain
