"""Issue 13 regressions, inputs: RDF cases that cannot hang, and every limit the same in every case format.

Each test is one reported problem, run through the library and, where the problem could hang the process, in a
subprocess with a bound against hangs (not a speed test); at least once each through the command line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from reasoner.case.files import BOM, MAX_BYTES, MAX_DIGITS, MAX_NUMBER_CHARS, MAX_WEEKS, load_case, loads
from reasoner.case.spec import json_schema
from reasoner.cli import main
from reasoner.errors import CaseError

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "issue13"
#: A bound against hangs: the reported inputs ran for minutes (2 GB after 20 s); a refusal takes about a second.
HANG_BOUND_S = 60
XSD = "http://www.w3.org/2001/XMLSchema#"
LIBRARY = """import json, sys
from reasoner.case.files import load_case
from reasoner.errors import CaseError
try:
    load_case(sys.argv[1])
except CaseError as exc:
    print(json.dumps([[p.path, str(p.value), p.message] for p in exc.problems]))
    sys.exit(2)
"""
TURTLE = """@prefix sk: <https://w3id.org/spinekg/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<https://w3id.org/spinekg/case/t> a sk:Case ; dcterms:identifier "t" ; sk:patient <https://w3id.org/spinekg/case/t/p> .
<https://w3id.org/spinekg/case/t/p> a sk:Patient ; sk:age {age} .
"""


def library(path: Path) -> list[list[str]]:
    """The problems ``load_case`` finds, read in a subprocess that must end within the bound."""
    out = subprocess.run(
        [sys.executable, "-c", LIBRARY, str(path)], capture_output=True, text=True, cwd=ROOT, timeout=HANG_BOUND_S
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr, (out.returncode, out.stderr[-2000:])
    return json.loads(out.stdout)


def command_line(path: Path) -> str:
    """``spinekg recommend FILE`` in a subprocess that must end within the bound: exit 2, its stderr."""
    out = subprocess.run(
        [sys.executable, "-m", "reasoner", "recommend", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=HANG_BOUND_S,
    )
    assert out.returncode == 2 and out.stdout == "" and "Traceback" not in out.stderr, (out.returncode, out.stderr)
    return out.stderr


def problems(call) -> list[str]:
    with pytest.raises(CaseError) as caught:
        call()
    assert caught.value.exit_code == 2
    return [str(p) for p in caught.value.problems]


# --- item 3: typed literals bounded before conversion, XML/HTML literals refused ---------------------------------


@pytest.mark.parametrize("name", ["age-1e999999999.ttl", "age-1e999999999.jsonld"])
def test_issue13_a_decimal_with_a_huge_exponent_is_refused_not_expanded(name):
    """``"1E999999999"^^xsd:decimal`` became a Python int of a billion digits (2 GB after 20 s)."""
    assert (DATA / name).stat().st_size < 600
    (found,) = library(DATA / name)
    assert found == [
        "age",
        '"1E999999999"^^xsd:decimal',
        "is not a valid xsd:decimal (digits with an optional point, no exponent)",
    ]
    assert "age: '\"1E999999999\"^^xsd:decimal' is not a valid xsd:decimal" in command_line(DATA / name)


HUGE = {
    "decimal": "9" * 100_000,
    "double": "9" * 100_000 + "E9",
    "float": "1" * 100_000,
    "integer": "9" * 100_000,
    "int": "1" * 100_000,
    "long": "-" + "1" * 100_000,
    "nonNegativeInteger": "9" * 100_000,
    "unsignedByte": "9" * 100_000,
    "date": "2020-01-01" + "9" * 100_000,
    "dateTime": "2020-01-01T00:00:00" + "9" * 100_000,
    "time": "10:00:00." + "9" * 100_000,
    "duration": "P" + "9" * 100_000 + "D",
    "gYear": "9" * 100_000,
    "boolean": "t" * 100_000,
    "base64Binary": "QUJD" * 25_000,
    "hexBinary": "0F" * 50_000,
}


@pytest.mark.parametrize("datatype", sorted(HUGE))
def test_issue13_a_huge_lexical_form_of_any_xsd_type_is_refused_by_its_length(datatype, tmp_path, caplog):
    path = tmp_path / "huge.ttl"
    path.write_text(TURTLE.format(age=f'"{HUGE[datatype]}"^^<{XSD}{datatype}>'), encoding="utf-8")
    (line,) = problems(lambda: load_case(path))
    numeric = datatype in ("decimal", "double", "float", "integer", "int", "long", "nonNegativeInteger", "unsignedByte")
    assert line.startswith("age: ") and f"characters (at most {MAX_NUMBER_CHARS if numeric else 200} are read)" in line
    assert not [r for r in caplog.records if r.name.startswith("rdflib")], "rdflib converted (and logged) the literal"


def test_issue13_a_number_of_an_rdf_case_has_the_digit_limit_of_yaml_and_json_and_any_float_fits():
    assert MAX_NUMBER_CHARS == MAX_DIGITS
    doc = {"id": "tiny", "symptoms": [{"type": "axial_pain", "duration_weeks": 5e-324}], "labs": {"crp_mg_l": 1.7e308}}
    from reasoner.case.validate import case_graph, parse_case

    text = case_graph(parse_case(doc)).serialize(format="turtle")
    data = loads_rdf(text)  # read back, not refused by the length of "0.000…05"
    assert data["symptoms"][0]["duration_weeks"] == 5e-324 and float(data["labs"]["crp_mg_l"]) == 1.7e308


def loads_rdf(text: str) -> dict:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.ttl"
        path.write_text(text, encoding="utf-8")
        return load_case(path).data


def test_issue13_an_html_literal_of_50000_nested_tags_is_refused_before_it_is_parsed(tmp_path):
    """A 150 KB ``rdf:HTML`` literal hung past 35 s in rdflib's HTML parser."""
    path = tmp_path / "html.ttl"
    literal = "<b>" * 50_000
    path.write_text(TURTLE.format(age=f'"{literal}"^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#HTML>'))
    assert path.stat().st_size > 150_000
    (found,) = library(path)
    assert found[0] == "age" and found[2] == "is an rdf:HTML literal (XML and HTML literals are not read in a case)"
    assert "age: '\"<b><b>" in command_line(path)


