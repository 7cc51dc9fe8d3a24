"""The SSSOM mapping sets: valid SSSOM, stricter checks of our own, codes from codes.csv, SKOS in the KB, lookup."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDFS, SKOS

from reasoner.case.lookup import lookup
from reasoner.case.model import vocabulary
from reasoner.cli.map import cli_map
from reasoner.errors import KBLoadError
from reasoner.kb import load as kb
from reasoner.kb.codes import SYSTEMS, split_curie
from reasoner.kb.mappings import resolve
from reasoner.kb.sssom import all_mappings, mapping_paths, mapping_sets, problems, read_mapping_set, skos_graph
from reasoner.sparql import library as queries

from constants import DATA, REFERENCE

PATHS = mapping_paths()
FIXTURES = DATA / "mappings"
README = kb.ONTOLOGY_DIR / "mappings" / "README.md"
#: codes.csv's names of the target systems, by CURIE prefix
CSV_SYSTEM = {
    "SCTID": "SNOMED CT",
    "ICD10CM": "ICD-10-CM",
    "LOINC": "LOINC",
    "RPID": "RadLex Playbook",
    "UBERON": "UBERON",
    "FMA": "FMA",
    "HP": "HPO",
    "RXNORM": "RxNorm",
    "ATC": "ATC",
}
#: What our strict check must say about each broken fixture.
BROKEN = {
    "no-license-no-justification": ["the header has no license", "no column mapping_justification"],
    "bad-justification": ["'semapv:Foo', not one of"],
    "bad-codes": [
        "'SCTID:44077007': the Verhoeff check digit",
        "'ICD10CM:R201': an ICD-10-CM code has a dot",
        "'semapv:UnspecifiedMatching', not one of",
        "predicate_id 'skos:relatedTo' is not one of",
        "one file per target system",
    ],
    "other-iri": ["SCTID is 'http://identifiers.org/snomedct/'; the project's IRI is 'http://snomed.info/id/'"],
    "wrong-name": ["the file name says 'exactmatch', its rows say 'narrowmatch'", "does not end with the file name"],
}
#: sssom validate's verdict on two fixtures: it fills the missing license and justification in silently (so our own
#: check is needed), and it refuses a justification outside SEMAPV (so its run here can fail).
SSSOM_FIXTURES = {"no-license-no-justification": 0, "bad-justification": 1}


def fixture(name: str) -> Path:
    return next((FIXTURES / name / "mappings").glob("*.sssom.tsv"))


@pytest.fixture(scope="module")
def codes_csv() -> list[dict]:
    with open(REFERENCE / "codes.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


#: Runs sssom-py's ``sssom`` command (its click entry point, as the installed script does) on each file in one
#: process, so its heavy imports are paid once; prints each file's exit status.
SSSOM_RUNNER = """
import sys
from sssom.cli import main
for path in sys.argv[1:]:
    try:
        main(["validate", path])
        status = 0
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except Exception:
        status = 1
    print(f"SSSOM-STATUS\t{status}\t{path}", flush=True)
"""


@pytest.fixture(scope="module")
def sssom_runs() -> dict[str, int]:
    """``sssom validate``'s exit status on every mapping set and on the two fixtures."""
    if shutil.which("sssom") is None:
        pytest.fail("sssom-py is not installed: pip install -e '.[test]' (sssom>=0.4.21)")
    targets = {p.name: p for p in PATHS} | {name: fixture(name) for name in SSSOM_FIXTURES}
    names = {str(path): name for name, path in targets.items()}
    done = subprocess.run(
        [sys.executable, "-c", SSSOM_RUNNER, *names], capture_output=True, text=True, timeout=600, check=False
    )
    found = [line.split("\t") for line in done.stdout.splitlines() if line.startswith("SSSOM-STATUS\t")]
    assert len(found) == len(targets), done.stderr[-3000:]
    return {names[path]: int(status) for _, status, path in found}


def test_there_is_one_mapping_set_per_target_system():
    prefixes = [{split_curie(m.object_id)[0].prefix for m in s.mappings} for s in mapping_sets()]
    assert all(len(p) == 1 for p in prefixes)
    assert sorted(p.pop() for p in prefixes) == sorted(SYSTEMS)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_sssom_validate_passes(path, sssom_runs):
    assert sssom_runs[path.name] == 0


