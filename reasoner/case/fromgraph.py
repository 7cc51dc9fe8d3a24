"""A case document read back from its graph (Turtle, JSON-LD): the inverse of :mod:`reasoner.case.graph`."""

from __future__ import annotations

import re
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from ..consts import DCTERMS, OWL, RDF, SK
from ..kb.codes import curie_of_iri
from ..kb.mappings import resolve_for
from . import rdf as caserdf

#: Where case IRIs live: ``CASE_BASE + id``.
from .graph import MEASURED, Vocabulary

# --- graph -> document ---------------------------------------------------------------------------------------

_FINDING = {
    SK.laterality: ("laterality", "laterality", False),
    SK.inDermatome: ("dermatomes", "dermatomes", True),
    SK.inBodyRegion: ("body_regions", "body_regions", True),
    SK.atDiscLevel: ("level", "levels", False),
    SK.atSpinalLevel: ("level", "levels", False),
    SK.severity: ("severity", "severity", False),
    SK.zone: ("zone", "zone", False),
}
_FINDING_VALUES = {
    SK.durationWeeks: "duration_weeks",
    SK.progressive: "progressive",
    SK.isNew: "new",
    SK.mrcGrade: "strength_mrc",
}
_FINDING_FIXED = {RDF.type, SK.inCase, SK.ofPatient, SK.absentType, SK.fromStudy}


def _value(term: Node) -> object:
    """A literal as the document would give it, read from its lexical form by :func:`caserdf.literal_value` (never
    rdflib's conversion); an IRI where a value is wanted stays a string (and fails)."""
    return caserdf.literal_value(term) if isinstance(term, Literal) else str(term)


def _term(vocab: Vocabulary, field: str, term: Node) -> object:
    """The id of an IRI in a vocabulary field; an unknown IRI stays its full string, a literal its N3 form."""
    if isinstance(term, Literal):
        return term.n3()
    found = vocab.id_of(field, term)
    return found if found is not None else str(term)


def _one(values: list) -> Any:
    """One value as itself; several (an RDF case saying two things at once) as a list, which fails validation."""
    return values[0] if len(values) == 1 else values


def _index(node: Node) -> tuple:
    match = re.search(r"/(\d+)$", str(node))
    return (0, int(match.group(1)), "") if match else (1, 0, str(node))


def _is_risk(types: list, codes: list, risk_iris: set) -> bool:
    """Whether a case member's types make it a risk factor: risk-factor classes only, or, when it carries the
    code it was given as, that code and a risk factor (``sk:RiskFactor`` itself when the code is unmapped)."""
    rest = set(types) - set(codes)
    return bool(rest) and rest <= (risk_iris | {SK.RiskFactor} if codes else risk_iris)


def _given_type(vocab: Vocabulary, field: str, given: list, generic: URIRef | None, unmapped: list) -> object:
    """A finding's ``type`` as the document gave it: the code (``SCTID:…``) when the node carries one and its other
    types are what that code resolves to (or only ``generic`` when it is unmapped; nothing else for an absence),
    else the spinekg id(s); anything inconsistent becomes a list, which validation refuses. A code kept as
    unmapped (it resolves to no term of ``field``) is appended to ``unmapped``.

    >>> from reasoner.case.model import vocabulary
    >>> found, code = [], URIRef("http://snomed.info/id/22298006")
    >>> _given_type(vocabulary(), "symptom_types", [SK.Symptom, code], SK.Symptom, found)
    'SCTID:22298006'
    >>> found
    ['SCTID:22298006']
    """
    codes = [t for t in given if isinstance(t, URIRef) and curie_of_iri(str(t))]
    if len(codes) == 1:
        curie = curie_of_iri(str(codes[0]))
        assert curie is not None  # codes holds only IRIs with a CURIE
        term = resolve_for(curie, getattr(vocab, field), "").term
        expected = {term} if term is not None else ({generic} if generic is not None else set())
        if set(given) - {codes[0]} == expected:
            if term is None:
                unmapped.append(curie)
            return curie
    return _one([_term(vocab, field, t) for t in given])


