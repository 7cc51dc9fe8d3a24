"""Code checks: SNOMED CT Verhoeff check digit on real ids, LOINC mod-10, ICD-10-CM form, CURIEs and code IRIs."""

from __future__ import annotations

import csv

import pytest

from reasoner.kb import codes as codes
from reasoner.kb.codes import (
    SYSTEMS,
    code_problem,
    curie_of_iri,
    icd10cm_problem,
    loinc_valid,
    split_curie,
    verhoeff_valid,
)

from constants import REFERENCE

#: Real SNOMED CT ids (the reference README: test with these, not only the textbook vector).
REAL_SCTIDS = ["138875005", "404684003", "71388002"]


def codes_csv(system: str) -> list[dict]:
    with open(REFERENCE / "codes.csv", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["system"] == system]


def one_digit_changes(code: str):
    for i, ch in enumerate(code):
        for d in "0123456789":
            if d != ch:
                yield code[:i] + d + code[i + 1 :]


@pytest.mark.parametrize("sctid", REAL_SCTIDS)
def test_verhoeff_accepts_real_snomed_ids(sctid):
    assert verhoeff_valid(sctid)
    assert codes.verhoeff_check_digit(sctid[:-1]) == sctid[-1]


@pytest.mark.parametrize("sctid", REAL_SCTIDS)
def test_verhoeff_refuses_every_one_digit_change_of_a_real_id(sctid):
    changed = list(one_digit_changes(sctid))
    assert len(changed) == 9 * len(sctid)
    assert not [c for c in changed if verhoeff_valid(c)]


@pytest.mark.parametrize("sctid", REAL_SCTIDS)
def test_verhoeff_refuses_swapped_neighbours(sctid):
    swaps = {sctid[:i] + sctid[i + 1] + sctid[i] + sctid[i + 2 :] for i in range(len(sctid) - 1)} - {sctid}
    assert swaps and not [s for s in swaps if verhoeff_valid(s)]


def test_verhoeff_agrees_with_every_snomed_row_of_codes_csv():
    rows = [r for r in codes_csv("SNOMED CT") if r["code"].isdigit()]
    assert len(rows) > 50
    for r in rows:
        assert verhoeff_valid(r["code"]) == ("PASS" in r["check_digit"]), r["code"]


@pytest.mark.parametrize("bad", ["", "13887500S", " 138875005", "138875005 ", "-138875005", 138875005, None])
def test_verhoeff_refuses_what_is_not_a_string_of_digits(bad):
    assert not verhoeff_valid(bad)


def test_loinc_mod10_agrees_with_every_loinc_row_of_codes_csv():
    rows = codes_csv("LOINC")
    assert {r["check_digit"] for r in rows} == {"LOINC mod10 PASS", "LOINC mod10 FAIL"}
    for r in rows:
        assert loinc_valid(r["code"]) == (r["check_digit"] == "LOINC mod10 PASS"), r["code"]


@pytest.mark.parametrize("code", ["30679-5", "24968-0", "35934-9"])
def test_loinc_mod10_refuses_one_digit_changes(code):
    number = code[:-2]
    for changed in one_digit_changes(number):
        if changed[0] != "0":
            assert not loinc_valid(f"{changed}-{code[-1]}"), changed
    assert not loinc_valid(number + code[-1])  # no hyphen


def test_icd10cm_form_accepts_every_icd_row_of_codes_csv():
    rows = codes_csv("ICD-10-CM")
    assert len(rows) > 30
    assert [r["code"] for r in rows if icd10cm_problem(r["code"]) is not None] == []


@pytest.mark.parametrize(
    "code,says",
    [
        ("M5136", "dot after its third character (M51.36)"),
        ("m51.36", "capital letters (M51.36)"),
        ("M51.", "not the form"),
        ("M51.36999", "not the form"),
        ("51.36", "not the form"),
        ("MM1.36", "not the form"),
        ("M51 36", "not the form"),
    ],
)
def test_icd10cm_form_refuses_malformed_codes(code, says):
    assert says in icd10cm_problem(code)


def test_snomed_concept_ids_have_a_concept_partition():
    description = "1234501"  # partition 01: a description id, not a concept id
    code = description + codes.verhoeff_check_digit(description)
    assert verhoeff_valid(code)
    assert "partition identifier '01'" in code_problem(f"SCTID:{code}")
    assert code_problem("SCTID:371000119109") is None  # an extension concept: partition 10


@pytest.mark.parametrize(
    "curie,ok",
    [
        ("SCTID:26538006", True),
        ("SCTID:026538006", False),
        ("ICD10CM:M80.08XA", True),
        ("LOINC:30797-1", False),
        ("LOINC:30679-5", True),
        ("HP:0008419", True),
        ("HP:8419", False),
        ("UBERON:0013691", True),
        ("FMA:25245", True),
        ("RXNORM:187832", True),
        ("RXNORM:R187832", False),
        ("ATC:M01AE01", True),
        ("ATC:M01AE1", False),
        ("RPID:RPID541", True),
        ("RPID:541", False),
    ],
)
def test_each_system_checks_its_codes(curie, ok):
    assert (code_problem(curie) is None) == ok


def test_a_curie_needs_a_known_prefix_written_exactly():
    assert split_curie("SCTID:26538006")[0] is SYSTEMS["SCTID"]
    for text in ("sctid:26538006", "SNOMED:26538006", "26538006", "radicular_pain", 26538006, None):
        assert split_curie(text) is None
    assert "not PREFIX:code" in code_problem("SNOMED:26538006")


@pytest.mark.parametrize("prefix", sorted(SYSTEMS))
def test_a_code_iri_gives_back_its_curie(prefix):
    system = SYSTEMS[prefix]
    assert curie_of_iri(system.iri + "X1") == f"{prefix}:X1"
    assert curie_of_iri(system.iri) is None


def test_codes_are_strings_end_to_end():
    system, code = split_curie("HP:0008419")  # as a number, the leading zeros would be lost
    assert code == "0008419" and system.notation(code) == "HP:0008419"
    system, code = split_curie("SCTID:311211000119105")
    assert code == "311211000119105" and isinstance(code, str) and system.problem(code) is None