@pytest.mark.parametrize("name,status", sorted(SSSOM_FIXTURES.items()))
def test_sssom_validate_on_the_fixtures(name, status, sssom_runs):
    assert (sssom_runs[name] != 0) == bool(status)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_our_strict_check_passes(path):
    assert problems(path) == []


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_our_strict_check_catches_the_broken_fixture(name):
    found = "\n".join(problems(fixture(name)))
    for expected in BROKEN[name]:
        assert expected in found


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_mapping_set_stops_the_kb_from_loading(name):
    with pytest.raises(KBLoadError, match=re.escape(str(fixture(name)))):
        kb.load_kb(FIXTURES / name)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_every_header_has_license_justification_and_creator(path):
    s = read_mapping_set(path)
    assert s.metadata["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert s.metadata["mapping_set_id"] == f"https://w3id.org/spinekg/mappings/{path.name}"
    assert "not yet reviewed" in " ".join(s.metadata["creator_label"])
    assert "reviewer_label" not in s.metadata and "reviewer_id" not in s.metadata
    assert s.mappings and all(m.mapping_justification == "semapv:ManualMappingCuration" for m in s.mappings)


def test_every_value_is_a_string_and_every_code_passes_its_check():
    for m in all_mappings():
        values = [getattr(m, f) for f in m.__dataclass_fields__]
        assert all(isinstance(v, str) and v == v.strip() and v for v in values), m
        system, code = split_curie(m.object_id)
        assert system.problem(code) is None, m.object_id


def test_every_mapped_code_is_a_verified_or_corroborated_row_of_codes_csv(codes_csv):
    for m in all_mappings():
        system, code = split_curie(m.object_id)
        rows = [r for r in codes_csv if r["system"] == CSV_SYSTEM[system.prefix] and r["code"] == system.notation(code)]
        assert rows, f"{m.object_id} is not in codes.csv"
        statuses = {r["status"] for r in rows}
        assert statuses <= {"verified", "corroborated"}, (m.object_id, statuses)
        assert m.comment.startswith(f"codes.csv: {rows[0]['status']} (row '"), m.object_id
        assert any(r["evidence"] in m.comment for r in rows), f"{m.object_id}: the comment does not cite the evidence"


def test_map_shows_each_code_with_its_codes_csv_status(codes_csv, capsys):
    """``spinekg map`` prints a code's verification status beside it, in every format (a code is never shown
    without it: non-negotiable 2), and the status is the one codes.csv gives the code."""
    status = {(r["system"], r["code"]): r["status"] for r in codes_csv}
    seen = set()
    for m in all_mappings():
        system, code = split_curie(m.object_id)
        assert m.status == status[(CSV_SYSTEM[system.prefix], system.notation(code))], m.object_id
        seen.add(m.status)
    assert seen == {"verified", "corroborated"}  # both kinds are shown, so the test reads both
    assert cli_map(SimpleNamespace(code_or_term="LOINC:1988-5", format="text")) == 0
    assert "[LOINC; codes.csv: corroborated]" in capsys.readouterr().out.splitlines()[0]
    assert cli_map(SimpleNamespace(code_or_term="numbness", format="text")) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert lines and all(line.endswith("[codes.csv: verified]") for line in lines), lines
    assert cli_map(SimpleNamespace(code_or_term="CReactiveProtein", format="json")) == 0
    rows = json.loads(capsys.readouterr().out)[0]["mappings"]
    assert rows and {r["status"] for r in rows} == {"corroborated"}
    assert cli_map(SimpleNamespace(code_or_term="numbness", format="tsv")) == 0
    header, *body = (line.split("\t") for line in capsys.readouterr().out.splitlines())
    assert body and all(row[header.index("status")] == "verified" for row in body)


def test_no_unverified_or_rejected_code_is_mapped(codes_csv):
    mapped = {m.object_id for m in all_mappings()}
    for r in codes_csv:
        prefix = next((p for p, name in CSV_SYSTEM.items() if name == r["system"]), None)
        if prefix is None or r["status"] in ("verified", "corroborated"):
            continue
        assert f"{prefix}:{r['code'].removeprefix(prefix + ':')}" not in mapped, r


def test_non_leaf_icd10cm_codes_are_mapped_broad(codes_csv):
    parents = {r["code"] for r in codes_csv if r["system"] == "ICD-10-CM" and "NON-BILLABLE" in r["display"]}
    assert parents == {"M51.36", "M51.37"}
    rows = [m for m in all_mappings() if m.object_id.removeprefix("ICD10CM:") in parents]
    assert len(rows) == 2 and {m.predicate_id for m in rows} == {"skos:broadMatch"}


def test_subjects_are_kb_terms_with_their_kb_labels(kb_graph):
    for m in all_mappings():
        assert kb_graph.value(m.subject, RDFS.label) == Literal(m.subject_label), m.subject_id


def test_a_code_resolves_to_at_most_one_term_of_a_case_field():
    vocab = vocabulary()
    fields = ("symptom_types", "imaging_finding_types", "risk_factors", "interventions", "body_regions", "levels")
    for code in {m.object_id for m in all_mappings()}:
        terms = set(resolve(code).terms)
        for name in fields:
            assert len(terms & set(getattr(vocab, name).values())) <= 1, (code, name)


# --- SKOS in the knowledge base ------------------------------------------------------------------------------


def test_every_mapping_is_a_skos_triple_of_the_kb(kb_graph):
    rows = all_mappings()
    for m in rows:
        system, code = split_curie(m.object_id)
        assert (m.subject, m.predicate, m.object) in kb_graph, m
        notation = kb_graph.value(m.object, SKOS.notation)
        assert notation == Literal(system.notation(code)) and notation.datatype is None
        assert (m.object, SKOS.inScheme, URIRef(system.scheme)) in kb_graph
        assert kb_graph.value(m.object, SKOS.prefLabel) == Literal(m.object_label)
    skos = {
        (s, p, o) for s, p, o in kb_graph if p in (SKOS.exactMatch, SKOS.narrowMatch, SKOS.broadMatch, SKOS.closeMatch)
    }
    assert skos == {(m.subject, m.predicate, m.object) for m in rows}


def test_the_term_mappings_query_answers_every_mapping():
    table = queries.run("term-mappings", {"mapped": "true"})
    got = {(r[1], r[4], r[5], r[6]) for r in table.rows}
    want = {
        (
            str(m.subject),
            str(m.predicate),
            str(m.object),
            split_curie(m.object_id)[0].notation(split_curie(m.object_id)[1]),
        )
        for m in all_mappings()
    }
    assert got == want
    unmapped = {r[1] for r in queries.run("term-mappings", {}).rows}
    assert str(URIRef("https://w3id.org/spinekg/bed_rest")) in unmapped
    assert not unmapped & {str(m.subject) for m in all_mappings()}
    assert all(t.startswith("https://w3id.org/spinekg/") for t in unmapped), "codes are not terms"


def test_kb_version_digests_the_mapping_sets(tmp_path):
    copy = tmp_path / "ontology"
    shutil.copytree(kb.ONTOLOGY_DIR, copy)
    before = kb.kb_version(copy)
    assert before == kb.kb_version()
    path = copy / "mappings" / PATHS[0].name
    path.write_text(path.read_text(encoding="utf-8").replace("Buttock", "Buttocks"), encoding="utf-8")
    assert kb.kb_version(copy) != before


def test_skos_graph_declares_the_skos_properties_for_owl():
    from rdflib.namespace import OWL, RDF

    g = skos_graph(mapping_sets())
    for prop in (SKOS.exactMatch, SKOS.narrowMatch, SKOS.broadMatch, SKOS.closeMatch, SKOS.inScheme):
        assert (prop, RDF.type, OWL.AnnotationProperty) in g


# --- lookup both ways ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["SCTID:26538006", "26538006", "http://snomed.info/id/26538006"], ids=["curie", "bare", "iri"]
)
def test_lookup_a_code(text):
    (answer,) = lookup(text)
    assert answer.kind == "code" and answer.key == "SCTID:26538006"
    assert [(m.term, m.relation, m.resolves) for m in answer.mappings] == [
        ("degenerative_disc_disease", "narrow", True)
    ]


