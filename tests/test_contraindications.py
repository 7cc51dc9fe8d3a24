"""A contraindication the clinician records (``risk_factors: [nsaid_contraindication]``, ``sk:contraindicates`` in the
KB; ``reasoner/plan/contraindications.py``): what it holds out of the plan, how the plan says so, and what follows.

The acceptance vignettes (``tests/acceptance/*nsaid-contraindicated*``) hold the patients; these test the why-not,
the warnings' words and the invariants (a caution is not a contraindication; a failed NSAID and a contraindicated one
leave the same analgesia).
"""

from __future__ import annotations

from reasoner.api import reason
from reasoner.case.model import vocabulary
from reasoner.consts import SK
from reasoner.reasoning.engine import Reasoner

from constants import ROOT


def _chronic_sciatica(case_id: str, **extra) -> dict:
    return {
        "id": case_id,
        "age": 62,
        "symptoms": [{"type": "radicular_pain", "dermatomes": ["L5"], "laterality": "left", "duration_weeks": 16}],
        "prior_treatments": [{"type": "physical_therapy", "weeks": 8, "outcome": "unchanged"}],
        **extra,
    }


def _acute_back_pain(case_id: str, **extra) -> dict:
    return {
        "id": case_id,
        "age": 45,
        "symptoms": [{"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": 1, "severity": "severe"}],
        "prior_treatments": [],
        **extra,
    }


def test_contraindicated_nsaid_is_not_offered_and_the_drug_treatment_above_it_stays():
    back_and_leg = [  # ACP 2017's drug treatment is for low back pain: a sciatica with back pain
        {"type": "radicular_pain", "dermatomes": ["L5"], "laterality": "left", "duration_weeks": 16},
        {"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": 16},
    ]
    [result] = reason(
        [_chronic_sciatica("ci", symptoms=back_and_leg, risk_factors=["renal_impairment", "nsaid_contraindication"])]
    )
    plan = result.plan
    assert not [s for s in plan.steps if s.stance != "avoid" and s.id == "nsaid"]
    why = {p.recommendation.rsplit("/", 1)[-1]: p for p in plan.preempted}
    assert why["rec_ext_nice_nsaid"].status == "contraindicated"
    assert why["rec_ext_nice_nsaid"].why == ("contraindicated (risk_factors[1]: NSAIDs contraindicated): not offered",)
    # ACP's "consider drug treatment" names no drug: other drugs stay under it, so it stands (review R11, defect 5)
    assert "rec_ext_acp_pharmacological_chronic" not in why
    [drugs] = [s for s in plan.steps if s.id == "pain_management" and s.stance == "consider"]
    assert any(r.endswith("rec_ext_acp_pharmacological_chronic") for r in drugs.recommendations)
    [w] = [w for w in plan.warnings if w.id == "contraindication_recorded"]
    assert w.subjects[:3] == ("risk_factors[1]", "nsaid_contraindication", "nsaid")
    assert "rec_ext_nice_nsaid" in w.subjects and "rec_ext_acp_pharmacological_chronic" not in w.subjects
    assert not [w for w in plan.warnings if w.id == "no_pain_relief_left"]
    # nothing is given with NICE's caution beside it: the step it would stand beside is not in the plan
    assert not [w for w in plan.warnings if w.id == "caution_recorded"]


def test_a_caution_alone_is_not_a_contraindication():
    [result] = reason([_acute_back_pain("caution", risk_factors=["renal_impairment"])])
    plan = result.plan
    assert [s for s in plan.steps if s.id == "nsaid" and s.stance in ("do", "consider")]
    assert [s for s in plan.steps if s.id == "opioid" and s.stance == "avoid"]  # no routine opioids
    assert not [s for s in plan.steps if s.id == "weak_opioid"]
    assert not [p for p in plan.preempted if p.status == "contraindicated"]
    assert not [w for w in plan.warnings if w.id == "contraindication_recorded"]


def test_contraindicated_nsaid_gives_the_weak_opioid_a_failed_one_gives_on_the_same_sentence():
    contra, failed = (
        r.plan
        for r in reason(
            [
                _acute_back_pain("contra", risk_factors=["nsaid_contraindication"]),
                _acute_back_pain("failed", prior_treatments=[{"type": "nsaid", "weeks": 1, "outcome": "failed"}]),
            ]
        )
    )
    [a] = [s for s in contra.steps if s.id == "weak_opioid"]
    [b] = [s for s in failed.steps if s.id == "weak_opioid"]
    assert (a.stance, a.phase) == (b.stance, b.phase) == ("consider", "now")
    assert [e.quote for e in a.evidence] == [e.quote for e in b.evidence]
    assert a.recommendations == (str(SK.rec_ext_nice_weak_opioid_nsaid_contraindicated),)
    for plan in (contra, failed):  # NICE's "do not routinely offer opioids" stands down beside it, both ways
        assert not [s for s in plan.steps if s.id == "opioid" and s.stance == "avoid"]
        assert not [s for s in plan.steps if s.id == "nsaid" and s.stance != "avoid"]


def test_every_contraindication_is_a_case_risk_factor_without_a_code():
    """What ``sk:contraindicates`` is put on is a term a case records among its risk factors, and it names an
    intervention; the new term carries no code (../shared/reference/codes.csv has none for it: none is invented)."""
    r = Reasoner()
    found = list(r.kb.subject_objects(SK.contraindicates))
    assert (SK.nsaid_contraindication, SK.nsaid) in found
    for finding, interv in found:
        assert r.index.is_a(str(finding), str(SK.RiskFactor)) and r.index.is_a(str(interv), str(SK.Intervention))
        assert r.index.notation(str(finding)) in vocabulary().risk_factors
    mapped = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "ontology" / "mappings").glob("*.sssom.tsv"))
    assert "nsaid_contraindication" not in mapped
