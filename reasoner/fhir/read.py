"""Read a FHIR R4 Bundle (Patient, Condition, Observation, DiagnosticReport, Procedure) as a spinekg case document."""

from __future__ import annotations

import datetime as dt

from ..case.model import CaseProblem
from ..case.validate import parse_case
from ..errors import CaseError
from .codes import CLINICAL, LOINC_STUDIES, SK_SYSTEM, UCUM, UNITS, VERIFICATION
from .elements import ElementReader

__all__ = ["case_from_bundle"]

_READ = ("Patient", "Condition", "Observation", "DiagnosticReport", "Procedure")
_SYMPTOM_EXT = ("laterality", "progressive", "strength-mrc")
_FINDING_EXT = ("laterality", "zone", "new-finding")
_FINAL = ("final", "amended", "corrected")
_CODE_FIELDS = (
    "symptom_types",
    "risk_factors",
    "imaging_finding_types",
    "scores",
    "start_back",
    "candidacy",
    "vitals",
    "labs",
)
#: The spinekg code of an Observation that records a red-flag screen (its valueCodeableConcept is the result).
SCREEN_CODE = "RedFlagScreen"


class _BundleReader(ElementReader):
    """Walks the entries of one Bundle into a case document."""

    def __init__(self, bundle: dict) -> None:
        super().__init__(bundle)
        self.refs: dict[str, int] = {}  # fullUrl and Type/id → entry index
        self.patient: int | None = None
        self.as_of: dt.datetime | None = None
        self.origin: dict[str, str] = {}  # case field path → the FHIR path it was read from

    def append(self, doc: dict, key: str, item: object, path: str) -> None:
        items = doc.setdefault(key, [])
        self.origin[f"{key}[{len(items)}]"] = path
        items.append(item)

    def fhir_path(self, case_path: str) -> str:
        """The FHIR path a case field was read from (its closest read ancestor), naming the case field too."""
        for cut in range(len(case_path), 0, -1):
            if case_path[:cut] in self.origin and case_path[cut : cut + 1] in ("", ".", "["):
                return f"{self.origin[case_path[:cut]]} (case field {case_path})"
        return case_path

    def entries(self) -> list[tuple[int, dict]]:
        entries = self.bundle.get("entry", [])
        if not isinstance(entries, list):
            self.add("entry", entries, "is not a list")
            return []
        out = []
        for i, entry in enumerate(entries):
            res = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(res, dict):
                self.add(f"entry[{i}].resource", res, "is missing or not a resource")
                continue
            kind = res.get("resourceType")
            if kind not in _READ:
                self.add(f"entry[{i}].resource.resourceType", kind, f"is not read by spinekg ({', '.join(_READ)})")
                continue
            for key in ("modifierExtension", "implicitRules"):
                if key in res:
                    self.add(f"entry[{i}].resource.{key}", res[key], "changes the meaning in a way spinekg cannot read")
            if isinstance(entry.get("fullUrl"), str):
                self.refs[entry["fullUrl"]] = i
            if isinstance(res.get("id"), str):
                self.refs[f"{kind}/{res['id']}"] = i
            out.append((i, res))
        return out

    def target(self, ref: object, path: str, kind: str) -> int | None:
        """The entry index a Reference points at, which must be a ``kind`` in this Bundle."""
        text = ref.get("reference") if isinstance(ref, dict) else None
        i = self.refs.get(text) if isinstance(text, str) else None
        found = self.bundle["entry"][i]["resource"].get("resourceType") if i is not None else None
        if found != kind:
            article = "an" if kind[0] in "AEIOU" else "a"
            self.add(f"{path}.reference", text, f"does not point at {article} {kind} in this Bundle")
            return None
        return i

    def subject(self, res: dict, path: str, required: bool) -> None:
        if "subject" not in res and not required:
            return
        i = self.target(res.get("subject"), f"{path}.subject", "Patient")
        if i is not None and i != self.patient:
            self.add(f"{path}.subject.reference", res["subject"].get("reference"), "is not the case's Patient")

    def as_of_time(self, path: str) -> dt.datetime | None:
        if self.as_of is None:
            self.add("timestamp", self.bundle.get("timestamp"), f"is needed to count weeks ({path} gives a date)")
        return self.as_of

    def since(self, value: object, path: str) -> int | float | None:
        """Weeks from a date of the Bundle to its timestamp."""
        end = self.as_of_time(path)
        return None if end is None else self.elapsed(value, end, path, "timestamp", self.bundle["timestamp"])


