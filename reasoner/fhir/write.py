"""A plan as a FHIR R4 Bundle: CarePlan → RequestGroup (an action per step), DetectedIssues, a Provenance per step."""

from __future__ import annotations

import datetime as dt
from importlib import metadata

from ..api import default_reasoner
from ..case.graph import CASE_BASE
from ..kb.index import local
from ..plan.model import EvidenceOut, Plan, Step
from .codes import SK_SYSTEM, fhir_uuid

__all__ = ["plan_bundle", "CPG_STRENGTH", "TARGET_ELEMENT"]

#: CPG-on-FHIR's strength-of-recommendation extension; its value here is the source's stance (do, consider, avoid),
#: coded in the spinekg CodeSystem, since the source articles grade no strength (no GRADE code is implied).
CPG_STRENGTH = "http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-strengthOfRecommendation"
#: FHIR R4 core extension on Provenance.target: the id of the element (here the RequestGroup action) it is about.
TARGET_ELEMENT = "http://hl7.org/fhir/StructureDefinition/targetElement"
URI = "urn:ietf:rfc:3986"
_PRIORITY = {"emergency": "stat", "urgent": "urgent"}
_PHASE = {"emergency": "emergency", "urgent": "urgent", "now": "now", "if_persistent": "if persistent"}
_STANCE = {"do": "Do", "consider": "Consider", "avoid": "Do not"}


def _sk(code: str, display: str | None = None) -> dict:
    coding = {"system": SK_SYSTEM, "code": code}
    return {"coding": [{**coding, "display": display}] if display else [coding]}


def _ref(url: str, display: str | None = None) -> dict:
    return {"reference": url, "display": display} if display else {"reference": url}


def _citation(e: EvidenceOut) -> dict:
    """An evidence sentence as a RelatedArtifact: the marker as label, the article as display, quote and reference."""
    where = f"reference table {e.article}" if e.citation_status == "reference-table" else f"article {e.article}"
    where += f", section “{e.section}”" if e.section else ""
    cite = f"“{e.quote}”"
    if e.citation_status == "reference-table":
        cite += f" ({e.citation}); rests on {e.reference}"
    elif e.reference:
        cite += f" [{e.citation}] → {e.reference}"
    elif e.citation:
        cite += f" [{e.citation}] (citation {e.citation_status})"
    out = {"type": "citation", "label": e.citation, "display": where, "citation": cite}
    return out if e.citation else {k: v for k, v in out.items() if k != "label"}


def _title(s: Step) -> str:
    return f"{_STANCE[s.stance]}: {s.label}" if s.stance == "avoid" else f"{_STANCE[s.stance]} {s.label}"


def _action(s: Step) -> dict:
    n = s.number  # as the text and HTML plans show it and explain takes it: 2, 2.1, …
    phase = _PHASE.get(s.phase, s.phase.replace("_", "-"))
    when = s.timing or (f"if persistent after {s.after_weeks:g} weeks" if s.after_weeks is not None else phase)
    recs = ", ".join(local(r) for r in s.recommendations)
    action = {
        "id": f"step-{n}",
        "extension": [{"url": CPG_STRENGTH, "valueCodeableConcept": {**_sk(s.stance, s.stance), "text": s.stance}}],
        "prefix": str(n),
        "title": _title(s),
        "description": f"{_title(s)} ({phase if when == phase else f'{phase}; {when}'}); recommendation {recs}"
        + (f"; triggered by {', '.join(s.triggered_by)}" if s.triggered_by else "")
        + ("; a spinekg safety rule for a red flag" if s.safety else ""),
        "textEquivalent": f"{_title(s)} — {when}",
        "priority": _PRIORITY.get(s.phase, "routine"),
        "code": [_sk(s.id, s.label)],
        "documentation": [
            *({"type": "derived-from", "display": f"recommendation {local(r)}", "url": r} for r in s.recommendations),
            *(
                {"type": "derived-from", "display": f"recommendation {local(r)} (covered by this step)", "url": r}
                for r in s.backed
            ),
            *(_citation(e) for e in s.evidence),
        ],
        "timingTiming": {"code": {**_sk(s.phase, phase), "text": when}},
    }
    return action


def _provenance(result, s: Step, url: dict[str, str], recorded: str) -> dict:
    """Where a step came from: its recommendations, their evidence sentences, and the case findings."""

    recs = default_reasoner().index.recommendations
    case_iri = CASE_BASE + result.plan.case
    entity = []
    for r in (*s.recommendations, *s.backed):  # those it covers and keeps the sentences of too
        info = recs.get(r)
        label = info.label if info else local(r)
        entity.append({"role": "source", "what": {"identifier": {"system": URI, "value": r}, "display": label}})
        for e in info.evidence if info else ():
            marker = f", citation [{e.citation}] ({e.citation_status})" if e.citation else f" ({e.citation_status})"
            source = f"reference table {e.source}" if e.citation_status == "reference-table" else f"article {e.source}"
            what: dict[str, object] = {"identifier": {"system": URI, "value": SK_SYSTEM + e.id}}
            what["display"] = f"{source}{marker}: “{e.quote}”"
            entity.append({"role": "quotation", "what": what})
    for path in s.triggered_by:
        what = {"identifier": {"system": case_iri, "value": path}, "display": f"case {result.plan.case}: {path}"}
        entity.append({"role": "source", "what": what})
    target = _ref(url["requestgroup"], f"step {s.number}: {_title(s)}")
    target["extension"] = [{"url": TARGET_ELEMENT, "valueUri": f"step-{s.number}"}]
    return {
        "resourceType": "Provenance",
        "target": [target],
        "recorded": recorded,
        "agent": [{"who": _ref(url["device"], "spinekg guideline reasoner")}],
        "entity": entity,
    }


