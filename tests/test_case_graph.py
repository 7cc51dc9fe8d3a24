"""A case's RDF follows the contract, matches its committed snapshot, and reads back as the same case.

Set SPINEKG_REGENERATE=1 to rewrite the snapshots in tests/data/cases/graphs/ (then review the diff).
"""

from __future__ import annotations

import json
import os
from decimal import Decimal

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic

from reasoner.case.files import load_case
from reasoner.case.model import case_iri, vocabulary
from reasoner.case.validate import case_graph, parse_case
from reasoner.consts import DCTERMS, OWL, RDF, SK, XSD

from constants import DATA, EXAMPLE_CASES

SNAPSHOTS = DATA / "cases" / "graphs"
#: Lists that are sets of triples in RDF: their order does not survive the round trip.
SETS = {"dermatomes", "body_regions", "candidate_for"}


def normal(value, key=None):
    """The document with set-valued lists sorted (and an explicit ``present: true``, the default, dropped)."""
    if isinstance(value, dict):
        return {k: normal(v, k) for k, v in value.items() if not (k == "present" and v is True)}
    if isinstance(value, list):
        items = [normal(v) for v in value]
        return sorted(items) if key in SETS else items
    return value


@pytest.mark.parametrize("fmt,suffix", [("turtle", "ttl"), ("json-ld", "jsonld")])
@pytest.mark.parametrize("example", EXAMPLE_CASES, ids=lambda p: p.stem)
def test_example_round_trips_through_rdf(example, fmt, suffix, tmp_path):
    case = load_case(example)
    target = tmp_path / f"{example.stem}.{suffix}"
    case_graph(case).serialize(target, format=fmt, encoding="utf-8")
    back = load_case(target)
    assert back.id == case.id and back.source == str(target)
    # json.dumps also tells 3 from 3.0 and True from 1
    assert json.dumps(normal(back.data), sort_keys=True) == json.dumps(normal(case.data), sort_keys=True)
    assert isomorphic(case_graph(back), case_graph(case))


@pytest.mark.parametrize("example", EXAMPLE_CASES, ids=lambda p: p.stem)
def test_example_graph_matches_its_snapshot(example):
    got = case_graph(load_case(example))
    snapshot = SNAPSHOTS / f"{example.stem}.ttl"
    if os.environ.get("SPINEKG_REGENERATE"):
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        got.serialize(snapshot, format="longturtle", encoding="utf-8")
    want = Graph().parse(snapshot, format="turtle")
    if not isomorphic(got, want):
        _, only_got, only_want = graph_diff(got, want)
        pytest.fail(f"graph differs from {snapshot.name}:\n+ {sorted(only_got)}\n- {sorted(only_want)}")


def test_every_snapshot_has_its_example():
    assert {p.stem for p in SNAPSHOTS.glob("*.ttl")} == {p.stem for p in EXAMPLE_CASES}


FULL = {
    "id": "full",
    "age": 45,
    "sex": "other",
    "symptoms": [
        {
            "type": "radicular_pain",
            "body_regions": ["buttock"],
            "dermatomes": ["L5", "S1"],
            "laterality": "left",
            "duration_weeks": 3,
            "progressive": False,
            "severity": "moderate",
        },
        {"type": "weakness", "laterality": "right", "present": False},
        {"type": "axial_pain"},
    ],
    "imaging": [
        {
            "modality": "CT",
            "contrast": False,
            "weeks_ago": 0,
            "findings": [
                {"type": "canal_stenosis", "level": "L3-L4", "side": "bilateral", "severity": "moderate", "new": True},
                {"type": "vertebral_height_loss", "level": "L2", "severity": "none"},
                {"type": "muscle_atrophy", "level": "L4-L5", "present": False},
            ],
        }
    ],
    "risk_factors": ["fever"],
    "prior_treatments": [{"type": "physical_therapy", "weeks": 8.5, "outcome": "failed"}],
    "scores": {"mjoa": 13},
    "candidate_for": ["surgery", "injection"],
}


@pytest.fixture(scope="module")
def full():
    return case_graph(parse_case(FULL))


C = case_iri("full")
P = URIRef(f"{C}/patient")


def iri(suffix):
    return URIRef(f"{C}/{suffix}")


def test_case_and_patient(full):
    assert set(full.predicate_objects(C)) == {
        (RDF.type, SK.Case),
        (DCTERMS.identifier, Literal("full")),
        (SK.patient, P),
        (SK.candidateFor, SK.surgery_candidate),
        (SK.candidateFor, SK.injection_candidate),
        (SK.episodeWeeks, Literal("3.0", datatype=XSD.decimal)),  # the longest present symptom
    }
    assert set(full.predicate_objects(P)) == {
        (RDF.type, SK.Patient),
        (SK.age, Literal("45.0", datatype=XSD.decimal)),
        (SK.sex, SK.sex_other),
    }