def _read_patient(r: _BundleReader, i: int, res: dict, doc: dict) -> None:
    path = f"entry[{i}].resource"
    if "id" not in res:
        r.add(f"{path}.id", None, "is missing (the case id is the Patient's id)")
    doc["id"] = res.get("id")
    r.origin |= {"id": f"{path}.id", "sex": f"{path}.gender", "age": f"{path}.birthDate"}
    if "gender" in res:
        doc["sex"] = res["gender"]
    if "birthDate" in res:
        born, now = r.instant(res["birthDate"], f"{path}.birthDate"), r.as_of_time(f"{path}.birthDate")
        if isinstance(born, dt.date) and not isinstance(born, dt.datetime) and now is not None:
            today = now.date()
            doc["age"] = today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _statuses(r: _BundleReader, res: dict, path: str) -> bool | None:
    """A Condition's presence from its statuses: refuted is absent, confirmed present, none given unsaid."""
    for key in [k for k in res if k.startswith("abatement")]:
        r.add(f"{path}.{key}", res[key], "is given: an abated condition is not a current finding")
    clinical = _code_of(res.get("clinicalStatus"), CLINICAL)
    if "clinicalStatus" in res and clinical not in ("active", "recurrence", "relapse"):
        r.add(f"{path}.clinicalStatus", clinical, "is not a status spinekg reasons on (active, recurrence, relapse)")
    verification = _code_of(res.get("verificationStatus"), VERIFICATION)
    if "verificationStatus" not in res:
        return None
    if verification not in ("confirmed", "refuted"):
        r.add(f"{path}.verificationStatus", verification, "is not read (confirmed: present, refuted: absent)")
    return verification == "confirmed"


def _code_of(cc: object, system: str) -> str | None:
    codings = cc.get("coding") if isinstance(cc, dict) else None
    codes = [c.get("code") for c in codings or [] if isinstance(c, dict) and c.get("system") == system]
    return codes[0] if len(codes) == 1 else None


def _symptom(r: _BundleReader, res: dict, path: str, kind: str, value: str) -> dict:
    out: dict = {"type": value}
    sites = res.get("bodySite")
    sites = [sites] if kind == "Observation" and sites is not None else sites or []
    for j, site in enumerate(sites):
        at = f"{path}.bodySite" if kind == "Observation" else f"{path}.bodySite[{j}]"
        got = r.concept(site, at, ("body_regions", "dermatomes"))
        if got:
            out.setdefault(got[0], []).append(got[1])
    ext = r.extensions(res, path, _SYMPTOM_EXT)
    if ext.get("laterality"):
        out["laterality"] = ext["laterality"]
    if kind == "Condition" and "onsetDateTime" in res:
        out["duration_weeks"] = r.since(res["onsetDateTime"], f"{path}.onsetDateTime")
    elif any(k.startswith("onset") for k in res):
        r.add(f"{path}.onset", None, "is read only as onsetDateTime")
    if "progressive" in ext:
        out["progressive"] = ext["progressive"]
    if "strength-mrc" in ext:
        out["strength_mrc"] = ext["strength-mrc"]
    if "severity" in res and kind == "Condition":
        out["severity"] = r.one(res["severity"], f"{path}.severity", ("severity",))
    if kind == "Observation":
        for key in [k for k in res if k.startswith("value") or k == "dataAbsentReason"]:
            r.add(f"{path}.{key}", res[key], "is not read for a symptom (interpretation POS/NEG says present/absent)")
    present = _statuses(r, res, path) if kind == "Condition" else r.presence(res, path)
    if present is not None:
        out["present"] = present
    return out


def _read_finding(r: _BundleReader, i: int, path: str) -> dict | None:
    res = r.bundle["entry"][i]["resource"]
    r.status(res, path, _FINAL)
    kind = r.one(res.get("code"), f"{path}.code", ("imaging_finding_types",))
    out: dict = {"type": kind}
    if "bodySite" in res:
        out["level"] = r.one(res["bodySite"], f"{path}.bodySite", ("disc_levels", "vertebrae"))
    ext = r.extensions(res, path, _FINDING_EXT)
    if ext.get("laterality"):
        out["side"] = ext["laterality"]
    if ext.get("zone"):
        out["zone"] = ext["zone"]
    if "valueCodeableConcept" in res:
        out["severity"] = r.one(res["valueCodeableConcept"], f"{path}.valueCodeableConcept", ("severity",))
    for key in res:
        if key.startswith("value") and key != "valueCodeableConcept" or key == "dataAbsentReason":
            r.add(f"{path}.{key}", res[key], "is not read (an imaging finding's value is its severity)")
    if "new-finding" in ext:
        out["new"] = ext["new-finding"]
    present = r.presence(res, path)
    if present is not None:
        out["present"] = present
    return out


