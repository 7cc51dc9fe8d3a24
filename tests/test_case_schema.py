"""The case JSON Schema is generated from the KB, committed, and agrees with the reader.

Set SPINEKG_REGENERATE=1 to rewrite reasoner/case/schema/case.schema.json from the KB (then review the diff).
"""

from __future__ import annotations

import json
import os

import jsonschema
import pytest
import yaml

from reasoner.case.files import _YamlLoader
from reasoner.case.model import SCHEMA_PATH
from reasoner.case.spec import json_schema
from reasoner.consts import PREFIXES, RDF, SK

from constants import DATA, EXAMPLE_CASES

BAD = DATA / "cases" / "bad"
#: Bad inputs the schema cannot refuse, and why; every other bad mapping must fail the schema too.
BEYOND_SCHEMA = {
    "contradictory-imaging.yaml": "present and absent at once is a relation between entries",
    "contradictory-symptom.yaml": "present and absent at once is a relation between entries",
    "contradictory-sides-and-absences.yaml": "a side against a region or type, a severity or duration against present: "
    "false, are relations between fields the schema does not state",
    "duplicate-key.yaml": "the parsed document has no duplicate left (the last value won)",
    "duplicate-key.json": "the parsed document has no duplicate left (the last value won)",
    "age-nan.yaml": "NaN compares false with both bounds",
    "age-nan.json": "NaN compares false with both bounds",
    "id-trailing-newline.yaml": "Python's re.search lets '$' match before a final newline",
    "yaml-alias.yaml": "the reader refuses anchors and aliases; the parsed document has none left",
}


@pytest.fixture(scope="module")
def schema():
    return json_schema()


def test_committed_schema_is_the_generated_one(schema):
    if os.environ.get("SPINEKG_REGENERATE"):
        SCHEMA_PATH.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    committed = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert committed == schema, "regenerate with: SPINEKG_REGENERATE=1 pytest tests/test_case_schema.py"


def test_schema_is_a_valid_draft_2020_12_schema(schema):
    jsonschema.Draft202012Validator.check_schema(schema)


def notations(kb, query):
    return sorted(str(row.n) for row in kb.query(query, initNs=PREFIXES))


def classes_under(*kinds):
    values = " ".join(f"sk:{k}" for k in kinds)
    return f"SELECT DISTINCT ?n WHERE {{ VALUES ?k {{ {values} }} ?c rdfs:subClassOf* ?k ; skos:notation ?n }}"


def members(cls):
    return f"SELECT DISTINCT ?n WHERE {{ ?x a sk:{cls} ; skos:notation ?n }}"


def test_schema_enums_are_the_kb_vocabulary(schema, kb_graph):
    enums = {name: d["enum"] for name, d in schema["$defs"].items()}
    assert enums["symptom_types"] == notations(kb_graph, classes_under("Symptom", "ClinicalFinding"))
    assert enums["imaging_finding_types"] == notations(kb_graph, classes_under("ImagingFinding"))
    assert enums["risk_factors"] == notations(kb_graph, classes_under("RiskFactor"))
    assert enums["interventions"] == notations(kb_graph, classes_under("Intervention"))
    assert enums["dermatomes"] == notations(kb_graph, members("Dermatome"))
    assert enums["body_regions"] == notations(kb_graph, members("BodyRegion"))
    levels = notations(kb_graph, members("DiscLevel")) + notations(kb_graph, members("SpinalLevel"))
    assert sorted(enums["levels"]) == sorted(levels)
    for name, cls in [("laterality", "Laterality"), ("severity", "Severity"), ("modality", "Modality")]:
        local = {str(x).removeprefix(str(SK)) for x in kb_graph.subjects(RDF.type, SK[cls])}
        assert len(enums[name]) == len(local) and set(enums[name]) - local <= {"none"}, name
    assert enums["sex"] == ["female", "male", "other", "unknown"]
    assert enums["outcome"] == ["failed", "improved", "not_tolerated", "partial_improvement", "unchanged", "worse"]
    assert enums["zone"] == ["central", "extraforaminal", "foraminal", "paracentral", "subarticular"]
    assert enums["screen_result"] == ["found", "none_found"]
    assert enums["vitals"] == ["temperature_c"] and enums["labs"] == ["crp_mg_l", "esr_mm_h", "wbc_10e9_l"]
    assert enums["candidacy"] == ["injection", "surgery"]
    assert "L4-5" not in enums["levels"] and "L9" not in enums["dermatomes"]


@pytest.mark.parametrize("example", EXAMPLE_CASES, ids=lambda p: p.stem)
def test_example_is_valid_against_the_schema(example, schema):
    jsonschema.validate(yaml.load(example.read_text(encoding="utf-8"), Loader=_YamlLoader), schema)


def bad_mappings():
    out = []
    for path in sorted(BAD.glob("*.yaml")) + sorted(BAD.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        try:
            data = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_YamlLoader)
        except (ValueError, yaml.YAMLError):
            continue
        if isinstance(data, dict):
            out.append(pytest.param(path.name, data, id=path.name))
    return out


@pytest.mark.parametrize("name,data", bad_mappings())
def test_schema_refuses_what_the_reader_refuses(name, data, schema):
    valid = jsonschema.Draft202012Validator(schema).is_valid(data)
    assert valid == (name in BEYOND_SCHEMA), BEYOND_SCHEMA.get(name, "the schema accepts a case the reader refuses")