@pytest.mark.parametrize("text", ["fever", "sk:fever", "https://w3id.org/spinekg/fever"])
def test_lookup_a_term(text):
    (answer,) = lookup(text)
    assert answer.kind == "term" and answer.key == "fever"
    assert sorted(m.object_id for m in answer.mappings) == ["HP:0001945", "ICD10CM:R50.9", "SCTID:386661006"]


def test_lookup_both_ways_agree():
    for m in all_mappings():
        assert m in lookup(m.object_id)[0].mappings
        assert m in next(a for a in lookup(m.subject_id) if a.kind == "term").mappings


def test_a_code_used_by_two_terms_names_both():
    (answer,) = lookup("ICD10CM:M47.816")
    assert {(m.term, m.relation) for m in answer.mappings} == {
        ("spondylosis", "narrow"),
        ("facet_arthropathy", "broad"),
    }
    assert [str(t) for t in resolve("ICD10CM:M47.816").terms] == ["https://w3id.org/spinekg/spondylosis"]


def run_map(spinekg, text, fmt="text"):
    ran = spinekg("map", text, "--format", fmt)
    return ran.returncode, ran.stdout, ran.stderr


def test_map_command_text(spinekg):
    status, out, err = run_map(spinekg, "ICD10CM:M51.36")
    assert status == 0 and not err
    assert "skos:broadMatch" in out and "sk:degenerative_disc_disease" in out and "does not stand for it" in out


