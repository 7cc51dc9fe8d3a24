"""A plan does not depend on the order the knowledge base happens to list its recommendations in.

Found comparing two checkouts of the same commit: rdflib lists a graph's triples in an order that follows the hash
seed of the process that parsed it, the recommendations' catalogue kept that order (in the KB cache too), and a case
with two red flags that both give an MRI of the lumbar spine (cauda equina: emergency; malignancy: urgent) had article
000's "MRI as the next step" covered by whichever of the two came last: the emergency step on one machine, the urgent
one on another.
"""

from __future__ import annotations

import copy

from bench.generate import generate
from reasoner.api import case_triples, default_reasoner
from reasoner.case.model import case_iri
from reasoner.case.validate import parse_case
from reasoner.plan.assemble import assemble

SK = "https://w3id.org/spinekg/"


def runs_of(r, docs):
    cases = [parse_case(d) for d in docs]
    runs = r.run([case_triples(c).nt() for c in cases])
    return [runs[str(case_iri(c.id))] for c in cases]


def reordered(r, order):
    """The reasoner with its recommendations listed in ``order`` (its per-KB plan cache made anew)."""
    twin = copy.copy(r)
    twin.conditions = dict(order(list(r.conditions.items())))
    twin.cache = {}
    return twin


def test_the_catalogue_is_in_recommendation_order():
    r = default_reasoner()
    assert list(r.conditions) == sorted(r.conditions)


def test_the_more_urgent_red_flag_step_covers_what_both_give():
    r = default_reasoner()
    doc = next(d for d in generate(500, seed=3) if d["id"] == "gen-3-349")  # cauda equina and malignancy
    (run,) = runs_of(r, [doc])
    for order in (list, lambda items: list(reversed(items))):
        plan = assemble(reordered(r, order), run)
        assert {f.id for f in plan.red_flags} >= {"cauda_equina_syndrome_suspected", "malignancy_suspected"}
        mri = {s.phase: s for s in plan.steps if s.id == "mri_lumbar_spine"}
        assert SK + "rec_000_01" in mri["emergency"].covers
        # the malignancy flag's urgent MRI is given by the emergency one too (no second, urgent MRI step)
        assert "urgent" not in mri
        emergency = [s for s in plan.steps if s.phase == "emergency"]
        assert any(SK + "rec_safety_malignancy_mri" in s.covers for s in emergency)


def test_generated_plans_are_the_same_whatever_the_catalogue_order():
    r = default_reasoner()
    docs = list(generate(500, seed=3))
    runs = runs_of(r, docs)
    forward = [assemble(r, run).to_json() for run in runs]
    backward = reordered(r, lambda items: list(reversed(items)))
    assert [assemble(backward, run).to_json() for run in runs] == forward