def test_present_symptom(full):
    assert set(full.predicate_objects(iri("symptom/0"))) == {
        (RDF.type, SK.radicular_pain),
        (RDF.type, OWL.NamedIndividual),
        (SK.inCase, C),
        (SK.ofPatient, P),
        (SK.laterality, SK.left),
        (SK.inDermatome, SK.dermatome_L5),
        (SK.inDermatome, SK.dermatome_S1),
        (SK.inBodyRegion, SK.buttock),
        (SK.durationWeeks, Literal("3.0", datatype=XSD.decimal)),
        (SK.progressive, Literal(False)),
        (SK.severity, SK.moderate),
    }


def test_absent_symptom_is_a_finding_absence(full):
    assert set(full.predicate_objects(iri("symptom/1"))) == {
        (RDF.type, SK.FindingAbsence),
        (SK.absentType, SK.weakness),
        (SK.inCase, C),
        (SK.laterality, SK.right),
    }


def test_a_field_not_given_writes_nothing(full):
    assert set(full.predicate_objects(iri("symptom/2"))) == {
        (RDF.type, SK.axial_pain),
        (RDF.type, OWL.NamedIndividual),
        (SK.inCase, C),
        (SK.ofPatient, P),
    }


def test_imaging_study_and_findings(full):
    study = iri("imaging/0")
    assert set(full.predicate_objects(study)) == {
        (RDF.type, SK.ImagingStudy),
        (SK.inCase, C),
        (SK.modality, SK.CT),
        (SK.contrast, Literal(False)),
        (SK.weeksAgo, Literal("0.0", datatype=XSD.decimal)),
    }
    assert set(full.predicate_objects(iri("imaging/0/finding/0"))) == {
        (RDF.type, SK.canal_stenosis),
        (RDF.type, OWL.NamedIndividual),
        (SK.fromStudy, study),
        (SK.inCase, C),
        (SK.ofPatient, P),
        (SK.atDiscLevel, SK["disc_L3-L4"]),
        (SK.laterality, SK.bilateral),
        (SK.severity, SK.moderate),
        (SK.isNew, Literal(True)),
    }
    assert set(full.predicate_objects(iri("imaging/0/finding/1"))) == {  # severity none: an absence
        (RDF.type, SK.FindingAbsence),
        (SK.absentType, SK.vertebral_height_loss),
        (SK.fromStudy, study),
        (SK.inCase, C),
        (SK.atSpinalLevel, SK.vertebra_L2),
        (SK.severity, SK.severity_none),
    }
    assert set(full.predicate_objects(iri("imaging/0/finding/2"))) == {
        (RDF.type, SK.FindingAbsence),
        (SK.absentType, SK.muscle_atrophy),
        (SK.fromStudy, study),
        (SK.inCase, C),
        (SK.atDiscLevel, SK["disc_L4-L5"]),
    }


def test_history(full):
    assert set(full.predicate_objects(iri("risk/0"))) == {
        (RDF.type, SK.fever),
        (RDF.type, OWL.NamedIndividual),
        (SK.inCase, C),
        (SK.ofPatient, P),
    }
    assert set(full.predicate_objects(iri("treatment/0"))) == {
        (RDF.type, SK.PriorTreatment),
        (SK.inCase, C),
        (SK.treatmentType, SK.physical_therapy),
        (SK.weeks, Literal("8.5", datatype=XSD.decimal)),
        (SK.outcome, SK.failed),
    }
    assert set(full.predicate_objects(iri("score/mjoa"))) == {
        (RDF.type, SK.mjoa_score),
        (RDF.type, OWL.NamedIndividual),
        (SK.inCase, C),
        (SK.ofPatient, P),
        (SK.scoreValue, Literal("13", datatype=XSD.integer)),
    }


def test_decimals_keep_the_digits_given():
    g = case_graph(parse_case({"id": "d", "symptoms": [{"type": "axial_pain", "duration_weeks": 0.1}]}))
    value = g.value(URIRef(f"{case_iri('d')}/symptom/0"), SK.durationWeeks)
    assert value == Literal("0.1", datatype=XSD.decimal) and value.toPython() == Decimal("0.1")


def test_iri_suffixes_are_the_list_indexes_as_given():
    from reasoner.case.graph import document_graph

    doc = {"id": "k", "symptoms": [{"type": "numbness"}, {"type": "weakness"}, {"type": "axial_pain"}]}
    g = document_graph(doc, vocabulary(), case_iri("k"), keep=lambda p: p != "symptoms[1]")
    assert {str(s).rsplit("/", 1)[1] for s in g.subjects(SK.inCase, None)} == {"0", "2"}


def test_full_case_round_trips(full, tmp_path):
    target = tmp_path / "full.ttl"
    full.serialize(target, format="turtle", encoding="utf-8")
    assert json.dumps(normal(load_case(target).data), sort_keys=True) == json.dumps(normal(FULL), sort_keys=True)