def test_map_command_json_keeps_codes_as_strings(spinekg):
    status, out, _ = run_map(spinekg, "sk:degenerative_disc_disease", "json")
    (answer,) = json.loads(out)
    assert status == 0 and answer["kind"] == "term"
    objects = {m["object_id"]: m for m in answer["mappings"]}
    assert objects["SCTID:26538006"]["resolves"] is True and objects["ICD10CM:M51.36"]["resolves"] is False


def test_map_command_tsv(spinekg):
    status, out, _ = run_map(spinekg, "urinary_retention", "tsv")
    lines = out.splitlines()
    assert lines[0].split("\t")[:4] == ["subject_id", "subject_label", "predicate_id", "object_id"]
    assert {line.split("\t")[3] for line in lines[1:]} == {"SCTID:267064002", "ICD10CM:R33.9", "HP:0000016"}


@pytest.mark.parametrize(
    "text,status,says",
    [
        ("bed_rest", 1, "no mapping"),
        ("SCTID:22298006", 1, "no mapping to a spinekg term"),
        ("SCTID:22298007", 2, "Verhoeff"),
        ("LOINC:30797-1", 2, "mod-10"),
        ("no_such_term", 2, "neither a spinekg term nor a code"),
    ],
)
def test_map_command_exit_status(spinekg, text, status, says):
    got, out, err = run_map(spinekg, text)
    assert got == status and says in out + err
    if status == 2:
        assert not out


# --- the README ----------------------------------------------------------------------------------------------


def test_readme_counts_are_the_files_counts():
    text = README.read_text(encoding="utf-8")
    rows = {r[1]: r for r in re.findall(r"^\| ([^|]+) \| `([^`]+\.sssom\.tsv)` \|(.*)\|$", text, re.M)}
    assert sorted(rows) == sorted(p.name for p in PATHS)
    for s in mapping_sets():
        numbers = [int(x) for x in rows[s.path.name][2].split("|")]
        relations = Counter(m.relation for m in s.mappings)
        want = [len(s.mappings), *(relations[r] for r in ("exact", "narrow", "broad", "close"))]
        want += [len({m.term for m in s.mappings}), len({m.object_id for m in s.mappings})]
        assert numbers == want, s.path.name
    total = re.search(r"^\| \*\*all\*\* \| 9 files \| \*\*(\d+)\*\* \|", text, re.M)
    assert total and int(total[1]) == len(all_mappings())


def test_readme_says_why_each_verified_row_left_out_is_not_mapped(codes_csv):
    text = README.read_text(encoding="utf-8").split("## Rows of codes.csv that are not mapped")[1]
    mapped = {m.object_id.split(":", 1)[1] for m in all_mappings()} | {m.object_id for m in all_mappings()}
    left = [r for r in codes_csv if r["status"] in ("verified", "corroborated") and r["code"] not in mapped]
    assert len(left) > 10
    for r in left:
        assert r["code"] in text, f"{r['system']} {r['code']} is neither mapped nor listed as left out"
