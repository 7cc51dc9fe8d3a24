"""Review I2: a rejected case's red flags survive one bad field. An entry with a bad field is kept with that field
(or that list member) left out, when what remains cannot say more than the record did; never coerced. The rejection
stays (exit 2, every problem named, no plan); the red flags are reported beside it, in recommend and in cohort."""

from __future__ import annotations

import csv
import io

import pytest

from reasoner.cli import main
from reasoner.cohort.run import run_cohort

CES = "RED FLAG despite the rejection: suspected cauda equina syndrome"

FLAGGED = {
    # s2: one bad dermatome of a bilateral numbness; S3 is kept, S9 left out
    "bad-dermatome": (
        "id: s2\nsymptoms:\n  - {type: numbness, dermatomes: [S3, S9], laterality: bilateral}\n",
        "symptoms[0].dermatomes[1]: 'S9' is not a dermatome",
        "from symptoms[0] without its rejected symptoms[0].dermatomes[1]",
    ),
    # s3: a saddle numbness recorded with a wrong duration is still a saddle numbness (the -1 is left out, not clamped)
    "bad-duration": (
        "id: s3\nsymptoms:\n  - {type: numbness, body_regions: [saddle_region], laterality: bilateral,"
        " duration_weeks: -1}\n",
        "symptoms[0].duration_weeks: -1 is out of range",
        "from symptoms[0] without its rejected symptoms[0].duration_weeks",
    ),
    # seed 000 with one dermatome mistyped
    "seed-000-mistyped": (
        "id: c000\nsymptoms:\n  - {type: numbness, laterality: bilateral, body_regions: [buttock],"
        " dermatomes: [S9, S3, L2, L3]}\nimaging:\n  - {modality: CT, weeks_ago: 0, findings: [{type: disc_bulge,"
        " level: L1-L2}]}\n",
        "symptoms[0].dermatomes[0]: 'S9' is not a dermatome",
        "from symptoms[0] without its rejected symptoms[0].dermatomes[0]",
    ),
    # a bad study field takes only that field: the study's findings are kept
    "bad-study-field": (
        "id: st\nage: 80\nimaging:\n  - {modality: CTT, findings: [{type: vertebral_height_loss, level: L2,"
        " new: true}]}\n",
        "imaging[0].modality: 'CTT'",
        "RED FLAG despite the rejection: suspected vertebral fracture (from imaging[0].findings[0])",
    ),
}

SILENT = {
    # an absence with a bad sibling field goes whole: left without the duration it would still be an absence, but an
    # absence is never turned into a finding
    "absent-with-bad-duration": "  - {type: urinary_retention, present: false, progressive: maybe}\n",
    "present-unreadable": "  - {type: urinary_retention, present: 'no'}\n",
    # a misspelt severity none, or a misspelt present: false, is not left out into a present finding
    "severity-misspelt": "  - {type: urinary_retention, severity: nil}\n",
    "present-misspelt": "  - {type: urinary_retention, presnt: false}\n",
    # without a duration a retention is new: its bad duration takes the entry with it
    "retention-bad-duration": "  - {type: urinary_retention, duration_weeks: -1}\n",
    # a radicular pain with no place left would be read as lumbosacral, and bilateral: bilateral sciatica
    "radicular-place-emptied": "  - {type: radicular_pain, dermatomes: [C9], laterality: bilateral}\n",
    # a bad place could have been one above L1 (then not lumbosacral): the entry goes even with L5 left
    "radicular-place-partial": "  - {type: radicular_pain, dermatomes: [L5, C9], laterality: bilateral}\n",
    # a weakness at no place is of the legs: with one on the other side, bilateral leg weakness
    "weakness-place-emptied": "  - {type: weakness, dermatomes: [X9], laterality: left}\n"
    "  - {type: weakness, dermatomes: [L5], laterality: right}\n",
}


def recommend(tmp_path, capsys, text: str):
    case = tmp_path / "case.yaml"
    case.write_text(text, encoding="utf-8")
    status = main(["recommend", str(case), "--format", "json"])
    return status, capsys.readouterr()


@pytest.mark.parametrize("text,problem,fact", FLAGGED.values(), ids=FLAGGED.keys())
def test_a_bad_field_is_left_out_and_the_red_flag_reported_beside_the_rejection(tmp_path, capsys, text, problem, fact):
    status, out = recommend(tmp_path, capsys, text)
    assert status == 2 and out.out == ""
    assert problem in out.err
    assert "RED FLAG despite the rejection: " in out.err and fact in out.err


@pytest.mark.parametrize("entries", SILENT.values(), ids=SILENT.keys())
def test_a_field_whose_absence_would_raise_a_red_flag_takes_its_entry_with_it(tmp_path, capsys, entries):
    status, out = recommend(tmp_path, capsys, "id: q\nsymptoms:\n" + entries)
    assert status == 2 and out.out == ""
    assert "RED FLAG" not in out.err


def test_a_rejected_cohort_file_keeps_its_id_and_reports_its_red_flags(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "zz-bad.yaml").write_text(
        'id: bad1\nage: "45"\nsymptoms:\n  - {type: radicular_pain, dermatomes: [L9], laterality: lefty}\n'
        "  - {type: urinary_retention}\n",
        encoding="utf-8",
    )
    (folder / "s3.yaml").write_text(FLAGGED["bad-duration"][0], encoding="utf-8")
    errors = io.StringIO()
    summary = tmp_path / "summary.csv"
    stats = run_cohort(folder, tmp_path / "plans.jsonl", summary=summary, errors=errors, progress=False)
    assert stats.rejected == 2 and stats.planned == 0
    rows = {r["source"]: r for r in csv.DictReader(summary.open(encoding="utf-8"))}
    assert rows["zz-bad.yaml"]["case"] == "bad1" and rows["s3.yaml"]["case"] == "s3"
    assert {r["red_flags"] for r in rows.values()} == {"cauda_equina_syndrome_suspected"}
    assert "RED FLAG" not in rows["s3.yaml"]["problems"]  # the problems column holds the problems
    err = errors.getvalue()
    assert f"zz-bad.yaml: {CES} (from symptoms[1])" in err
    assert f"s3.yaml: {CES} (from symptoms[0] without its rejected symptoms[0].duration_weeks)" in err
