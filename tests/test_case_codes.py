"""Coded cases (issue 5): findings named by SNOMED CT / ICD-10-CM / HPO codes resolve through the SSSOM mappings."""

from __future__ import annotations

import copy

import jsonschema
import pytest
import yaml
from rdflib import RDF, URIRef

from reasoner.api import reason, recommend, salvaged_red_flags
from reasoner.case.files import load_case
from reasoner.case.model import CaseError
from reasoner.case.spec import json_schema
from reasoner.case.validate import case_graph, parse_case
from reasoner.consts import SK

from constants import EXAMPLES

SNOMED = "http://snomed.info/id/"
UNMAPPED = "SCTID:22298006"  # a real SNOMED CT id (myocardial infarction) with no mapping to a spinekg term


def example(name: str) -> dict:
    return yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text(encoding="utf-8"))


def put(doc: dict, path: tuple, value) -> dict:
    out = copy.deepcopy(doc)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def problems_of(doc: dict) -> list[str]:
    with pytest.raises(CaseError) as info:
        parse_case(doc)
    return [str(p) for p in info.value.problems]


# --- a coded case gives the plan of the same case in spinekg ids ---------------------------------------------

SWAPS = [
    ("redflag-cauda-equina", ("symptoms", 0, "type"), "SCTID:267064002"),  # exact: urinary retention
    ("redflag-cauda-equina", ("symptoms", 1, "type"), "ICD10CM:R20.1"),  # narrower: hypoesthesia of skin
    ("redflag-infection", ("risk_factors", 0), "HP:0001945"),  # exact: fever
    ("redflag-fracture", ("risk_factors", 0), "ICD10CM:M81.0"),  # narrower: age-related osteoporosis
    ("redflag-fracture", ("imaging", 0, "findings", 0, "type"), "SCTID:42942008"),  # compression fracture
    ("002-lumbosacral-radiculopathy", ("symptoms", 0, "type"), "SCTID:23056005"),  # sciatica, narrower
    ("004-spondylosis-l2-height-loss", ("imaging", 0, "findings", 0, "type"), "SCTID:239880009"),  # lumbar
]


@pytest.mark.parametrize("name,path,code", SWAPS, ids=lambda x: x if isinstance(x, str) else "")
def test_a_coded_case_gives_the_same_plan(name, path, code):
    base = example(name)
    coded = put(base, path, code)
    assert coded != base
    plan = recommend(base)
    assert plan.steps
    assert recommend(coded).to_dict() == plan.to_dict()


def test_a_case_coded_throughout_gives_the_same_plan():
    base = example("redflag-cauda-equina")
    coded = put(put(base, ("symptoms", 0, "type"), "HP:0000016"), ("symptoms", 1, "type"), "SCTID:44077006")
    plan = recommend(coded)
    assert [f.id for f in plan.red_flags] == ["cauda_equina_syndrome_suspected"]
    assert plan.to_dict() == recommend(base).to_dict()


def test_the_case_graph_records_the_code_it_was_given():
    coded = put(example("redflag-cauda-equina"), ("symptoms", 0, "type"), "SCTID:267064002")
    g = case_graph(parse_case(coded))
    node = URIRef("https://w3id.org/spinekg/case/redflag-cauda-equina/symptom/0")
    assert set(g.objects(node, RDF.type)) >= {SK.urinary_retention, URIRef(SNOMED + "267064002")}


@pytest.mark.parametrize(
    "doc",
    [
        put(example("redflag-fracture"), ("imaging", 0, "findings", 0, "type"), "SCTID:42942008"),
        put(example("redflag-infection"), ("risk_factors", 1), "SCTID:386661006"),
        {"id": "absent", "symptoms": [{"type": "radicular_pain"}, {"type": "SCTID:267064002", "present": False}]},
        {"id": "kept", "unmapped_codes": "warn", "symptoms": [{"type": UNMAPPED}], "risk_factors": ["ICD10CM:M51.36"]},
    ],
    ids=["imaging", "risk-factor", "absent", "kept-unmapped"],
)
def test_a_coded_case_reads_back_from_its_graph(doc, tmp_path):
    path = tmp_path / "case.ttl"
    path.write_text(case_graph(parse_case(doc)).serialize(format="turtle"), encoding="utf-8")
    assert load_case(path).data == doc


