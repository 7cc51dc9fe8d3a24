"""Write a case document as a FHIR R4 Bundle in the project's codes: the inverse of ``reasoner.fhir.read``."""

from __future__ import annotations

import datetime as dt

from ..api import default_reasoner
from ..case.model import vocabulary
from .codes import (
    CLINICAL,
    EXT,
    INTERPRETATION,
    LOINC,
    LOINC_MEASUREMENTS,
    LOINC_STUDIES,
    SK_SYSTEM,
    UCUM,
    UNITS,
    VERIFICATION,
    fhir_uuid,
)

__all__ = ["bundle_from_case"]

_FIELDS = {  # case field → vocabulary field whose IRI gives the code
    "type": None,
    "body_regions": "body_regions",
    "dermatomes": "dermatomes",
    "laterality": "laterality",
    "side": "laterality",
    "severity": "severity",
    "level": "levels",
    "modality": "modality",
    "outcome": "outcome",
    "zone": "zone",
}


def _code(field: str, value: str) -> dict:
    """A CodeableConcept in the spinekg CodeSystem for the case id ``value`` of vocabulary ``field``."""

    iri = str(getattr(vocabulary(), field)[value])
    return {"coding": [{"system": SK_SYSTEM, "code": iri[len(SK_SYSTEM) :], "display": _label(iri)}]}


def _label(iri: str) -> str:

    return default_reasoner().index.label(iri)


def _ext(name: str, **value) -> dict:
    return {"url": EXT + name, **value}


def _when(as_of: dt.datetime, weeks: float) -> str:
    """The date (whole days) or dateTime that lies ``weeks`` before ``as_of``."""
    moment = as_of - dt.timedelta(weeks=weeks)
    return moment.date().isoformat() if weeks * 7 == int(weeks * 7) else moment.isoformat().replace("+00:00", "Z")


def _interpretation(present: bool) -> list:
    return [{"coding": [{"system": INTERPRETATION, "code": "POS" if present else "NEG"}]}]


class _Writer:
    entries: list[dict]

    def __init__(self, doc: dict, as_of: dt.datetime) -> None:
        self.doc, self.as_of, self.entries = doc, as_of, []
        self.patient = "urn:uuid:" + fhir_uuid(doc["id"], "patient")

    def add(self, resource: dict, *name: object) -> str:
        url = "urn:uuid:" + fhir_uuid(self.doc["id"], *name)
        self.entries.append(
            {"fullUrl": url, "resource": {"resourceType": resource["resourceType"], "id": url[9:], **resource}}
        )
        return url

    def symptom(self, n: int, s: dict) -> None:
        res: dict = {"resourceType": "Condition", "subject": {"reference": self.patient}}
        ext = []
        if "laterality" in s:
            ext.append(_ext("laterality", valueCodeableConcept=_code("laterality", s["laterality"])))
        if "progressive" in s:
            ext.append(_ext("progressive", valueBoolean=s["progressive"]))
        if "strength_mrc" in s:
            ext.append(_ext("strength-mrc", valueInteger=s["strength_mrc"]))
        if ext:
            res["extension"] = ext
        if "present" in s:
            code = "confirmed" if s["present"] else "refuted"
            res["verificationStatus"] = {"coding": [{"system": VERIFICATION, "code": code}]}
        if "severity" in s:
            res["severity"] = _code("severity", s["severity"])
        res["code"] = _code("symptom_types", s["type"])
        sites = [_code("body_regions", b) for b in s.get("body_regions", [])]
        sites += [_code("dermatomes", d) for d in s.get("dermatomes", [])]
        if sites:
            res["bodySite"] = sites
        if "duration_weeks" in s:
            res["onsetDateTime"] = _when(self.as_of, s["duration_weeks"])
        if s.get("present", True):
            res["clinicalStatus"] = {"coding": [{"system": CLINICAL, "code": "active"}]}
        self.add(res, "symptom", n)

    def study(self, n: int, study: dict) -> None:
        results = []
        for k, f in enumerate(study.get("findings", [])):
            res: dict = {
                "resourceType": "Observation",
                "status": "final",
                "code": _code("imaging_finding_types", f["type"]),
            }
            ext = [_ext("laterality", valueCodeableConcept=_code("laterality", f["side"]))] if "side" in f else []
            ext += [_ext("zone", valueCodeableConcept=_code("zone", f["zone"]))] if "zone" in f else []
            ext += [_ext("new-finding", valueBoolean=f["new"])] if "new" in f else []
            if ext:
                res = {"resourceType": "Observation", "extension": ext, **res}
            res["subject"] = {"reference": self.patient}
            if "severity" in f:
                res["valueCodeableConcept"] = _code("severity", f["severity"])
            if "present" in f:
                res["interpretation"] = _interpretation(f["present"])
            if "level" in f:
                res["bodySite"] = _code("levels", f["level"])
            results.append({"reference": self.add(res, "imaging", n, "finding", k)})
        report: dict = {"resourceType": "DiagnosticReport", "status": "final"}
        loinc = [c for c, (m, x) in LOINC_STUDIES.items() if m == study.get("modality") and x == study.get("contrast")]
        if "contrast" in study and not loinc:
            raise ValueError(
                f"imaging[{n}]: no verified study code says {study.get('modality')} contrast={study['contrast']}"
            )
        code = _code("modality", study["modality"]) if "modality" in study else {"coding": []}
        code["coding"] += [{"system": LOINC, "code": loinc[0]}] if "contrast" in study else []
        report["code"] = code
        report["subject"] = {"reference": self.patient}
        if "weeks_ago" in study:
            report["effectiveDateTime"] = _when(self.as_of, study["weeks_ago"])
        if results:
            report["result"] = results
        self.add(report, "imaging", n)

    def observation(self, field: str, value: str, n: object, **extra) -> None:
        res = {"resourceType": "Observation", "status": "final", "code": _code(field, value)}
        self.add({**res, "subject": {"reference": self.patient}, **extra}, field, n)


