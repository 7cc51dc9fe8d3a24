"""The SPARQL-compiled class definitions classify case findings exactly as HermiT does."""

from __future__ import annotations

from pathlib import Path

import pytest

from reasoner.case import case_graph, load_case
from reasoner.consts import SK
from reasoner.engine import Reasoner

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))


@pytest.fixture(scope="module")
def reasoner():
    return Reasoner()


def finding_classes(reasoner, types):
    """Keep the named finding classes (what classification is about)."""
    return {t for t in types if t.startswith(str(SK)) and reasoner.index.is_a(t, str(SK.Finding))}


@pytest.mark.java
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_compiled_rules_agree_with_hermit(path, reasoner, java):
    from reasoner.dl import classify_individuals
    from reasoner.kb import new_graph

    cg = case_graph(load_case(path))
    run = next(iter(reasoner.run([cg]).values()))
    g = new_graph()
    for t in reasoner.kb:
        g.add(t)
    for t in cg:
        g.add(t)
    hermit = classify_individuals(g)
    for fact, types in run.fact_types.items():
        if fact not in hermit:
            continue  # not an OWL individual (studies, treatments)
        assert finding_classes(reasoner, types) == finding_classes(reasoner, hermit[fact]), fact


def test_every_defined_class_compiles(reasoner):
    names = {r.cls.rsplit("/", 1)[-1] for r in reasoner.rules}
    assert {
        "saddle_pattern_deficit",
        "bilateral_leg_weakness",
        "progressing_neurological_finding",
        "mjoa_severe",
        "new_height_loss_in_older_patient",
        "severe_pain",
    } <= names
