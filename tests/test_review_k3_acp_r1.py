"""Review K3: ACP 2017 Recommendation 1's non-drug options for acute or subacute low back pain, their conflicts with
NICE NG59, and what a plan may say of systemic steroids.

- A conflict names a guideline as a side only with a sentence from it (``prov:wasDerivedFrom`` an evidence statement
  whose primary source is that guideline): the reference notes' summary of ACP 2017 ("systemic steroids are not
  recommended, even with radicular symptoms") is no row of the statement table, so no conflict or resolution may
  claim it.
- ACP 2017 Recommendation 1 (massage, acupuncture, spinal manipulation) is a side of its own in the acupuncture and
  manual-therapy conflicts, not only Recommendation 2's chronic options.
"""

from __future__ import annotations

import pytest

from reasoner.api import reason
from reasoner.consts import PROV, RDF, SK
from reasoner.kb.index import local

R1 = SK.ev_gs_acp2017_r1_acute_subacute_nonpharm


@pytest.mark.parametrize(
    "name",
    ["conflict_ext_acupuncture", "conflict_ext_manual_therapy_without_exercise", "conflict_systemic_corticosteroids"],
)
def test_a_conflict_names_a_guideline_only_with_a_sentence_from_it(kb_graph, name):
    conflict = SK[name]
    evidence = set(kb_graph.objects(conflict, PROV.wasDerivedFrom))
    for member in kb_graph.objects(conflict, SK.conflictMember):
        if (member, RDF.type, SK.Recommendation) in kb_graph:
            continue  # a recommendation carries its own sentences
        assert any((e, PROV.hadPrimarySource, member) in kb_graph for e in evidence), (name, local(member))


@pytest.mark.parametrize("name", ["conflict_ext_acupuncture", "conflict_ext_manual_therapy_without_exercise"])
def test_acp_recommendation_1_is_a_side_of_the_conflict(kb_graph, name):
    sides = [
        m
        for m in kb_graph.objects(SK[name], SK.conflictMember)
        if (m, RDF.type, SK.Recommendation) in kb_graph and (m, PROV.wasDerivedFrom, R1) in kb_graph
    ]
    assert sides, name


def test_the_steroid_resolution_claims_no_acp_sentence():
    """Article 003's patient with radiculopathy and root compression: high-dose corticosteroids overridden on NICE
    NG59's quoted sentence, and neither the why-not nor the conflict's sides claim ACP 2017."""
    case = {
        "id": "k3-steroids-sciatica-root-compression",
        "age": 60,
        "symptoms": [{"type": "radicular_pain", "dermatomes": ["L4"], "laterality": "left", "duration_weeks": 8}],
        "imaging": [
            {
                "modality": "MRI",
                "weeks_ago": 0,
                "findings": [
                    {"type": "disc_space_narrowing", "level": "L4-L5", "severity": "moderate"},
                    {"type": "foraminal_stenosis", "level": "L4-L5", "side": "left", "severity": "moderate"},
                ],
            }
        ],
    }
    plan = reason([case])[0].plan
    why = next(p for p in plan.preempted if local(p.recommendation) == "rec_003_26").why[0]
    assert "NICE NG59" in why and "ACP" not in why
    conflict = next(c for c in plan.conflicts if c.id == "conflict_systemic_corticosteroids")
    assert {local(s.member) for s in conflict.sides} >= {"rec_003_26", "rec_ext_nice_no_oral_steroid_sciatica"}
    assert "acp_2017" not in {local(s.member) for s in conflict.sides}
