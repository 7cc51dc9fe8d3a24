"""FHIR R4 in and out: a Bundle reasons as its YAML case, bad Bundles are refused by FHIR path, plans validate."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from reasoner.api import reason, recommend
from reasoner.case.files import load_case
from reasoner.case.model import CaseError
from reasoner.case.validate import parse_case
from reasoner.fhir.case import bundle_from_case
from reasoner.fhir.codes import EXT, ICD10CM, LOINC, SK_SYSTEM, SNOMED
from reasoner.fhir.read import case_from_bundle
from reasoner.fhir.write import CPG_STRENGTH, TARGET_ELEMENT, plan_bundle
from reasoner.present.text import text as text_plan

from constants import DATA, EXAMPLE_CASES, EXAMPLES, ROOT

SEED000 = EXAMPLES / "000-gluteal-s2-s3-numbness.yaml"
SEED000_FHIR = EXAMPLES / "000-gluteal-s2-s3-numbness.fhir.json"
VALIDATOR = ROOT / "tools" / "fhir-validate"
RECORDED = "2025-01-01T00:00:00Z"


def _seed_bundle() -> dict:
    return json.loads(SEED000_FHIR.read_text(encoding="utf-8"))


def _entry(bundle: dict, kind: str, n: int = 0) -> dict:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind][n]


@pytest.fixture(scope="module")
def results():
    """Every example's reasoning result, reasoned together once."""
    return {r.case.source: r for r in reason(EXAMPLE_CASES)}


@pytest.fixture(scope="module")
def npm_validate():
    """``node tools/fhir-validate/validate.js`` on a Bundle: (exit status, messages). CI must have it."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is not None and npm is not None and not (VALIDATOR / "node_modules" / "fhir").is_dir():
        # the test command installs what it needs: the validator pinned by package-lock.json, from the npm registry
        subprocess.run(
            [npm, "ci", "--prefix", str(VALIDATOR), "--no-audit", "--no-fund", "--silent"], check=False, timeout=600
        )
    if node is None or not (VALIDATOR / "node_modules" / "fhir").is_dir():
        why = "node or tools/fhir-validate/node_modules is missing (npm ci --prefix tools/fhir-validate)"
        if os.environ.get("CI"):
            pytest.fail(f"{why}: CI must install the npm validator")
        pytest.skip(why)

    def run(bundle: dict) -> tuple[int, str]:
        out = subprocess.run(
            [node, str(VALIDATOR / "validate.js")],
            input=json.dumps(bundle),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode in (0, 1), out.stderr
        return out.returncode, out.stdout

    return run


# --- FHIR in -----------------------------------------------------------------------------------------------------


def test_seed_000_bundle_gives_the_same_plan_as_its_yaml_case():
    """Issue 5: the coded Bundle of seed 000's patient, read by load_case, gives the YAML case's plan."""
    from_yaml = recommend(load_case(SEED000)).to_dict()
    from_fhir = recommend(load_case(SEED000_FHIR)).to_dict()
    assert from_fhir == from_yaml
    assert from_fhir["red_flags"][0]["id"] == "cauda_equina_syndrome_suspected"


def test_seed_000_bundle_reads_as_the_yaml_document():
    assert case_from_bundle(_seed_bundle(), str(SEED000_FHIR)) == load_case(SEED000).data


def _codings(node) -> list[dict]:
    if isinstance(node, dict):
        return (node["coding"] if isinstance(node.get("coding"), list) else []) + [
            c for v in node.values() for c in _codings(v)
        ]
    return [c for v in node for c in _codings(v)] if isinstance(node, list) else []


def test_seed_000_bundle_is_coded_with_mapped_external_codes():
    """Each SNOMED CT / ICD-10-CM coding of the example resolves through the SSSOM mappings; the CT has a LOINC code."""
    from reasoner.kb.mappings import resolve

    codings = _codings(_seed_bundle())
    external = [c for c in codings if c["system"] in (SNOMED, ICD10CM)]
    assert {"system": SNOMED, "code": "44077006", "display": "Numbness (finding)"} in external
    assert {"system": SNOMED, "code": "46862004", "display": "Buttock structure"} in external
    for c in external:
        assert resolve(f"{'SCTID' if c['system'] == SNOMED else 'ICD10CM'}:{c['code']}").terms, c
    report = _entry(_seed_bundle(), "DiagnosticReport")
    assert {"system": LOINC, "code": "24963-1", "display": "CT Lumbar spine"} in report["code"]["coding"]


def test_seed_000_coded_by_external_codes_alone_gives_the_same_plan():
    """Without the project's codings where a SNOMED CT / ICD-10-CM one stands: the case reader resolves type codes."""
    bundle = _seed_bundle()
    for e in bundle["entry"]:
        site = e["resource"].get("bodySite", [])
        for cc in [e["resource"].get("code"), *(site if isinstance(site, list) else [site])]:
            if isinstance(cc, dict) and any(c["system"] in (SNOMED, ICD10CM) for c in cc["coding"]):
                cc["coding"] = [c for c in cc["coding"] if c["system"] != SK_SYSTEM]
    doc = case_from_bundle(bundle)
    assert doc["symptoms"][0]["type"] == "SCTID:44077006"
    assert doc["symptoms"][0]["body_regions"] == ["buttock"]  # resolved here: not a type field
    assert doc["imaging"][0]["findings"][3]["level"] == "L4-L5"
    assert doc["imaging"][0]["findings"][15]["type"] == "ICD10CM:M48.26"
    assert recommend(parse_case(doc)).to_dict() == recommend(load_case(SEED000)).to_dict()