def test_an_absent_coded_finding_names_both_its_term_and_its_code():
    doc = {"id": "a", "symptoms": [{"type": "SCTID:267064002", "present": False}]}
    g = case_graph(parse_case(doc))
    node = URIRef("https://w3id.org/spinekg/case/a/symptom/0")
    assert set(g.objects(node, SK.absentType)) == {SK.urinary_retention, URIRef(SNOMED + "267064002")}


def test_a_code_and_its_id_contradict_each_other():
    doc = {"id": "c", "symptoms": [{"type": "numbness"}, {"type": "SCTID:44077006", "present": False}]}
    assert problems_of(doc) == [
        "symptoms[1]: 'SCTID:44077006' contradicts symptoms[0]: recorded both present and absent (with no laterality)"
    ]


# --- codes that establish no term: an error naming the code, or, when the case says so, a warning ------------


@pytest.mark.parametrize(
    "field,path",
    [("symptoms", "symptoms[0].type"), ("risk_factors", "risk_factors[0]"), ("imaging", "imaging[0].findings[0].type")],
)
def test_an_unmapped_code_is_an_error_naming_the_field_and_the_code(field, path):
    doc = {
        "symptoms": {"id": "u", "symptoms": [{"type": UNMAPPED}]},
        "risk_factors": {"id": "u", "risk_factors": [UNMAPPED]},
        "imaging": {"id": "u", "imaging": [{"modality": "MRI", "findings": [{"type": UNMAPPED}]}]},
    }[field]
    (problem,) = problems_of(doc)
    assert problem.startswith(f"{path}: '{UNMAPPED}' has no mapping to a spinekg term")
    assert "unmapped_codes: warn" in problem


@pytest.mark.parametrize(
    "code,term,relation",
    [
        ("ICD10CM:M48.061", "canal_stenosis", "a close match of"),
        ("ICD10CM:M51.36", "degenerative_disc_disease", "broader than"),
    ],
)
def test_a_close_or_broader_code_does_not_stand_for_the_term(code, term, relation):
    doc = {"id": "b", "imaging": [{"modality": "MRI", "findings": [{"type": code}]}]}
    (problem,) = problems_of(doc)
    assert f"'{code}' establishes no spinekg term: the code is only {relation} {term}" in problem
    assert "is not evidence of the spinekg term" in problem


@pytest.mark.parametrize(
    "code,says",
    [
        ("SCTID:44077007", "is not a valid SNOMED CT code: the Verhoeff check digit of this SNOMED CT id fails"),
        (
            "ICD10CM:R201",
            "is not a valid ICD-10-CM code: an ICD-10-CM code has a dot after its third character (R20.1)",
        ),
        ("SCTID:26538006", "maps to degenerative_disc_disease, which is not a symptom type"),
    ],
    ids=["check-digit", "icd-form", "wrong-field"],
)
def test_a_bad_code_is_an_error_even_when_unmapped_codes_are_kept(code, says):
    for mode in ({}, {"unmapped_codes": "warn"}):
        (problem,) = problems_of({"id": "x", **mode, "symptoms": [{"type": code}]})
        assert problem == f"symptoms[0].type: '{code}' {says}"


def test_unmapped_codes_is_error_or_warn():
    assert problems_of({"id": "x", "unmapped_codes": "ignore"}) == [
        "unmapped_codes: 'ignore' is not what to do with a code that maps to no spinekg term (one of error, warn)"
    ]
    assert parse_case({"id": "x", "unmapped_codes": "error"}).id == "x"


def test_warn_mode_keeps_the_finding_unmapped_with_a_warning_and_it_triggers_nothing():
    base = example("002-lumbosacral-radiculopathy")
    kept = {**base, "unmapped_codes": "warn", "symptoms": [*base["symptoms"], {"type": UNMAPPED, "duration_weeks": 3}]}
    result = reason([kept])[0]
    plan = result.plan
    (warning,) = [w for w in plan.warnings if w.id == "unmapped_code"]
    assert warning.subjects == ("symptoms[1]", UNMAPPED) and "kept as unmapped" in warning.message
    node = URIRef("https://w3id.org/spinekg/case/002-lumbosacral-radiculopathy/symptom/1")
    assert set(result.graph.objects(node, RDF.type)) - {URIRef("http://www.w3.org/2002/07/owl#NamedIndividual")} == {
        SK.Symptom,
        URIRef(SNOMED + "22298006"),
    }
    assert not [s for s in plan.steps if "symptoms[1]" in s.triggered_by] and not plan.red_flags
    same = recommend(base).to_dict()
    got = plan.to_dict()
    assert [w for w in got["warnings"] if w["id"] != "unmapped_code"] == list(same["warnings"])
    assert got["steps"] == same["steps"] and got["red_flags"] == same["red_flags"]