def _read_report(r: _BundleReader, i: int, res: dict, used: dict[int, str], n: int) -> dict:
    path = f"entry[{i}].resource"
    r.status(res, path, (*_FINAL, "appended"))
    r.subject(res, path, required=False)
    study: dict = {}
    got = r.concept(res.get("code"), f"{path}.code", ("modality",), loinc=True)
    if got:
        study["modality"] = got[1]
        codes = [c.get("code") for c in res["code"]["coding"] if isinstance(c, dict)]
        contrast = {LOINC_STUDIES[c][1] for c in codes if c in LOINC_STUDIES} - {None}
        if len(contrast) == 1:
            study["contrast"] = contrast.pop()
    if "effectiveDateTime" in res:
        study["weeks_ago"] = r.since(res["effectiveDateTime"], f"{path}.effectiveDateTime")
    findings: list[dict | None] = []
    for j, ref in enumerate(res.get("result") or []):
        k = r.target(ref, f"{path}.result[{j}]", "Observation")
        if k is None:
            continue
        if k in used:
            r.add(f"{path}.result[{j}].reference", ref.get("reference"), f"is already a result of {used[k]}")
            continue
        used[k] = path
        r.origin[f"imaging[{n}].findings[{len(findings)}]"] = f"entry[{k}].resource"
        findings.append(_read_finding(r, k, f"entry[{k}].resource"))
    if findings:
        study["findings"] = findings
    return study


def _ended_before(r: _BundleReader, end: object, path: str) -> int | float | None:
    """Weeks from a period's (valid) end to the Bundle's timestamp where it ends before it: a course that ended then
    (weeks_ago); None for one ending at the timestamp or after it (up to now: when it ended is not recorded, as the
    writer gives a treatment without weeks_ago) or a Bundle without a timestamp."""
    a, b = r.instant(end, path), r.as_of
    if a is None or b is None:
        return None
    before = a < b if isinstance(a, dt.datetime) else a < b.date()
    return r.elapsed(end, b, path, "timestamp", r.bundle["timestamp"]) if before else None


def _read_procedure(r: _BundleReader, i: int, res: dict) -> dict:
    path = f"entry[{i}].resource"
    r.status(res, path, ("completed", "stopped", "in-progress"))
    r.subject(res, path, required=True)
    out: dict = {"type": r.one(res.get("code"), f"{path}.code", ("interventions",))}
    period = res.get("performedPeriod")
    if isinstance(period, dict):
        if "start" not in period or "end" not in period:
            r.add(f"{path}.performedPeriod", period, "needs a start and an end to count weeks")
        else:
            p = f"{path}.performedPeriod"
            out["weeks"] = r.elapsed(period["start"], period["end"], f"{p}.start", f"{p}.end")
            if out["weeks"] is not None and (ago := _ended_before(r, period["end"], f"{p}.end")) is not None:
                out["weeks_ago"] = ago
    elif "performedDateTime" in res:  # done on a day (an operation): when, and no length
        out["weeks_ago"] = r.since(res["performedDateTime"], f"{path}.performedDateTime")
    elif any(k.startswith("performed") for k in res):
        r.add(f"{path}.performed", None, "is read only as performedPeriod (start and end) or performedDateTime")
    if "outcome" in res:
        out["outcome"] = r.one(res["outcome"], f"{path}.outcome", ("outcome",))
    return out


def _is_screen(cc: object) -> bool:
    """Whether a CodeableConcept names the red-flag screen (``RedFlagScreen`` in the spinekg CodeSystem)."""
    codings = cc.get("coding") if isinstance(cc, dict) else None
    return any(
        isinstance(c, dict) and c.get("system") == SK_SYSTEM and c.get("code") == SCREEN_CODE
        for c in (codings if isinstance(codings, list) else [])
    )


