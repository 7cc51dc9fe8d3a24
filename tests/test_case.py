"""The case reader rejects bad input with every problem (path and value as given) and salvages the clean entries."""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict

import pytest
from rdflib import Literal, URIRef

from reasoner.case.files import load_case
from reasoner.case.graph import read_vocabulary
from reasoner.case.model import CaseError, case_iri
from reasoner.case.validate import parse_case
from reasoner.consts import RDF, RDFS, SK, SKOS

from constants import DATA, EXAMPLE_CASES

BAD = DATA / "cases" / "bad"


def expectations() -> dict[str, list[str]]:
    """Expected problem lines per bad file: ``# expect:`` headers (YAML) and expectations.tsv (the rest)."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(BAD.glob("*.yaml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("# expect: "):
                found[path.name].append(line.removeprefix("# expect: "))
    with open(BAD / "expectations.tsv", encoding="utf-8", newline="") as tsv:
        for row in csv.DictReader(tsv, delimiter="\t"):
            found[row["file"]].append(row["expect"])
    return dict(found)


EXPECTED = expectations()


def test_every_bad_file_has_expectations():
    files = {p.name for p in BAD.iterdir() if p.name != "expectations.tsv"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_case_is_rejected_with_every_problem(name):
    with pytest.raises(CaseError) as caught:
        load_case(BAD / name)
    lines = [str(p) for p in caught.value.problems]
    for expected in EXPECTED[name]:
        assert any(expected in line for line in lines), f"{expected!r} not among {lines}"
    assert len(lines) == len(EXPECTED[name]), lines
    assert caught.value.exit_code == 2
    assert all(line in str(caught.value) for line in lines)


def test_problem_line_names_the_path_and_the_value_as_given():
    with pytest.raises(CaseError) as caught:
        parse_case({"id": "x", "symptoms": [{"type": "numbness"}, {"type": "numbness", "dermatomes": ["L9"]}]})
    (problem,) = caught.value.problems
    assert (problem.path, problem.value) == ("symptoms[1].dermatomes[0]", "L9")
    assert str(problem) == "symptoms[1].dermatomes[0]: 'L9' is not a dermatome"


def test_a_long_string_is_shown_by_its_first_40_characters_but_kept_whole():
    value = "x" * 500
    with pytest.raises(CaseError) as caught:
        parse_case({"id": "x", "sex": value})
    (problem,) = caught.value.problems
    assert problem.value == value
    assert str(problem).startswith(f"sex: '{'x' * 40}'… is longer than 200 characters")


def test_nothing_is_coerced_and_no_default_is_filled_in():
    doc = {"id": "c", "age": 45, "symptoms": [{"type": "radicular_pain", "duration_weeks": 2.5}]}
    case = parse_case(doc)
    assert case.data == doc and "present" not in case.data["symptoms"][0] and "sex" not in case.data
    doc["symptoms"][0]["type"] = "numbness"  # the case keeps its own copy
    assert case.data["symptoms"][0]["type"] == "radicular_pain"
    with pytest.raises(CaseError, match=r"age: '45' is not a number"):
        parse_case({"id": "c", "age": "45"})


@pytest.mark.parametrize("path", EXAMPLE_CASES + sorted(BAD.iterdir()), ids=lambda p: p.name)
def test_load_case_does_not_modify_its_input(path):
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        load_case(path)
    except CaseError:
        pass
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_case_iri_refuses_an_id_that_would_smuggle_iri_or_sparql():
    assert case_iri("a.b_c-1") == URIRef("https://w3id.org/spinekg/case/a.b_c-1")
    for bad in ("foo> } DROP ALL #", "a b", "-a", "a/b", "x" * 129, "abc\n", ""):
        with pytest.raises(CaseError):
            case_iri(bad)


@pytest.mark.parametrize("name,message", [("case.txt", "has an unknown extension"), ("missing.yaml", "cannot be read")])
def test_unreadable_or_unknown_files_are_case_errors(tmp_path, name, message):
    if name.endswith(".txt"):
        (tmp_path / name).write_text("id: x\n", encoding="utf-8")
    with pytest.raises(CaseError, match=message):
        load_case(tmp_path / name)


# --- salvage -------------------------------------------------------------------------------------------------


def salvage_of(doc):
    with pytest.raises(CaseError) as caught:
        parse_case(doc)
    return caught.value.salvage


def test_salvage_keeps_the_urinary_retention_and_drops_the_bad_symptom():
    with pytest.raises(CaseError) as caught:
        load_case(BAD / "salvage-urinary-retention.yaml")
    g = caught.value.salvage
    c = case_iri("salvage-urinary-retention")
    assert (URIRef(f"{c}/symptom/0"), RDF.type, SK.urinary_retention) in g
    assert (URIRef(f"{c}/symptom/0"), SK.inCase, c) in g
    assert not list(g.triples((URIRef(f"{c}/symptom/1"), None, None)))
    assert not list(g.subjects(RDF.type, SK.numbness))
    assert (URIRef(f"{c}/patient"), SK.age, None) in g


def test_salvage_leaves_out_bad_fields_of_studies_and_findings_and_dirty_history():
    g = salvage_of(
        {
            "id": "s",
            "sex": "M",
            "imaging": [
                {"modality": "ct", "findings": [{"type": "disc_bulge", "level": "L4-L5"}]},
                {"modality": "CT", "findings": [{"type": "canal_stenosis"}, {"type": "disc_bulge", "level": "L9"}]},
            ],
            "risk_factors": ["fever", "fevre"],
            "prior_treatments": [{"type": "nsaid", "weeks": 6, "outcome": "failed"}],
            "scores": {"mjoa": 10},
        }
    )
    c = case_iri("s")
    # a bad study field (modality 'ct') or finding field (level 'L9') is left out, the study and finding kept
    findings = {URIRef(f"{c}/imaging/{j}/finding/{k}") for j, k in ((0, 0), (1, 0), (1, 1))}
    assert set(g.subjects(SK.fromStudy, None)) == findings
    assert (URIRef(f"{c}/imaging/0"), SK.modality, None) not in g
    assert (URIRef(f"{c}/imaging/1/finding/1"), SK.atDiscLevel, None) not in g
    assert set(g.subjects(RDF.type, SK.fever)) == {URIRef(f"{c}/risk/0")}
    assert (None, SK.sex, None) not in g
    assert not list(g.subjects(RDF.type, SK.PriorTreatment)) and (None, SK.scoreValue, None) not in g


def test_salvage_drops_both_entries_of_a_contradiction():
    g = salvage_of(
        {
            "id": "s",
            "symptoms": [
                {"type": "weakness", "laterality": "left"},
                {"type": "weakness", "laterality": "left", "present": False},
                {"type": "urinary_retention"},
            ],
        }
    )
    assert set(g.subjects(SK.inCase, None)) == {URIRef(f"{case_iri('s')}/symptom/2")}


def test_salvage_of_a_case_with_a_bad_id_has_no_identifier():
    g = salvage_of({"id": "foo> } DROP ALL #", "symptoms": [{"type": "urinary_retention"}]})
    assert list(g.subjects(RDF.type, SK.urinary_retention))
    assert all("DROP" not in str(term) for triple in g for term in triple)


@pytest.mark.parametrize(
    "doc",
    [
        ["not", "a", "mapping"],
        {"id": "s", "symptoms": [{"type": "numbness", "dermatomes": ["L9"]}]},
        {"age": 300, "colour": "red"},
    ],
    ids=["not-a-mapping", "only-a-bad-symptom", "nothing-clean"],
)
def test_salvage_is_none_when_nothing_is_clean(doc):
    assert salvage_of(doc) is None


# --- the vocabulary is the knowledge base's ---------------------------------------------------------------------


def test_a_finding_added_to_the_kb_becomes_a_valid_symptom_type(kb_copy):
    kb_copy.add((SK.new_symptom, RDFS.subClassOf, SK.PainSymptom))
    kb_copy.add((SK.new_symptom, SKOS.notation, Literal("new_symptom")))
    assert read_vocabulary(kb_copy).symptom_types["new_symptom"] == SK.new_symptom


def test_the_small_value_sets_map_to_the_core_individuals():
    from reasoner.case.model import vocabulary

    v = vocabulary()
    assert v.severity["none"] == SK.severity_none and v.sex["other"] == SK.sex_other
    assert v.sex["unknown"] == SK.sex_unknown and dict(v.candidacy) == {
        "injection": SK.injection_candidate,
        "surgery": SK.surgery_candidate,
    }
    assert dict(v.scores) == {"mjoa": SK.mjoa_score}
    assert "L4-5" not in v.levels and "L4-L5" in v.disc_levels and "L2" in v.vertebrae
