"""The SHACL case shapes: a case graph that breaks the contract is rejected with the case field path."""

from __future__ import annotations

import pytest
from rdflib import Literal, URIRef

from reasoner.case.files import load_case
from reasoner.case.shapes import check_case_graph
from reasoner.case.validate import case_graph
from reasoner.consts import SK

from constants import EXAMPLE_CASES

CASE = "https://w3id.org/spinekg/case/002-lumbosacral-radiculopathy"


@pytest.mark.parametrize("path", EXAMPLE_CASES, ids=lambda p: p.stem)
def test_every_example_conforms(path):
    assert check_case_graph(case_graph(load_case(path))) == []


@pytest.fixture()
def graph():
    return case_graph(load_case(EXAMPLE_CASES[[p.stem for p in EXAMPLE_CASES].index("002-lumbosacral-radiculopathy")]))


S0 = URIRef(CASE + "/symptom/0")


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (
            lambda g: g.set((S0, SK.durationWeeks, Literal(-1))),
            "symptoms[0].duration_weeks: -1 a duration is 0 weeks or more",
        ),
        (
            lambda g: g.add((S0, SK.inDermatome, SK.dermatome_L9)),
            "symptoms[0].dermatomes: 'https://w3id.org/spinekg/dermatome_L9' not a dermatome",
        ),
        (lambda g: g.set((S0, SK.laterality, SK.sideways)), "symptoms[0].laterality"),
        (lambda g: g.add((URIRef(CASE + "/score/mjoa"), SK.scoreValue, Literal(19))), "scores.mjoa: 19"),
        (lambda g: g.add((S0, SK.inCase, URIRef(CASE + "-other"))), "belongs to exactly one case"),
    ],
)
def test_a_broken_case_graph_is_caught_with_its_field_path(graph, mutate, expected):
    mutate(graph)
    problems = [str(p) for p in check_case_graph(graph)]
    assert any(expected in p for p in problems), problems