def test_warn_mode_warns_about_a_broader_code_and_names_the_term():
    plan = recommend({"id": "w", "unmapped_codes": "warn", "risk_factors": ["ICD10CM:M51.36"]})
    (warning,) = [w for w in plan.warnings if w.id == "unmapped_code"]
    assert warning.subjects == ("risk_factors[0]", "ICD10CM:M51.36")
    assert "broader than degenerative_disc_disease" in warning.message


def test_an_id_case_has_no_unmapped_code_warning():
    assert not [w for w in recommend(example("redflag-cauda-equina")).warnings if w.id == "unmapped_code"]


def test_a_rejected_case_still_reports_the_red_flag_of_a_coded_finding():
    doc = {"id": "r", "symptoms": [{"type": "SCTID:267064002"}, {"type": UNMAPPED}]}
    with pytest.raises(CaseError) as info:
        recommend(doc)
    assert salvaged_red_flags(info.value) == [("suspected cauda equina syndrome", ["symptoms[0]"])]


def test_the_command_line_refuses_an_unmapped_code_with_status_2(spinekg, tmp_path):
    path = tmp_path / "coded.yaml"
    path.write_text(
        f"id: coded\nsymptoms:\n  - {{type: '{UNMAPPED}'}}\n  - {{type: radicular_pain}}\n", encoding="utf-8"
    )
    before = path.read_bytes()
    out = spinekg("recommend", path)
    assert out.returncode == 2 and out.stdout == ""
    assert f"symptoms[0].type: '{UNMAPPED}' has no mapping to a spinekg term" in out.stderr
    assert path.read_bytes() == before


# --- the JSON Schema publishes codes and the option ----------------------------------------------------------


def test_the_schema_accepts_codes_and_the_option_and_refuses_what_is_neither():
    schema = json_schema()
    valid = jsonschema.Draft202012Validator(schema).is_valid
    assert valid(
        {"id": "s", "unmapped_codes": "warn", "symptoms": [{"type": "SCTID:44077006"}], "risk_factors": ["HP:0001945"]}
    )
    assert valid({"id": "s", "imaging": [{"findings": [{"type": "ICD10CM:M51.369"}]}]})
    assert not valid({"id": "s", "unmapped_codes": "ignore"})
    assert not valid({"id": "s", "symptoms": [{"type": "SNOMED:44077006"}]})
    assert not valid({"id": "s", "symptoms": [{"type": "SCTID:"}]})


def test_a_code_mapped_to_a_red_flag_is_never_kept_unmapped():
    """Safety over fidelity: SNOMED CT's cauda equina syndrome is only a close match of the suspected-CES red flag,
    so it establishes no finding; even with unmapped_codes: warn it is refused (a plan without the red flag would
    look reassuring), and the rest of the case still has its red flags reported."""
    doc = {
        "id": "coded-ces",
        "unmapped_codes": "warn",
        "symptoms": [{"type": "SCTID:192970008"}, {"type": "urinary_retention"}],
    }
    with pytest.raises(CaseError) as caught:
        recommend(doc)
    [problem] = caught.value.problems
    assert problem.path == "symptoms[0].type" and "suspected cauda equina syndrome" in problem.message
    assert salvaged_red_flags(caught.value) == [("suspected cauda equina syndrome", ["symptoms[1]"])]


def test_a_finding_kept_as_an_unmapped_code_is_shown_by_its_code():
    """Clinician review G2 (an aortic aneurysm entered as ICD10CM:I71.40): the case as recorded and the warnings must
    show the code a clinician entered, not 'finding' (which hid the aneurysm from anyone reading the plan)."""
    doc = {
        "id": "aneurysm",
        "unmapped_codes": "warn",
        "symptoms": [{"type": "axial_pain", "duration_weeks": 1}, {"type": UNMAPPED, "laterality": "right"}],
        "risk_factors": ["ICD10CM:I71.40"],
    }
    (result,) = reason([doc])
    recorded = dict(line.split(": ", 1) for line in result.plan.summary)
    assert recorded["risk_factors[0]"] == "unmapped code ICD10CM:I71.40"
    assert recorded["symptoms[1]"] == f"unmapped code {UNMAPPED}, right"