@pytest.mark.parametrize(
    "name,expected",
    [
        ("xml-literal-on-a-field.ttl", "age: '\"<b>45\"^^rdf:XMLLiteral' is an rdf:XMLLiteral literal"),
        ("xml-literal-off-the-case.ttl", ": '\"<p>unclosed\"^^rdf:HTML' is an rdf:HTML literal"),
    ],
)
def test_issue13_a_small_xml_or_html_literal_exits_2_without_a_traceback(name, expected, capsys):
    """A small one printed an rdflib traceback and still exited 0 when it was not on a field of the case."""
    assert main(["recommend", str(DATA / name)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert any(expected in line for line in problems(lambda: load_case(DATA / name)))


# --- item 9: the same limits in every format ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["duration-1e308.yaml", "duration-1e308.json", "duration-1e308.ttl", "duration-1e308.jsonld"]
)
def test_issue13_a_duration_of_1e308_weeks_is_refused_in_every_format(name):
    expected = f"symptoms[0].duration_weeks: 1e+308 is out of range (must be from 0 to {MAX_WEEKS})"
    assert problems(lambda: load_case(DATA / name)) == [expected]


def test_issue13_a_duration_of_1e308_weeks_is_refused_in_a_json_lines_line_and_on_the_command_line(capsys):
    line = (DATA / "duration-1e308.json").read_text(encoding="utf-8").strip()
    assert problems(lambda: loads(line, "json", "cohort.jsonl:1")) == [
        f"symptoms[0].duration_weeks: 1e+308 is out of range (must be from 0 to {MAX_WEEKS})"
    ]
    assert main(["recommend", str(DATA / "duration-1e308.yaml")]) == 2
    assert "symptoms[0].duration_weeks: 1e+308 is out of range" in capsys.readouterr().err


def test_issue13_the_schema_states_the_bound_of_every_duration():
    schema = json_schema()
    symptom = schema["properties"]["symptoms"]["items"]["properties"]
    study = schema["properties"]["imaging"]["items"]["properties"]
    treatment = schema["properties"]["prior_treatments"]["items"]["properties"]
    for field in (symptom["duration_weeks"], study["weeks_ago"], treatment["weeks"]):
        assert field["maximum"] == MAX_WEEKS and "100 years" in field["description"]
    doc = json.loads((DATA / "duration-1e308.json").read_text(encoding="utf-8"))
    assert not jsonschema.Draft202012Validator(schema).is_valid(doc)


def test_issue13_a_fhir_onset_in_year_1_is_refused_at_its_fhir_path(capsys):
    """An onset in 0001 gave a duration of about 105,000 weeks."""
    name = DATA / "fhir-onset-year-1.json"
    expected = "entry[1].resource.onsetDateTime: '0001-01-01' is before 1900 (the earliest date a case may give)"
    assert problems(lambda: load_case(name)) == [expected]
    assert main(["recommend", str(name)]) == 2
    assert expected in capsys.readouterr().err


def test_issue13_a_duration_longer_than_the_patient_has_lived_is_refused():
    text = '{"id": "life", "age": 30, "symptoms": [{"type": "axial_pain", "duration_weeks": 2000}]}'
    (line,) = problems(lambda: loads(text))
    assert line == "symptoms[0].duration_weeks: 2000 is longer than the patient has lived (age 30: 1618 weeks)"
    assert loads(text.replace("2000", "1600")).data["symptoms"][0]["duration_weeks"] == 1600


@pytest.mark.parametrize("name", ["risk-factors-twice.yaml", "risk-factors-twice.json"])
def test_issue13_a_risk_factor_listed_twice_is_refused_like_a_dermatome(name, capsys):
    expected = "risk_factors[1]: 'fever' is listed twice (first at risk_factors[0])"
    assert problems(lambda: load_case(DATA / name)) == [expected]
    assert main(["recommend", str(DATA / name)]) == 2
    assert expected in capsys.readouterr().err
    assert json_schema()["properties"]["risk_factors"]["uniqueItems"] is True


CASE = {"id": "bom", "age": 50, "symptoms": [{"type": "radicular_pain", "dermatomes": ["L5"], "laterality": "left"}]}


@pytest.mark.parametrize("fmt", ["yaml", "json", "ttl", "jsonld"])
def test_issue13_a_byte_order_mark_is_skipped_the_same_way_in_every_format(fmt, tmp_path):
    """A leading BOM was accepted in YAML and refused in JSON: editors write one, so it is skipped everywhere."""
    from reasoner.case.validate import case_graph, parse_case

    text = {
        "yaml": "id: bom\nage: 50\nsymptoms:\n  - {type: radicular_pain, dermatomes: [L5], laterality: left}\n",
        "json": json.dumps(CASE),
    }.get(fmt) or case_graph(parse_case(CASE)).serialize(format={"ttl": "turtle", "jsonld": "json-ld"}[fmt])
    path = tmp_path / f"case.{fmt}"
    path.write_bytes(BOM.encode() + text.encode())
    assert load_case(path).data == CASE
    if fmt == "json":  # a JSON Lines line: the same
        assert loads(BOM + text).data == CASE


def test_issue13_a_json_lines_line_over_1_mb_is_refused_like_a_case_file():
    line = json.dumps(CASE)[:-1] + " " * (2 * MAX_BYTES) + "}"
    assert loads(json.dumps(CASE)).data == CASE
    assert problems(lambda: loads(line, "json", "cohort.jsonl:1")) == [
        f": 'cohort.jsonl:1' is larger than the {MAX_BYTES / 1e6:g} MB limit of a case"
    ]


# --- item 8, the input half: a case file that is not a regular file ---------------------------------------------


def test_issue13_a_fifo_given_as_the_case_is_refused_without_blocking(tmp_path):
    """A FIFO given as the case blocked forever (waiting for a writer)."""
    fifo = tmp_path / "case.yaml"
    os.mkfifo(fifo)
    assert library(fifo) == [["", str(fifo), "is not a regular file (a FIFO)"]]
    assert f"{fifo} is not a regular file (a FIFO)" in command_line(fifo).replace("'", "")


@pytest.mark.parametrize("kind", ["directory", "device"])
def test_issue13_a_directory_or_device_given_as_the_case_is_refused(kind, tmp_path, capsys):
    path = tmp_path / "case.yaml"
    if kind == "directory":
        path.mkdir()
    else:
        path.symlink_to("/dev/zero")
    noun = "a directory" if kind == "directory" else "a character device"
    assert problems(lambda: load_case(path)) == [f": '{path}' is not a regular file ({noun})"]
    assert main(["recommend", str(path)]) == 2
    assert "is not a regular file" in capsys.readouterr().err