@pytest.mark.parametrize("path", EXAMPLE_CASES, ids=lambda p: p.stem)
def test_every_example_round_trips_through_a_bundle(path):
    """case → Bundle → case is the identity: each field the examples use has a FHIR form the reader reads back."""
    doc = load_case(path).data
    bundle = json.loads(json.dumps(bundle_from_case(doc)))
    assert case_from_bundle(bundle) == doc


def test_a_risk_factor_with_no_terminology_code_is_a_condition_coded_by_spinekg_alone():
    """An anticoagulant or antiplatelet drug has no row in codes.csv: its Condition carries spinekg's own code and no
    external one, and reads back as the risk factor (review R3, r3-18)."""
    doc = {"id": "anticoagulated", "age": 64, "risk_factors": ["anticoagulant_or_antiplatelet"]}
    bundle = json.loads(json.dumps(bundle_from_case(doc)))
    [code] = [e["resource"]["code"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition"]
    assert [(c["system"], c["code"]) for c in code["coding"]] == [(SK_SYSTEM, "anticoagulant_or_antiplatelet")]
    assert case_from_bundle(bundle) == doc


def _set(path: str, value):
    """A mutation of the seed Bundle: set the element at a dotted path (``entry[1].resource.code``)."""

    def mutate(b: dict) -> None:
        keys = [int(k) if k.isdigit() else k for k in path.replace("[", ".").replace("]", "").split(".")]
        node = b
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value

    return mutate


def _append(resource: dict):
    return lambda b: b["entry"].append({"resource": resource})


def _subject(resource: dict) -> dict:
    return {**resource, "subject": {"reference": "Patient/000-gluteal-s2-s3-numbness"}}


VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


def _ver(code: str) -> dict:
    return {"coding": [{"system": VER, "code": code}]}


def _sk(code: str) -> dict:
    return {"coding": [{"system": SK_SYSTEM, "code": code}]}


BAD = {
    "unknown-dermatome": (
        _set("entry[1].resource.bodySite[1].coding[0].code", "dermatome_L9"),
        "entry[1].resource.bodySite[1].coding[0].code: 'dermatome_L9' is not a spinekg term",
    ),
    "dermatome-as-condition": (
        _set("entry[1].resource.code", _sk("dermatome_S2")),
        "entry[1].resource.code.coding[0].code: 'dermatome_S2' is a dermatome, "
        "not a risk factor or a symptom type here",
    ),
    "risk-factor-as-body-site": (
        _set("entry[1].resource.bodySite[0]", _sk("fever")),
        "entry[1].resource.bodySite[0].coding[0].code: 'fever' is a risk factor, not a body region or a dermatome here",
    ),
    "dermatome-as-level": (
        _set("entry[2].resource.bodySite", _sk("dermatome_L1")),
        "entry[2].resource.bodySite.coding[0].code: 'dermatome_L1' is a dermatome, not a disc level or a vertebra here",
    ),
    "text-only-code": (
        _set("entry[1].resource.code", {"text": "numbness"}),
        "entry[1].resource.code: 'numbness' has no coding (spinekg reads codes, not text)",
    ),
    "codings-disagree": (
        lambda b: b["entry"][1]["resource"]["code"]["coding"].append({"system": SK_SYSTEM, "code": "paresthesia"}),
        "entry[1].resource.code: ['44077006', 'numbness', 'paresthesia'] has codings for different terms "
        "(symptom_types=numbness, symptom_types=paresthesia)",
    ),
    "snomed-disagrees": (  # 386661006 Fever (finding) next to the project's numbness
        _set("entry[1].resource.code.coding[0]", {"system": SNOMED, "code": "386661006"}),
        "entry[1].resource.code: ['386661006', 'numbness'] has codings for different terms "
        "(risk_factors=fever, symptom_types=numbness)",
    ),
    "snomed-check-digit": (
        _set("entry[1].resource.code.coding[0].code", "44077007"),
        "entry[1].resource.code.coding[0].code: '44077007' is not a valid code: "
        "the Verhoeff check digit of this SNOMED CT id fails",
    ),
    "foreign-system-only": (
        _set("entry[1].resource.code", {"coding": [{"system": "http://example.org/codes", "code": "numb"}]}),
        "entry[1].resource.code: ['http://example.org/codes'] has no coding in a system spinekg reads "
        f"({SK_SYSTEM}, {SNOMED}, http://hl7.org/fhir/sid/icd-10-cm)",
    ),
    "unmapped-snomed": (  # 138875005 is SNOMED CT's root concept: never a case term
        _set("entry[1].resource.code", {"coding": [{"system": SNOMED, "code": "138875005"}]}),
        "entry[1].resource.code.coding[0].code: '138875005' is not mapped to a spinekg term (ontology/mappings)",
    ),
    "rejected-loinc-study": (  # a `rejected` LOINC row of codes.csv: it names another exam
        _set("entry[18].resource.code", {"coding": [{"system": LOINC, "code": "24531-6"}]}),
        "entry[18].resource.code.coding[0].code: '24531-6' is not a lumbar spine study code "
        "(24963-1, 30620-9, 24968-0, 30679-5, 24967-2)",
    ),
    "partial-onset-date": (
        _set("entry[1].resource.onsetDateTime", "2024-12"),
        "entry[1].resource.onsetDateTime: '2024-12' is not a full date (YYYY-MM-DD) or a dateTime with time zone",
    ),
    "onset-after-timestamp": (
        _set("entry[1].resource.onsetDateTime", "2025-02-01"),
        "entry[1].resource.onsetDateTime: '2025-02-01' is after timestamp (2025-01-01T00:00:00Z)",
    ),
    "onset-without-timestamp": (
        lambda b: (b.pop("timestamp"), b["entry"][1]["resource"].update(onsetDateTime="2024-12-01")),
        "timestamp: None is needed to count weeks (entry[1].resource.onsetDateTime gives a date)",
    ),
    "provisional-condition": (
        _set("entry[1].resource.verificationStatus", _ver("provisional")),
        "entry[1].resource.verificationStatus: 'provisional' is not read (confirmed: present, refuted: absent)",
    ),
    "preliminary-finding": (
        _set("entry[2].resource.status", "preliminary"),
        "entry[2].resource.status: 'preliminary' is not a status spinekg reasons on (final, amended, corrected)",
    ),
    "misspelt-extension": (
        _set("entry[1].resource.extension[0].url", EXT + "lateralty"),
        f"entry[1].resource.extension[0].url: '{EXT}lateralty' is not read here "
        "(spinekg reads laterality, progressive, strength-mrc)",
    ),
    "modifier-extension": (
        _set("entry[1].resource.modifierExtension", [{"url": "http://example.org/negated", "valueBoolean": True}]),
        "entry[1].resource.modifierExtension: [{'url': 'http://example.org/negated', 'valueBoolean': True}] "
        "changes the meaning in a way spinekg cannot read",
    ),
    "subject-elsewhere": (
        _set("entry[1].resource.subject.reference", "Patient/someone-else"),
        "entry[1].resource.subject.reference: 'Patient/someone-else' does not point at a Patient in this Bundle",
    ),
    "result-elsewhere": (
        _set("entry[18].resource.result[0].reference", "urn:uuid:nowhere"),
        "entry[18].resource.result[0].reference: 'urn:uuid:nowhere' does not point at an Observation in this Bundle",
    ),
    "second-patient": (
        _append({"resourceType": "Patient", "id": "another"}),
        "entry: '2 Patients' must hold exactly one Patient (the case's patient)",
    ),
    "unread-resource": (
        _append({"resourceType": "Encounter", "status": "finished"}),
        "entry[19].resource.resourceType: 'Encounter' is not read by spinekg "
        "(Patient, Condition, Observation, DiagnosticReport, Procedure)",
    ),
    "refuted-risk-factor": (
        _append(_subject({"resourceType": "Condition", "code": _sk("fever"), "verificationStatus": _ver("refuted")})),
        "entry[19].resource.verificationStatus: 'refuted' cannot be recorded: the case lists risk factors present",
    ),
    "score-not-integer": (
        _append({"resourceType": "Observation", "status": "final", "code": _sk("mjoa_score"), "valueString": "13"}),
        "entry[19].resource.valueInteger: None is needed: a score is an integer",
    ),
    "finding-outside-a-report": (
        lambda b: b["entry"].pop(18),
        "entry[2].resource.code: 'disc_bulge' is an imaging finding: "
        "give it as a result of its study's DiagnosticReport",
    ),
    "bad-patient-id": (  # what the case reader refuses is named by the FHIR path it was read from
        _set("entry[0].resource.id", "a b"),
        "entry[0].resource.id (case field id): 'a b' is not a valid case id "
        "(letters, digits, '.', '_', '-'; at most 128 characters)",
    ),
    "present-and-refuted": (
        _append(
            _subject(
                {
                    "resourceType": "Condition",
                    "code": _sk("numbness"),
                    "verificationStatus": _ver("refuted"),
                    "extension": [{"url": EXT + "laterality", "valueCodeableConcept": _sk("bilateral")}],
                }
            )
        ),
        "entry[19].resource (case field symptoms[1]): 'numbness' contradicts symptoms[0]: "
        "recorded both present and absent (with laterality 'bilateral')",
    ),
    "not-a-bundle": (_set("resourceType", "Patient"), "resourceType: 'Patient' is not Bundle"),
}


@pytest.mark.parametrize("name", BAD)
def test_a_bad_bundle_is_refused_with_its_fhir_path(name):
    mutate, expected = BAD[name]
    bundle = _seed_bundle()
    mutate(bundle)
    with pytest.raises(CaseError) as exc:
        case_from_bundle(bundle, "bad.json")
    assert expected in [str(p) for p in exc.value.problems]
    assert exc.value.exit_code == 2 and exc.value.source == "bad.json"


def test_every_problem_of_a_bundle_is_reported_at_once():
    bundle = _seed_bundle()
    for name in ("unknown-dermatome", "preliminary-finding", "subject-elsewhere"):
        BAD[name][0](bundle)
    with pytest.raises(CaseError) as exc:
        case_from_bundle(bundle)
    assert sorted(str(p) for p in exc.value.problems) == sorted(
        BAD[n][1] for n in ("unknown-dermatome", "preliminary-finding", "subject-elsewhere")
    )


def test_the_bundle_given_is_not_modified():
    bundle = _seed_bundle()
    before = copy.deepcopy(bundle)
    case_from_bundle(bundle)
    assert bundle == before


def test_durations_count_back_from_the_bundle_timestamp():
    doc = {"id": "timed", "age": 58, "symptoms": [{"type": "radicular_pain", "duration_weeks": 0.5}]}
    doc["imaging"] = [{"modality": "MRI", "contrast": False, "weeks_ago": 52, "findings": []}]
    doc["prior_treatments"] = [{"type": "physical_therapy", "weeks": 8, "outcome": "failed"}]
    bundle = bundle_from_case(doc, as_of="2025-06-30T12:00:00Z")
    assert _entry(bundle, "Patient")["birthDate"] == "1967-06-30"
    assert _entry(bundle, "Condition")["onsetDateTime"] == "2025-06-27T00:00:00Z"
    assert _entry(bundle, "DiagnosticReport")["code"]["coding"][-1] == {"system": LOINC, "code": "30679-5"}
    assert _entry(bundle, "Procedure")["performedPeriod"] == {"start": "2025-05-05", "end": "2025-06-30"}
    assert case_from_bundle(bundle) == {**doc, "imaging": [{"modality": "MRI", "contrast": False, "weeks_ago": 52}]}


def test_cli_refuses_a_bad_bundle_with_exit_2_and_the_fhir_path(spinekg, tmp_path):
    bad = _seed_bundle()
    BAD["unknown-dermatome"][0](bad)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    out = spinekg("recommend", path)
    assert out.returncode == 2, out.stderr
    assert out.stdout == ""
    assert BAD["unknown-dermatome"][1] in out.stderr


# --- FHIR out ----------------------------------------------------------------------------------------------------


def _plan(results, path: Path) -> tuple[object, dict]:
    r = results[str(path)]
    return r, plan_bundle(r, r.plan.kb_version, recorded=RECORDED)


def test_plan_bundle_has_one_action_per_step_in_plan_order(results):
    r, b = _plan(results, SEED000)
    actions = _entry(b, "RequestGroup")["action"]
    assert [a["code"][0]["coding"][0]["code"] for a in actions] == [s.id for s in r.plan.steps]
    assert [a["timingTiming"]["code"]["coding"][0]["code"] for a in actions] == [s.phase for s in r.plan.steps]
    stances = [{"system": SK_SYSTEM, "code": s.stance, "display": s.stance} for s in r.plan.steps]
    assert [a["extension"] for a in actions] == [
        [{"url": CPG_STRENGTH, "valueCodeableConcept": {"coding": [c], "text": c["code"]}}] for c in stances
    ]
    assert actions[0]["priority"] == "stat" and r.plan.steps[0].phase == "emergency"
    careplan = _entry(b, "CarePlan")
    assert careplan["activity"][0]["reference"]["reference"] == next(
        e["fullUrl"] for e in b["entry"] if e["resource"]["resourceType"] == "RequestGroup"
    )


def test_an_action_shows_the_step_number_the_text_plan_shows(results):
    """Example 002's conservative care (step 3, after the screen and NICE's risk stratification) has parts: NSAIDs are
    step 3.1 in the text plan, and so in FHIR (the action's prefix, its id, and its Provenance's target), not the 4th
    action's 4."""
    r, b = _plan(results, EXAMPLES / "002-lumbosacral-radiculopathy.yaml")
    actions = _entry(b, "RequestGroup")["action"]
    provenance = [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Provenance"]
    shown = re.findall(r"^ +(\d+(?:\.\d+)?)\. (?:DO NOT|DO|CONSIDER|TEMPER EXPECTATIONS OF) ", text_plan(r.plan), re.M)
    assert "3.1" in shown and [a["prefix"] for a in actions] == shown
    for s, action, prov in zip(r.plan.steps, actions, provenance, strict=True):
        assert action["id"] == f"step-{s.number}"
        assert prov["target"][0]["display"].startswith(f"step {s.number}: ")
    assert actions[3]["prefix"] == "3.1" and actions[3]["code"][0]["coding"][0]["code"] == "nsaid"


def test_the_patient_has_the_case_sex_and_an_action_names_its_phase_once(results):
    """Review I2: the Patient had no gender although the case records a sex, and every action read "(now; now)"."""
    r, b = _plan(results, EXAMPLES / "acute-axial-low-back-pain.yaml")
    assert _entry(b, "Patient")["gender"] == load_case(EXAMPLES / "acute-axial-low-back-pain.yaml").data["sex"]
    _, unsexed = _plan(results, SEED000)  # the article gives no sex: none is made up
    assert "gender" not in _entry(unsexed, "Patient")
    for action in _entry(b, "RequestGroup")["action"]:
        assert not re.search(r"\((\w[\w -]*); \1\)", action["description"]), action["description"]
    later = [s for s in r.plan.steps if s.timing or s.after_weeks is not None]
    for s in later:  # a step with its own timing still says it beside its phase
        action = next(a for a in _entry(b, "RequestGroup")["action"] if a["id"] == f"step-{s.number}")
        assert "; " in action["description"].split(")")[0], action["description"]


def test_every_quote_of_a_step_is_in_its_documentation_and_its_provenance(results):
    r, b = _plan(results, SEED000)
    actions = _entry(b, "RequestGroup")["action"]
    provenance = [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Provenance"]
    assert len(provenance) == len(r.plan.steps)
    for s, action, prov in zip(r.plan.steps, actions, provenance, strict=True):
        cited = [d["citation"] for d in action["documentation"] if d["type"] == "citation"]
        assert [c.split("”")[0][1:] for c in cited] == [e.quote for e in s.evidence]
        assert prov["target"][0]["extension"] == [{"url": TARGET_ELEMENT, "valueUri": f"step-{s.number}"}]
        quoted = [en["what"]["display"] for en in prov["entity"] if en["role"] == "quotation"]
        assert {e.quote for e in s.evidence} <= {q.split("“", 1)[1].rstrip("”") for q in quoted}
        sources = {en["what"]["identifier"]["value"] for en in prov["entity"] if en["role"] == "source"}
        # those it covers and keeps the sentences of are sources too; a routine one an emergency step covers is not
        assert set(s.recommendations) | set(s.backed) | set(s.triggered_by) == sources


def test_the_reasoner_and_kb_version_are_the_provenance_agent(results):
    r, b = _plan(results, SEED000)
    device = next(e for e in b["entry"] if e["resource"]["resourceType"] == "Device")
    assert {"type": {"text": "knowledge base"}, "value": r.plan.kb_version} in device["resource"]["version"]
    for e in b["entry"]:
        if e["resource"]["resourceType"] == "Provenance":
            assert e["resource"]["agent"][0]["who"]["reference"] == device["fullUrl"]
            assert e["resource"]["recorded"] == RECORDED


def test_red_flags_and_warnings_are_detected_issues(results):
    r, b = _plan(results, SEED000)
    issues = [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "DetectedIssue"]
    flags = [i for i in issues if i["severity"] == "high"]
    assert [f["code"]["coding"][0]["code"] for f in flags] == [f.id for f in r.plan.red_flags]
    assert [i["code"]["text"] for i in issues if i["severity"] == "moderate"] == [w.id for w in r.plan.warnings]
    # article 000 did not flag it (article 002, whose radiculopathy recommendations also apply, does): a warning
    assert "suspected cauda equina syndrome" in flags[0]["detail"]
    missed = [i for i in issues if i["code"]["text"] == "source_missed_red_flag"]
    assert missed and "000" in missed[0]["detail"]


def test_an_avoid_step_is_a_do_not_action(results):
    r, b = _plan(results, EXAMPLES / "002-lumbosacral-radiculopathy.yaml")
    pairs = zip(r.plan.steps, _entry(b, "RequestGroup")["action"], strict=True)
    avoid = [(s, a) for s, a in pairs if s.stance == "avoid"]
    assert avoid and all(a["title"] == f"Do not: {s.label}" for s, a in avoid)
    assert all(a["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "avoid" for _, a in avoid)


def test_plan_bundle_is_deterministic(results):
    r, b = _plan(results, SEED000)
    assert plan_bundle(r, r.plan.kb_version, recorded=RECORDED) == b
    other = plan_bundle(results[str(EXAMPLE_CASES[1])], r.plan.kb_version, recorded=RECORDED)
    assert {e["fullUrl"] for e in b["entry"]}.isdisjoint(e["fullUrl"] for e in other["entry"])


# --- validation: fhir.resources (R4B models) and the npm package fhir (R4) -------------------------------------


#: The input Bundles checked by the validators: the seed's FHIR file and each example converted (built by the
#: ``input_bundles`` fixture, not at collection).
INPUT_BUNDLES = [SEED000_FHIR.name] + [f"{p.stem}.yaml → Bundle" for p in EXAMPLE_CASES]


@pytest.fixture(scope="module")
def input_bundles() -> dict[str, dict]:
    out = {SEED000_FHIR.name: _seed_bundle()}
    out |= {f"{p.stem}.yaml → Bundle": bundle_from_case(load_case(p).data) for p in EXAMPLE_CASES}
    assert list(out) == INPUT_BUNDLES
    return out


@pytest.mark.parametrize("path", EXAMPLE_CASES, ids=lambda p: p.stem)
def test_plan_bundle_passes_fhir_resources(results, path):
    Bundle.model_validate(_plan(results, path)[1])


@pytest.mark.parametrize("name", INPUT_BUNDLES)
def test_input_bundle_passes_fhir_resources(input_bundles, name):
    Bundle.model_validate(input_bundles[name])


@pytest.mark.node
@pytest.mark.parametrize("path", EXAMPLE_CASES, ids=lambda p: p.stem)
def test_plan_bundle_passes_the_npm_validator(results, npm_validate, path):
    status, messages = npm_validate(_plan(results, path)[1])
    assert status == 0, messages


@pytest.mark.node
@pytest.mark.parametrize("name", INPUT_BUNDLES)
def test_input_bundle_passes_the_npm_validator(npm_validate, input_bundles, name):
    status, messages = npm_validate(input_bundles[name])
    assert status == 0, messages


@pytest.mark.node
def test_validators_reject_a_careplan_without_status_and_intent(npm_validate):
    broken = json.loads((DATA / "fhir" / "careplan-without-status.json").read_text(encoding="utf-8"))
    status, messages = npm_validate(broken)
    assert status == 1
    assert "CarePlan.status: Missing property" in messages and "CarePlan.intent: Missing property" in messages
    with pytest.raises(ValueError, match="status"):
        Bundle.model_validate(broken)


@pytest.mark.node
def test_npm_validator_catches_a_required_binding_fhir_resources_misses(npm_validate):
    """Why two validators: a code outside a required value set passes the R4B models, not the npm package."""
    broken = json.loads((DATA / "fhir" / "requestgroup-bad-priority.json").read_text(encoding="utf-8"))
    Bundle.model_validate(broken)
    status, messages = npm_validate(broken)
    assert status == 1
    assert 'RequestGroup.action[0].priority: Code "immediately" not found in value set' in messages


def test_parse_case_accepts_what_the_reader_gives():
    """The document read from a Bundle is a valid case (the lead's load_case hook calls parse_case on it)."""
    assert parse_case(case_from_bundle(_seed_bundle())).id == "000-gluteal-s2-s3-numbness"
