"""Review h1-18: a sciatica dated apart from a longer back pain has a phase of its own, which the recommendations about
sciatica read (``sk:sciaticaPhase``), while the low back pain recommendations keep the episode's.

The plans are checked by the acceptance vignettes (``radicular-*-on-*-chronic-lbp-*``); these tests check the pieces:
the case reader's ``sk:sciaticaWeeks``, and that the KB's phases of the sciatica keep the episode phases' cut-offs and
are read only by recommendations about sciatica.
"""

from __future__ import annotations

import pytest
from rdflib import Literal
from rdflib.collection import Collection

from reasoner.case.model import case_iri
from reasoner.case.validate import case_graph, parse_case
from reasoner.consts import OWL, RDFS, SK, XSD
from reasoner.kb.load import shared_kb

_FACETS = (XSD.minInclusive, XSD.minExclusive, XSD.maxInclusive, XSD.maxExclusive)


def _weeks(symptoms: list[dict]) -> tuple[list[float], list[float]]:
    """The case's (episode weeks, sciatica weeks) as the case reader writes them."""
    doc = parse_case({"id": "sciatica-phase", "age": 50, "symptoms": symptoms})
    g, case = case_graph(doc), case_iri("sciatica-phase")
    return [float(w) for w in g.objects(case, SK.episodeWeeks)], [float(w) for w in g.objects(case, SK.sciaticaWeeks)]


AXIAL = {"type": "axial_pain", "body_regions": ["lower_back"]}
L5 = {"type": "radicular_pain", "dermatomes": ["L5"], "laterality": "left"}


@pytest.mark.parametrize(
    "symptoms,expected",
    [
        # a new sciatica on years of back pain: the episode is the back pain's, the sciatica has its own
        ([{**AXIAL, "duration_weeks": 260}, {**L5, "duration_weeks": 3}], ([260.0], [3.0])),
        # the sciatica is the longest pain: the episode is the sciatica's, nothing is written apart
        ([{**AXIAL, "duration_weeks": 2}, {**L5, "duration_weeks": 26}], ([26.0], [])),
        # one duration: nothing apart
        ([{**AXIAL, "duration_weeks": 3}, {**L5, "duration_weeks": 3}], ([3.0], [])),
        # an undated sciatica: nothing apart
        ([{**AXIAL, "duration_weeks": 260}, L5], ([260.0], [])),
        # a radicular pain of the arm is not sciatica (NICE NG59: lumbosacral nerve root pathology)
        (
            [{**AXIAL, "duration_weeks": 260}, {**L5, "dermatomes": ["C6"], "duration_weeks": 3}],
            ([260.0], []),
        ),
        # the longest of two dated sciatica records
        (
            [{**AXIAL, "duration_weeks": 260}, {**L5, "duration_weeks": 3}, {**L5, "duration_weeks": 8}],
            ([260.0], [8.0]),
        ),
    ],
    ids=["new-sciatica-on-old-lbp", "sciatica-longest", "one-duration", "undated", "arm", "two-records"],
)
def test_h1_18_case_reader_writes_the_sciaticas_own_length_where_it_is_apart(symptoms, expected):
    assert _weeks(symptoms) == expected


def _bounds(kb, phase) -> frozenset[tuple]:
    """A phase class's datatype facets (facet, value) and the property they restrict."""
    out, todo, seen = set(), list(kb.objects(phase, OWL.equivalentClass)), set()
    while todo:
        node = todo.pop()
        for p, o in kb.predicate_objects(node):
            if p in _FACETS and isinstance(o, Literal):
                out.add((str(p), float(o)))
            elif p == OWL.onProperty:
                out.add(("onProperty", str(o)))
            elif p in (OWL.intersectionOf, OWL.withRestrictions):
                todo.extend(m for m in Collection(kb, o) if m not in seen)
            elif p == OWL.someValuesFrom and o not in seen:
                todo.append(o)
        seen.add(node)
    return frozenset(out)


def test_h1_18_each_condition_reads_a_phase_of_the_sciatica_with_its_own_phases_cut_offs():
    kb = shared_kb()
    pairs = [(cond, kb.value(cond, SK.presentation), s) for cond, s in kb.subject_objects(SK.sciaticaPhase)]
    assert pairs, "no condition reads a phase of the sciatica"
    for cond, episode, sciatica in pairs:
        assert (sciatica, RDFS.subClassOf, SK.SciaticaPhase) in kb, sciatica
        mine, theirs = _bounds(kb, sciatica), _bounds(kb, episode)
        assert ("onProperty", str(SK.sciaticaWeeks)) in mine and ("onProperty", str(SK.episodeWeeks)) in theirs
        facets = {b for b in mine if b[0] != "onProperty"}
        assert facets and facets == {b for b in theirs if b[0] != "onProperty"}, (cond, sciatica, episode)


def test_h1_18_only_recommendations_about_sciatica_read_its_phase():
    kb = shared_kb()
    sciatica = SK.condition_PresentationPresent_lumbosacral_radicular_syndrome
    readers = {rec for cond in kb.subjects(SK.sciaticaPhase, None) for rec in kb.subjects(SK.hasCondition, cond)}
    assert {str(r).removeprefix(str(SK)) for r in readers} == {
        "rec_002_04",
        "rec_002_11",
        "rec_002_26",
        "rec_002_12",
        "rec_ext_nice_epidural_acute_severe_sciatica",
        "rec_ext_nice_no_opioids_chronic_sciatica",
    }
    for rec in readers:
        assert (rec, SK.hasCondition, sciatica) in kb, f"{rec} reads the sciatica's phase but is not about sciatica"