def _issues(plan: Plan, patient: dict, device: dict) -> list[tuple[str, object, dict]]:
    """Red flags (severity high) and warnings (moderate) as DetectedIssues."""
    out: list[tuple[str, object, dict]] = []
    for f in plan.red_flags:
        by = (
            f"flagged by article(s) {', '.join(f.flagged_by_sources)}"
            if f.flagged_by_sources
            else "not flagged by the source articles"
        )
        detail = f"RED FLAG: {f.label}, from {', '.join(f.triggered_by)}; {by}."
        out.append(
            ("red-flag", f.id, {"code": {**_sk(f.id, f.label), "text": f.label}, "severity": "high", "detail": detail})
        )
    for k, w in enumerate(plan.warnings):
        text = f"{w.message} (subjects: {', '.join(w.subjects)})" if w.subjects else w.message
        out.append(("warning", k, {"code": {"text": w.id}, "severity": "moderate", "detail": text}))
    return [
        (kind, key, {"resourceType": "DetectedIssue", "status": "final", **body, "patient": patient, "author": device})
        for kind, key, body in out
    ]


def _software() -> str:
    try:
        return metadata.version("spinekg")
    except metadata.PackageNotFoundError:
        return "unknown"


def _device(kb_version: str) -> dict:
    """The reasoner as the Device that authored the plan: its software and knowledge-base versions."""
    return {
        "resourceType": "Device",
        "deviceName": [{"name": "spinekg guideline reasoner", "type": "user-friendly-name"}],
        "version": [
            {"type": {"text": "software"}, "value": _software()},
            {"type": {"text": "knowledge base"}, "value": kb_version},
        ],
    }


def _request_group(plan: Plan, patient: dict, device: dict) -> dict:
    """The steps, one action each; where sources disagree and what red flags pre-empted, as notes."""
    notes = [f"Sources disagree — {c.label}: {c.description}" for c in plan.conflicts]
    notes += [
        f"{'Overridden where sources disagree' if p.status == 'overridden' else 'Pre-empted by a red flag'} — "
        f"{local(p.recommendation)}: {p.label}"
        for p in plan.preempted
    ]
    out: dict[str, object] = {"resourceType": "RequestGroup", "status": "draft", "intent": "proposal"}
    out |= {"subject": patient, "author": device}
    if notes:
        out["note"] = [{"text": text} for text in notes]
    if plan.steps:
        out["action"] = [_action(s) for s in plan.steps]
    return out


def _patient(result, case: str) -> dict:
    """The case's patient: its id, and its sex as FHIR's administrative gender (the case's values are its codes)."""
    out: dict = {"resourceType": "Patient", "identifier": [{"system": CASE_BASE, "value": case}]}
    sex = getattr(getattr(result, "case", None), "data", {}).get("sex")
    if sex in ("female", "male", "other", "unknown"):
        out["gender"] = sex
    return out


def plan_bundle(result, kb_version: str, recorded: str | None = None) -> dict:
    """The plan of ``result`` (a ``reasoner.api.Result``) as a FHIR R4 Bundle of type collection.

    Every id is derived from the case id (UUID 5), so the same plan gives the same Bundle except for
    ``Provenance.recorded`` (``recorded``, default now).

    >>> from reasoner.api import reason
    >>> r = reason(["examples/000-gluteal-s2-s3-numbness.yaml"])[0]
    >>> b = plan_bundle(r, r.plan.kb_version, recorded="2025-01-01T00:00:00Z")
    >>> [e["resource"]["resourceType"] for e in b["entry"]][:5]
    ['Patient', 'Device', 'CarePlan', 'RequestGroup', 'DetectedIssue']
    >>> actions = b["entry"][3]["resource"]["action"]
    >>> [(a["title"], a["priority"]) for a in actions[:2]]
    [('Do bladder, bowel and perianal sensation assessment', 'stat'), ('Do MRI of the lumbar spine', 'stat')]
    >>> actions[1]["documentation"][-1]["label"]
    '1'
    """
    plan = result.plan
    case = plan.case
    recorded = recorded or dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    url = {name: "urn:uuid:" + fhir_uuid(case, name) for name in ("patient", "device", "careplan", "requestgroup")}
    patient, device = _ref(url["patient"]), _ref(url["device"], "spinekg guideline reasoner")
    issues = [("urn:uuid:" + fhir_uuid(case, kind, key), res) for kind, key, res in _issues(plan, patient, device)]
    careplan = {
        "resourceType": "CarePlan",
        "status": "draft",
        "intent": "proposal",
        "title": f"Management plan for case {case}",
        "description": f"Staged plan proposed by spinekg (knowledge base {kb_version}): {len(plan.steps)} step(s), "
        f"{len(plan.red_flags)} red flag(s), {len(plan.warnings)} warning(s).",
        "subject": patient,
        "author": device,
        "activity": [{"reference": _ref(url["requestgroup"], "the plan's steps")}],
    }
    if issues:
        careplan["supportingInfo"] = [_ref(u) for u, _ in issues]
    provenance = [
        ("urn:uuid:" + fhir_uuid(case, "provenance", n), _provenance(result, s, url, recorded))
        for n, s in enumerate(plan.steps, 1)
    ]
    resources = [
        (url["patient"], _patient(result, case)),
        (url["device"], _device(kb_version)),
        (url["careplan"], careplan),
        (url["requestgroup"], _request_group(plan, patient, device)),
        *issues,
        *provenance,
    ]
    entries = [{"fullUrl": u, "resource": {"resourceType": r["resourceType"], "id": u[9:], **r}} for u, r in resources]
    return {"resourceType": "Bundle", "id": fhir_uuid(case, "plan", kb_version), "type": "collection", "entry": entries}
