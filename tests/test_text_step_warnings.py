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
    # shown to consider in pregnancy (warning may_be_unsuitable; its JSON stance stays do: review R18 #2)
    assert "DO NSAIDs" not in plain
    nsaid = step_block(plain, "CONSIDER NSAIDs")
    assert any("read with the warnings:" in line and "judgement_caution" in line for line in nsaid)
    assert any("may_be_unsuitable" in line for line in nsaid)
    epidural = step_block(plain, "CONSIDER epidural steroid injection")
    # with NICE's step reading on the epidural (given in a specialist setting: refer now for it; review R18 #4)
    assert any("read with the warnings:" in line and "judgement_caution" in line for line in epidural)


def test_no_finding_to_weigh_no_line():
    # a sciatica not severe: no epidural, whose step reading (review R18 #4) is shown on the step in every plan
    plain = text(recommend({"id": "t", "age": 32, "symptoms": [{**SCIATICA, "severity": "moderate"}]}))
    assert "read with the warning" not in plain


def test_a_sentence_two_recommendations_rest_on_is_printed_once_on_the_step():
    """Chronic S1 sciatica, physiotherapy and an NSAID failed, a candidate for injection and surgery (review R7,
    r7-04): ACR variant 3's MRI rests on the same sentence for the injection and the surgery candidate; the step
    prints it once, under both recommendations, and article 002's covered sentences once too."""
    case = {
        "id": "t",
        "age": 48,
        "symptoms": [{**SCIATICA, "duration_weeks": 20}],
        "prior_treatments": [
            {"type": "physical_therapy", "weeks": 10, "outcome": "failed"},
            {"type": "nsaid", "weeks": 12, "outcome": "failed"},
        ],
        "candidate_for": ["injection", "surgery"],
    }
    plan = recommend(case)
    [mri] = [s for s in plan.steps if s.id == "mri_lumbar_spine_without_contrast"]
    said = [e.quote for e in mri.evidence]
    assert len(said) > len(set(said))  # the plan's JSON keeps each recommendation's sentences: some repeat
    lines = text(plan).splitlines()
    start = next(i for i, line in enumerate(lines) if f"{mri.number}. DO MRI lumbar spine without contrast" in line)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].strip()[:1].isdigit() or not lines[i].strip())
    block = lines[start:end]
    quoted = [line.strip() for line in block if line.strip().startswith("“")]
    assert quoted and len(quoted) == len(set(quoted))
    assert any(
        "rec_ext_acr_mri_injection_candidate" in line and "rec_ext_acr_mri_surgery_candidate" in line for line in block
    )