def _read_screen(r: _BundleReader, res: dict, path: str, doc: dict) -> None:
    """A red-flag screen: its result is the valueCodeableConcept (none_found or found)."""
    if len(res["code"]["coding"]) > 1:
        r.add(f"{path}.code", res["code"], f"names the red-flag screen ({SCREEN_CODE}) and something else")
        return
    if "red_flag_screen" in doc:
        r.add(f"{path}.code", SCREEN_CODE, f"is a second red-flag screen (the first is {r.origin['red_flag_screen']})")
        return
    for key in res:
        if key.startswith("value") and key != "valueCodeableConcept" or key == "dataAbsentReason":
            r.add(f"{path}.{key}", res[key], "is not read (a red-flag screen's value is its result)")
    if "valueCodeableConcept" not in res:
        r.add(f"{path}.valueCodeableConcept", None, "is needed: the result of the screen (none_found or found)")
        return
    doc["red_flag_screen"] = {
        "result": r.one(res["valueCodeableConcept"], f"{path}.valueCodeableConcept", ("screen_result",))
    }
    r.origin["red_flag_screen"] = path
    r.origin["red_flag_screen.result"] = f"{path}.valueCodeableConcept"


def _read_measurement(r: _BundleReader, res: dict, path: str, doc: dict, field: str, key: str) -> None:
    """A vital sign or laboratory result: valueQuantity in the UCUM unit of its key (never converted)."""
    unit, shown = UNITS[key]
    for other in res:
        if other.startswith("value") and other != "valueQuantity" or other == "dataAbsentReason":
            r.add(f"{path}.{other}", res[other], f"is not read (a measurement's value is a valueQuantity in {unit})")
    quantity = res.get("valueQuantity")
    if not isinstance(quantity, dict):
        r.add(f"{path}.valueQuantity", quantity, f"is needed: the measured value, in {unit} ({shown})")
        return
    value = quantity.get("value")
    problems = len(r.problems)
    if "comparator" in quantity:
        r.add(f"{path}.valueQuantity.comparator", quantity["comparator"], "is not read: a measured value is exact")
    if quantity.get("system") != UCUM or quantity.get("code") != unit:
        r.add(
            f"{path}.valueQuantity.code",
            quantity.get("code"),
            f"is not the unit of {field}.{key}: give the value in UCUM {unit} ({shown}); values are not converted",
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        r.add(f"{path}.valueQuantity.value", value, "is not a number")
    if len(r.problems) > problems:
        return
    record = doc.setdefault(field, {})
    if key in record:
        first = r.origin[f"{field}.{key}"].removesuffix(".valueQuantity.value")
        r.add(f"{path}.code", key, f"is a second {field}.{key} (the first is {first})")
        return
    record[key] = value
    r.origin[f"{field}.{key}"] = f"{path}.valueQuantity.value"


def _read_observation(r: _BundleReader, i: int, res: dict, doc: dict) -> None:
    """An Observation outside a DiagnosticReport: a symptom, risk factor, score, candidacy, vital sign, laboratory
    result or red-flag screen."""
    path = f"entry[{i}].resource"
    r.status(res, path, _FINAL)
    r.subject(res, path, required=False)
    if _is_screen(res.get("code")):
        _read_screen(r, res, path, doc)
        return
    got = r.concept(res.get("code"), f"{path}.code", _CODE_FIELDS, measures=True)
    if got is None:
        return
    kind, value = got
    if kind in ("vitals", "labs"):
        _read_measurement(r, res, path, doc, kind, value)
        return
    if kind == "symptom_types":
        r.append(doc, "symptoms", _symptom(r, res, path, "Observation", value), path)
    elif kind == "imaging_finding_types":
        r.add(f"{path}.code", value, "is an imaging finding: give it as a result of its study's DiagnosticReport")
    elif kind == "scores":
        if not isinstance(res.get("valueInteger"), int) or isinstance(res.get("valueInteger"), bool):
            r.add(f"{path}.valueInteger", res.get("valueInteger"), "is needed: a score is an integer")
        else:
            doc.setdefault("scores", {})[value] = res["valueInteger"]
            r.origin[f"scores.{value}"] = f"{path}.valueInteger"
    elif kind == "start_back":  # a STarT Back result: its code is the risk group
        doc.setdefault("scores", {})["start_back"] = value
        r.origin["scores.start_back"] = f"{path}.code"
    elif r.presence(res, path) is False:
        r.add(f"{path}.interpretation", "NEG", f"cannot be recorded: the case lists {kind.replace('_', ' ')} present")
    else:
        r.append(doc, "risk_factors" if kind == "risk_factors" else "candidate_for", value, path)


def _read_condition(r: _BundleReader, i: int, res: dict, doc: dict) -> None:
    path = f"entry[{i}].resource"
    r.subject(res, path, required=True)
    got = r.concept(res.get("code"), f"{path}.code", ("symptom_types", "risk_factors"))
    if got is None:
        return
    kind, value = got
    if kind == "symptom_types":
        r.append(doc, "symptoms", _symptom(r, res, path, "Condition", value), path)
        return
    r.extensions(res, path, ())
    for key in [k for k in res if k in ("bodySite", "severity") or k.startswith("onset")]:
        r.add(f"{path}.{key}", res[key], "is not read for a risk factor")
    if _statuses(r, res, path) is False:
        r.add(f"{path}.verificationStatus", "refuted", "cannot be recorded: the case lists risk factors present")
    r.append(doc, "risk_factors", value, path)


def _read(r: _BundleReader) -> dict:
    if r.bundle.get("resourceType") != "Bundle":
        r.add("resourceType", r.bundle.get("resourceType"), "is not Bundle")
        return {}
    if "timestamp" in r.bundle:
        stamp = r.instant(r.bundle["timestamp"], "timestamp")
        if isinstance(stamp, dt.datetime):
            r.as_of = stamp
        elif stamp is not None:
            r.add("timestamp", r.bundle["timestamp"], "is not an instant (a dateTime with time zone)")
    entries = r.entries()
    patients = [i for i, res in entries if res["resourceType"] == "Patient"]
    if len(patients) != 1:
        r.add("entry", f"{len(patients)} Patients", "must hold exactly one Patient (the case's patient)")
    r.patient = patients[0] if patients else None
    doc: dict = {}
    used: dict[int, str] = {}
    reports = [(i, res) for i, res in entries if res["resourceType"] == "DiagnosticReport"]
    for i, res in reports:
        r.append(doc, "imaging", _read_report(r, i, res, used, len(doc.get("imaging", []))), f"entry[{i}].resource")
    for i, res in entries:
        kind = res["resourceType"]
        if kind == "Patient" and i == r.patient:
            _read_patient(r, i, res, doc)
        elif kind == "Condition":
            _read_condition(r, i, res, doc)
        elif kind == "Observation" and i not in used:
            _read_observation(r, i, res, doc)
        elif kind == "Procedure":
            r.append(doc, "prior_treatments", _read_procedure(r, i, res), f"entry[{i}].resource")
    return _ordered(doc)


def _ordered(doc: dict) -> dict:
    """The document's keys in the case format's order (id first), as a person writes them."""
    keys: tuple[str, ...] = ("id", "age", "sex", "symptoms", "imaging", "risk_factors", "prior_treatments", "scores")
    keys += ("vitals", "labs", "red_flag_screen", "candidate_for")
    return {k: doc[k] for k in keys if k in doc}


def case_from_bundle(bundle: dict, source: str = "<bundle>") -> dict:
    """The case document of a FHIR R4 Bundle; every problem found is named by its FHIR path (a CaseError).

    The Patient's id is the case id; Conditions and Observations are symptoms, risk factors, scores and
    candidacies by their code; Observations with a measurement code (LOINC, or the spinekg class) and a
    valueQuantity in its UCUM unit are vitals and labs, and one coded ``RedFlagScreen`` is the red-flag
    screen; a DiagnosticReport is an imaging study and its ``result`` Observations its findings; a Procedure
    is a prior treatment. Durations count back from ``Bundle.timestamp``.

    >>> b = {"resourceType": "Bundle", "type": "collection", "entry": [
    ...     {"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "id": "c1", "gender": "female"}},
    ...     {"resource": {"resourceType": "Condition", "subject": {"reference": "urn:uuid:p"},
    ...      "code": {"coding": [{"system": "https://w3id.org/spinekg/", "code": "fever"}]}}}]}
    >>> case_from_bundle(b)
    {'id': 'c1', 'sex': 'female', 'risk_factors': ['fever']}
    >>> b["entry"][1]["resource"]["code"]["coding"][0]["code"] = "dermatome_L9"
    >>> case_from_bundle(b)
    Traceback (most recent call last):
    ...
    reasoner.errors.CaseError: <bundle>: 1 problem in the case
      entry[1].resource.code.coding[0].code: 'dermatome_L9' is not a spinekg term
    """
    if not isinstance(bundle, dict):
        raise CaseError([CaseProblem("", bundle, "is not a FHIR Bundle (a JSON object)")], source=source)

    reader = _BundleReader(bundle)
    doc = _read(reader)
    if reader.problems:
        raise CaseError(reader.problems, source=source)
    try:  # what only the case reader can tell (a coded type it cannot resolve, a contradiction), by FHIR path
        parse_case(doc, source)
    except CaseError as exc:
        problems = [CaseProblem(reader.fhir_path(p.path), p.value, p.message) for p in exc.problems]
        raise CaseError(problems, salvage=exc.salvage, source=source) from None
    return doc
