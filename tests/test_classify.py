"""The SPARQL-compiled class definitions classify case findings exactly as HermiT does."""

from __future__ import annotations

import pytest
from rdflib import URIRef

from reasoner.case.files import load_case
from reasoner.case.validate import case_graph
from reasoner.consts import OWL, RDF, SK
from reasoner.reasoning.derive import DERIVED_CLASSES
from reasoner.reasoning.engine import Reasoner

from constants import EXAMPLE_CASES


@pytest.fixture(scope="module")
def reasoner():
    return Reasoner()


def finding_classes(reasoner, types):
    """Keep the named finding classes (what classification is about); where a derivation rule (not OWL) typed
    the finding, leave out its class and that class's superclasses on both sides."""
    types = set(types)
    derived = {t for t in types if any(reasoner.index.is_a(d, t) for d in DERIVED_CLASSES if d in types)}
    return {t for t in types - derived if t.startswith(str(SK)) and reasoner.index.is_a(t, str(SK.Finding))}


def presentation_classes(reasoner, types):
    """Keep the named clinical presentations of a case."""
    grouping = {str(SK.ClinicalPresentation), str(SK.DurationPhase)}
    return {t for t in types if t not in grouping and reasoner.index.is_a(t, str(SK.ClinicalPresentation))}


@pytest.mark.java
@pytest.mark.parametrize("path", EXAMPLE_CASES, ids=lambda p: p.stem)
def test_compiled_rules_agree_with_hermit(path, reasoner, java):
    from reasoner.kb.load import new_graph
    from reasoner.quality.dl import classify_individuals, entails_type

    cg = case_graph(load_case(path))
    run = next(iter(reasoner.run([cg]).values()))
    g = new_graph()
    for t in reasoner.kb:
        g.add(t)
    for t in cg:
        g.add(t)
    # the case node is an individual too (its presentations), with what the derivation rules add before OWL
    case = URIRef(run.case)
    g.add((case, RDF.type, OWL.NamedIndividual))
    for fact, types in run.fact_types.items():
        for derived in DERIVED_CLASSES & set(types):
            g.add((URIRef(fact), RDF.type, URIRef(derived)))
    hermit = classify_individuals(g)

    def settled(individual, ours, theirs):
        """HermiT's realization, with every class it and the compiled rules disagree on decided by refutation
        (the realization was seen to leave a type out at random; see entails_type)."""
        theirs = set(theirs)
        for cls in ours ^ theirs:
            (theirs.add if entails_type(g, individual, cls) else theirs.discard)(cls)
        return theirs

    for fact, types in run.fact_types.items():
        if fact not in hermit:
            continue  # not an OWL individual (studies, treatments)
        derived = {t for t in types if any(reasoner.index.is_a(d, t) for d in DERIVED_CLASSES if d in types)}
        ours = finding_classes(reasoner, types)
        assert ours == settled(fact, ours, finding_classes(reasoner, set(hermit[fact]) - derived)), fact
    # the clinical presentations of the case node (defined over its findings through owl:inverseOf sk:inCase)
    ours = presentation_classes(reasoner, run.presentations)
    theirs = presentation_classes(reasoner, hermit.get(run.case, set()))
    assert ours == settled(run.case, ours, theirs), (ours, hermit.get(run.case))


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


@pytest.mark.java
def test_entails_type_decides_a_datatype_restriction(reasoner, java):
    """The refutation check test_compiled_rules_agree_with_hermit falls back on: at 67, axial pain is back pain over
    50 (the class HermiT's realization left out at random) and not back pain at 70 or over."""
    from reasoner.kb.load import new_graph
    from reasoner.quality.dl import entails_type

    g = new_graph()
    for t in reasoner.kb:
        g.add(t)
    for t in case_graph(load_case(next(p for p in EXAMPLE_CASES if p.stem == "redflag-malignancy"))):
        g.add(t)
    symptom = "https://w3id.org/spinekg/case/redflag-malignancy/symptom/0"
    assert entails_type(g, symptom, str(SK.back_pain_after_50))
    assert not entails_type(g, symptom, str(SK.back_pain_in_older_patient))