def graph_document(g: Graph, vocab: Vocabulary) -> tuple[dict | None, list[tuple[str, object, str]]]:
    """Turn the one ``sk:Case`` in ``g`` back into a case document (inverting :func:`document_graph`).

    Returns the document and the problems that stop it being built (no case, several cases, a
    finding from a study that is not the case's); everything else is left for validation to report,
    so a case in RDF is validated exactly like one in YAML. A property the mapping does not know
    becomes a key named by its IRI, which validation rejects as an unknown key. The case's ``sk:episodeWeeks``
    (and ``sk:sciaticaWeeks``) is derived from its symptoms, so it is not read back; an absence that carries
    ``sk:severity_none`` reads back as ``severity: none`` (not ``present: false``).

    >>> from reasoner.case.model import vocabulary
    >>> from reasoner.case.graph import CASE_BASE
    >>> g = Graph().parse(data=f"<{CASE_BASE}d2> a <{SK.Case}> ; <{DCTERMS.identifier}> 'd2' .", format="turtle")
    >>> graph_document(g, vocabulary())
    ({'id': 'd2'}, [])
    """
    cases = sorted(set(g.subjects(RDF.type, SK.Case)), key=str)
    if len(cases) != 1:
        found: list = [str(c) for c in cases]
        return None, [("", found, f"has {len(cases)} sk:Case nodes; a case graph has exactly one")]
    case = cases[0]
    problems: list[tuple[str, object, str]] = []
    doc: dict = {}

    def objects(node: Node, prop: Node) -> list:
        return sorted(g.objects(node, prop), key=str)

    def extra(node: Node, known: set) -> dict:
        out: dict = {}
        for p in sorted(set(g.predicates(node, None)) - known, key=str):
            out[str(p)] = _one([_value(o) for o in objects(node, p)])
        return out

    ids = objects(case, DCTERMS.identifier)
    if ids:
        doc["id"] = _one([_value(i) for i in ids])
    patients = objects(case, SK.patient)
    if len(patients) > 1:
        problems.append(("", [str(p) for p in patients], "are several sk:patient nodes of one case"))
    for patient in patients[:1]:
        if ages := objects(patient, SK.age):
            doc["age"] = _one([_value(a) for a in ages])
        if sexes := objects(patient, SK.sex):
            doc["sex"] = _one([_term(vocab, "sex", s) for s in sexes])
        doc.update(extra(patient, {RDF.type, SK.age, SK.sex}))

    members = sorted(set(g.subjects(SK.inCase, case)), key=_index)
    types = {n: [t for t in objects(n, RDF.type) if t != OWL.NamedIndividual] for n in members}
    studies = [n for n in members if SK.ImagingStudy in types[n]]
    treatments = [n for n in members if SK.PriorTreatment in types[n]]
    in_study = [n for n in members if (n, SK.fromStudy, None) in g and n not in studies]
    rest = [n for n in members if n not in studies and n not in treatments and n not in in_study]
    risk_iris, start_back = set(vocab.risk_factors.values()), set(vocab.start_back.values())
    score_iris = {*vocab.scores.values(), *start_back}
    coded = {n: [t for t in types[n] if isinstance(t, URIRef) and curie_of_iri(str(t))] for n in members}
    risks = [n for n in rest if _is_risk(types[n], coded[n], risk_iris)]
    scores = [n for n in rest if types[n] and set(types[n]) <= score_iris]
    measured = {
        field: [n for n in rest if types[n] and set(types[n]) <= set(getattr(vocab, field).values())]
        for field in MEASURED
    }
    screens = [n for n in rest if SK.RedFlagScreen in types[n]]
    other = {*risks, *scores, *screens, *(n for nodes in measured.values() for n in nodes)}
    symptoms = [n for n in rest if n not in other]
    unmapped: list[str] = []  # codes the graph records as unmapped findings: it was written with unmapped_codes: warn

    def finding(node: Node, kind: str) -> dict:
        absent = SK.FindingAbsence in types[node]
        given = objects(node, SK.absentType) if absent else types[node]
        generic = None if absent else (SK.Symptom if kind == "symptom_types" else SK.ImagingFinding)
        entry: dict = {"type": _given_type(vocab, kind, given, generic, unmapped)} if given else {}
        for prop, (key, field, many) in _FINDING.items():
            values: list = [_term(vocab, field, o) for o in objects(node, prop)]
            if values and kind == "imaging_finding_types" and key == "laterality":
                key = "side"
            if values:
                entry[key] = values if many else _one(values)
        for prop, key in _FINDING_VALUES.items():
            if values := objects(node, prop):
                entry[key] = _one([_value(v) for v in values])
        if absent and objects(node, SK.severity) != [SK.severity_none]:  # severity none says it is absent
            entry["present"] = False
        entry.update(extra(node, _FINDING_FIXED | set(_FINDING) | set(_FINDING_VALUES)))
        return entry

    if symptoms:
        doc["symptoms"] = [finding(n, "symptom_types") for n in symptoms]
    if studies:
        doc["imaging"] = []
    for s in studies:
        study: dict = {}
        for prop, key in ((SK.modality, "modality"), (SK.contrast, "contrast"), (SK.weeksAgo, "weeks_ago")):
            if values := objects(s, prop):
                convert = (lambda v: _term(vocab, "modality", v)) if key == "modality" else _value
                study[key] = _one([convert(v) for v in values])
        found = sorted((n for n in in_study if (n, SK.fromStudy, s) in g), key=_index)
        if found:
            study["findings"] = [finding(n, "imaging_finding_types") for n in found]
        study.update(extra(s, {RDF.type, SK.inCase, SK.modality, SK.contrast, SK.weeksAgo}))
        doc["imaging"].append(study)
    for n in in_study:
        owners = objects(n, SK.fromStudy)
        if len(owners) != 1 or owners[0] not in studies:
            problems.append(
                ("", str(n), "is an imaging finding whose sk:fromStudy is not one imaging study of the case")
            )
    if risks:
        doc["risk_factors"] = [_given_type(vocab, "risk_factors", types[n], SK.RiskFactor, unmapped) for n in risks]
        for m, n in enumerate(risks):
            for p in extra(n, {RDF.type, SK.inCase, SK.ofPatient}):
                problems.append((f"risk_factors[{m}]", p, "is not a property of a risk factor"))
    if treatments:
        doc["prior_treatments"] = []
    for n in treatments:
        entry = {}
        if values := objects(n, SK.treatmentType):
            entry["type"] = _one([_term(vocab, "interventions", v) for v in values])
        if values := objects(n, SK.weeks):
            entry["weeks"] = _one([_value(v) for v in values])
        if values := objects(n, SK.treatmentWeeksAgo):
            entry["weeks_ago"] = _one([_value(v) for v in values])
        if values := objects(n, SK.outcome):
            entry["outcome"] = _one([_term(vocab, "outcome", v) for v in values])
        entry.update(extra(n, {RDF.type, SK.inCase, SK.treatmentType, SK.weeks, SK.treatmentWeeksAgo, SK.outcome}))
        doc["prior_treatments"].append(entry)
    if scores:
        doc["scores"] = {}
    for n in scores:
        if groups := [vocab.id_of("start_back", t) for t in types[n] if t in start_back]:
            key, value = "start_back", _one(groups)  # a STarT Back result: its risk group is its class
        else:
            key = _one([vocab.id_of("scores", t) for t in types[n]])
            value = _one([_value(v) for v in objects(n, SK.scoreValue)])
        doc["scores"][key if isinstance(key, str) else str(n)] = value
        for p in extra(n, {RDF.type, SK.inCase, SK.ofPatient, SK.scoreValue}):
            problems.append((f"scores.{key}", p, "is not a property of a score"))
    for field, nodes in measured.items():
        if nodes:
            doc[field] = {}
        for n in nodes:
            key = _one([vocab.id_of(field, t) for t in types[n]])
            key = key if isinstance(key, str) else str(n)
            doc[field][key] = _one([_value(v) for v in objects(n, SK.measuredValue)])
            for p in extra(n, {RDF.type, SK.inCase, SK.ofPatient, SK.measuredValue}):
                problems.append((f"{field}.{key}", p, "is not a property of a measurement"))
    if len(screens) > 1:
        problems.append(("red_flag_screen", [str(n) for n in screens], "are several red-flag screens of one case"))
    for n in screens[:1]:
        screen: dict = {}
        if values := objects(n, SK.screenResult):
            screen["result"] = _one([_term(vocab, "screen_result", v) for v in values])
        screen.update(extra(n, {RDF.type, SK.inCase, SK.screenResult}))
        doc["red_flag_screen"] = screen
    if cands := objects(case, SK.candidateFor):
        doc["candidate_for"] = [_term(vocab, "candidacy", c) for c in cands]
    for none in map(str, objects(case, SK.recordsNoneOf)):  # a list given empty: recorded, the patient has none
        if none not in ("candidate_for", "prior_treatments"):
            problems.append((none, str(SK.recordsNoneOf), "is not a list field a case can record as empty"))
        elif none in doc:
            problems.append((none, str(SK.recordsNoneOf), "is recorded empty and with entries"))
        else:
            doc[none] = []
    if excluded := objects(case, SK.excludesRedFlag):
        doc["red_flags_excluded"] = [_term(vocab, "red_flags", f) for f in excluded]
    known = {RDF.type, DCTERMS.identifier, SK.patient, SK.candidateFor, SK.episodeWeeks, SK.sciaticaWeeks}
    doc.update(extra(case, known | {SK.recordsNoneOf, SK.excludesRedFlag}))
    if unmapped:
        doc["unmapped_codes"] = "warn"
    return doc, problems