def bundle_from_case(doc: dict, as_of: str = "2025-01-01T00:00:00Z") -> dict:
    """A FHIR R4 Bundle (type collection) of a valid case document, in the project's codes, as of ``as_of``.

    Ids are stable (UUID 5 of the case id and the entry), so the same case gives the same Bundle.

    >>> b = bundle_from_case({"id": "c1", "age": 45, "risk_factors": ["fever"]})
    >>> [e["resource"]["resourceType"] for e in b["entry"]], b["entry"][0]["resource"]["birthDate"]
    (['Patient', 'Condition'], '1980-01-01')
    >>> from reasoner.fhir.read import case_from_bundle
    >>> case_from_bundle(b)
    {'id': 'c1', 'age': 45, 'risk_factors': ['fever']}
    """
    moment = dt.datetime.fromisoformat(as_of)
    w = _Writer(doc, moment)
    patient: dict = {"resourceType": "Patient", "id": doc["id"]}
    if "sex" in doc:
        patient["gender"] = doc["sex"]
    if "age" in doc:
        if doc["age"] != int(doc["age"]):
            raise ValueError(f"age: {doc['age']!r} is not whole years (a birthDate gives whole years)")
        patient["birthDate"] = moment.date().replace(year=moment.year - int(doc["age"])).isoformat()
    w.entries.append({"fullUrl": w.patient, "resource": patient})
    for n, s in enumerate(doc.get("symptoms", [])):
        w.symptom(n, s)
    for n, study in enumerate(doc.get("imaging", [])):
        w.study(n, study)
    for n, risk in enumerate(doc.get("risk_factors", [])):
        res = {"resourceType": "Condition", "subject": {"reference": w.patient}, "code": _code("risk_factors", risk)}
        w.add(res, "risk", n)
    for n, t in enumerate(doc.get("prior_treatments", [])):
        res = {"resourceType": "Procedure", "status": "completed", "code": _code("interventions", t["type"])}
        res["subject"] = {"reference": w.patient}
        ago = t.get("weeks_ago", 0)  # a course without weeks_ago (or of 0) ends at the timestamp: up to now
        if "weeks" in t:
            res["performedPeriod"] = {"start": _when(moment, ago + t["weeks"]), "end": _when(moment, ago)}
        elif "weeks_ago" in t:  # done on a day (an operation), no length
            res["performedDateTime"] = _when(moment, ago)
        if "outcome" in t:
            res["outcome"] = _code("outcome", t["outcome"])
        w.add(res, "treatment", n)
    for key, value in doc.get("scores", {}).items():
        if key == "start_back":  # a risk group, coded by its class (no external code for it in the reference)
            w.observation("start_back", value, key)
        else:
            w.observation("scores", key, key, valueInteger=value)
    for n, c in enumerate(doc.get("candidate_for", [])):
        w.observation("candidacy", c, n)
    for field in ("vitals", "labs"):
        for key, value in doc.get(field, {}).items():
            code = _code(field, key)
            code["coding"].append(
                {"system": LOINC, "code": next(c for c, fk in LOINC_MEASUREMENTS.items() if fk == (field, key))}
            )
            unit, shown = UNITS[key]
            quantity = {"value": value, "unit": shown, "system": UCUM, "code": unit}
            res = {"resourceType": "Observation", "status": "final", "code": code, "subject": {"reference": w.patient}}
            w.add({**res, "valueQuantity": quantity}, field, key)
    if "red_flag_screen" in doc:
        res = {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": SK_SYSTEM, "code": "RedFlagScreen", "display": "red-flag screen"}]},
        }
        res["subject"] = {"reference": w.patient}
        res["valueCodeableConcept"] = _code("screen_result", doc["red_flag_screen"]["result"])
        w.add(res, "red-flag-screen")
    return {
        "resourceType": "Bundle",
        "id": fhir_uuid(doc["id"], "case-bundle"),
        "type": "collection",
        "timestamp": as_of,
        "entry": w.entries,
    }
