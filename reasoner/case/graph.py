"""The case as RDF: the ids a case may use (read from the KB) and the mapping between a case document and its graph."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from types import MappingProxyType
from typing import cast

from rdflib import Graph, Literal, URIRef
from rdflib.query import ResultRow
from rdflib.term import Node

from ..consts import DCTERMS, OWL, PREFIXES, RDF, RDFS, SK, SKOS, XSD
from ..kb.codes import System, split_curie
from ..kb.load import new_graph
from ..kb.mappings import resolve_for
from .episode import HIP_GENERATORS, before_episode, episode_lengths

#: Where case IRIs live: ``CASE_BASE + id``.
CASE_BASE = "https://w3id.org/spinekg/case/"

_ALL = lambda path: True  # noqa: E731


@dataclass(frozen=True)
class Vocabulary:
    """The ids a case may use, each mapped to its IRI in the knowledge base."""

    symptom_types: Mapping[str, URIRef]
    #: the symptom types under sk:PainSymptom (the episode is the pain's first): a subset, not ids of their own
    pain_types: Mapping[str, URIRef] = dataclasses.field(metadata={"schema": False})
    imaging_finding_types: Mapping[str, URIRef]
    risk_factors: Mapping[str, URIRef]
    interventions: Mapping[str, URIRef]
    dermatomes: Mapping[str, URIRef]
    body_regions: Mapping[str, URIRef]
    disc_levels: Mapping[str, URIRef]
    vertebrae: Mapping[str, URIRef]
    laterality: Mapping[str, URIRef]
    severity: Mapping[str, URIRef]
    modality: Mapping[str, URIRef]
    outcome: Mapping[str, URIRef]
    sex: Mapping[str, URIRef]
    candidacy: Mapping[str, URIRef]
    scores: Mapping[str, URIRef]
    #: the STarT Back risk groups (``scores.start_back``: low, medium, high), each a class of sk:start_back_result
    start_back: Mapping[str, URIRef]
    zone: Mapping[str, URIRef]
    vitals: Mapping[str, URIRef]
    labs: Mapping[str, URIRef]
    screen_result: Mapping[str, URIRef]
    red_flags: Mapping[str, URIRef]

    @property
    def levels(self) -> Mapping[str, URIRef]:
        """Disc levels and vertebrae together: what an imaging finding's ``level`` may be."""
        return MappingProxyType({**self.disc_levels, **self.vertebrae})

    def as_dicts(self) -> dict[str, dict[str, URIRef]]:
        """Every field as a plain dict (what the cache stores)."""
        return {f.name: dict(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dicts(cls, data: Mapping[str, Mapping[str, URIRef]]) -> Vocabulary:
        """The vocabulary back from :meth:`as_dicts`.

        >>> from reasoner.case.model import vocabulary
        >>> Vocabulary.from_dicts(vocabulary().as_dicts()) == vocabulary()
        True
        """
        return cls(**{name: MappingProxyType(dict(values)) for name, values in data.items()})

    def id_of(self, field: str, iri: Node) -> str | None:
        """The id of ``iri`` in the named vocabulary field, or None when it has none.

        >>> from reasoner.case.model import vocabulary
        >>> vocabulary().id_of("levels", SK["disc_L4-L5"]), vocabulary().id_of("sex", SK.left)
        ('L4-L5', None)
        """
        return next((k for k, v in getattr(self, field).items() if v == iri), None)


_CLASSES = """
SELECT DISTINCT ?c ?n WHERE {
  ?c rdfs:subClassOf* ?kind ; skos:notation ?n . FILTER(isIRI(?c))
}"""
_MEMBERS = "SELECT DISTINCT ?x ?n WHERE { ?x a ?kind . OPTIONAL { ?x skos:notation ?n } FILTER(isIRI(?x)) }"


def read_vocabulary(kb: Graph) -> Vocabulary:
    """Read every id a case may use from the knowledge base ``kb``.

    Finding, risk-factor and intervention ids are the ``skos:notation`` of the classes under the kind;
    dermatomes, body regions and levels the notation of their individuals; the small value sets
    (laterality, severity, modality, outcome, sex, candidacy, zone, red-flag screen result) are the
    individuals of their class, by notation where they have one (``severity_none`` is ``none``) and by
    local name otherwise (``injection_candidate`` is ``injection``). The keys of ``vitals`` and ``labs``
    are the notations of the direct subclasses of ``sk:VitalSign`` and ``sk:LaboratoryResult`` (a class
    defined by a threshold below them, such as ``sk:fever_measured``, is not a key); the red flags a case may
    record as excluded are the notations of the direct subclasses of ``sk:RedFlag``.

    >>> from reasoner.kb.load import load_kb
    >>> read_vocabulary(load_kb()).candidacy["surgery"]
    rdflib.term.URIRef('https://w3id.org/spinekg/surgery_candidate')
    """

    def classes(*kinds: URIRef) -> Mapping[str, URIRef]:
        found: dict[str, URIRef] = {}
        for kind in kinds:
            rows = cast("Iterable[ResultRow]", kb.query(_CLASSES, initNs=PREFIXES, initBindings={"kind": kind}))
            for row in rows:
                found[str(row.n)] = cast(URIRef, row.c)
        return MappingProxyType(dict(sorted(found.items())))

    def members(kind: URIRef, notation_only: bool = False, strip: str = "") -> Mapping[str, URIRef]:
        found: dict[str, URIRef] = {}
        rows = cast("Iterable[ResultRow]", kb.query(_MEMBERS, initNs=PREFIXES, initBindings={"kind": kind}))
        for row in rows:
            if row.n is not None:
                found[str(row.n)] = cast(URIRef, row.x)
            elif not notation_only:
                found[str(row.x).removeprefix(str(SK)).removesuffix(strip)] = cast(URIRef, row.x)
        return MappingProxyType(dict(sorted(found.items())))

    def measured(kind: URIRef) -> Mapping[str, URIRef]:
        found = {
            str(n): cast(URIRef, c) for c in kb.subjects(RDFS.subClassOf, kind) for n in kb.objects(c, SKOS.notation)
        }
        return MappingProxyType(dict(sorted(found.items())))

    scores = {
        str(n).removesuffix("_score"): cast(URIRef, c)
        for c in kb.subjects(RDFS.subClassOf, SK.ScoreFinding)
        for n in kb.objects(c, SKOS.notation)
        if str(n).endswith("_score")
    }
    start_back = {
        str(n).removeprefix("start_back_"): cast(URIRef, c)
        for c in kb.subjects(RDFS.subClassOf, SK.start_back_result)
        for n in kb.objects(c, SKOS.notation)
    }
    return Vocabulary(
        symptom_types=classes(SK.Symptom, SK.ClinicalFinding),
        pain_types=classes(SK.PainSymptom),
        imaging_finding_types=classes(SK.ImagingFinding),
        risk_factors=classes(SK.RiskFactor),
        interventions=classes(SK.Intervention),
        dermatomes=members(SK.Dermatome, notation_only=True),
        body_regions=members(SK.BodyRegion, notation_only=True),
        disc_levels=members(SK.DiscLevel, notation_only=True),
        vertebrae=members(SK.SpinalLevel, notation_only=True),
        laterality=members(SK.Laterality),
        severity=members(SK.Severity),
        modality=members(SK.Modality),
        outcome=members(SK.Outcome),
        sex=members(SK.Sex),
        candidacy=members(SK.Candidacy, strip="_candidate"),
        scores=MappingProxyType(dict(sorted(scores.items()))),
        start_back=MappingProxyType(dict(sorted(start_back.items()))),
        zone=members(SK.Zone),
        vitals=measured(SK.VitalSign),
        labs=measured(SK.LaboratoryResult),
        screen_result=members(SK.ScreenResult),
        red_flags=measured(SK.RedFlag),
    )


_FACETS = {
    str(XSD.minInclusive): lambda v, limit: v >= limit,
    str(XSD.minExclusive): lambda v, limit: v > limit,
    str(XSD.maxInclusive): lambda v, limit: v <= limit,
    str(XSD.maxExclusive): lambda v, limit: v < limit,
}
_FLAGGED = """
SELECT DISTINCT ?c ?flag WHERE {
  ?flag rdfs:subClassOf sk:RedFlag . ?c rdfs:subClassOf+ ?flag . FILTER(isIRI(?c))
  FILTER NOT EXISTS { ?flag sk:beyondRedFlagScreen true }
}"""


@dataclass(frozen=True)
class RedFlagFeatures:
    """What a case document can record that is a red-flag feature by itself, read from the KB.

    ``types``: each class (by IRI) that is a subclass of a red flag a red-flag screen covers (not one the KB
    says is ``sk:beyondRedFlagScreen``: a spinal instability), with those red flags. ``thresholds``: each
    class defined as a measurement kind whose ``sk:measuredValue`` lies in a range (``sk:fever_measured``) and
    that is a subclass of a red flag, as (measurement kind, [(facet, limit)], red flags).
    """

    types: dict[str, tuple[str, ...]]
    thresholds: tuple[tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]], ...]

    def flags_of_value(self, kind: str, value: int | float) -> tuple[str, ...]:
        """The red flags a measured value of the measurement kind ``kind`` (an IRI) is a feature of.

        >>> from reasoner.case.model import vocabulary
        >>> from reasoner.case.validate import red_flag_features
        >>> red_flag_features().flags_of_value(str(vocabulary().vitals["temperature_c"]), 38.0)
        ('https://w3id.org/spinekg/infection_suspected',)
        >>> red_flag_features().flags_of_value(str(vocabulary().vitals["temperature_c"]), 37.9)
        ()
        """
        number = Decimal(repr(value))
        flags = {
            flag
            for base, facets, flagged in self.thresholds
            if base == kind and all(_FACETS[f](number, Decimal(limit)) for f, limit in facets)
            for flag in flagged
        }
        return tuple(sorted(flags))


def read_red_flag_features(kb: Graph) -> RedFlagFeatures:
    """The red-flag features of the knowledge base ``kb`` (see :class:`RedFlagFeatures`)."""
    from rdflib.collection import Collection

    flags: dict[str, set[str]] = {}
    for row in cast("Iterable[ResultRow]", kb.query(_FLAGGED, initNs=PREFIXES)):
        flags.setdefault(str(row.c), set()).add(str(row.flag))
    thresholds = []
    for cls in sorted(flags):
        for expr in kb.objects(URIRef(cls), OWL.equivalentClass):
            parts = kb.value(expr, OWL.intersectionOf)
            members = list(Collection(kb, parts)) if parts is not None else []
            if len(members) != 2 or not isinstance(members[0], URIRef):
                continue
            restriction, filler = members[1], kb.value(members[1], OWL.someValuesFrom)
            if kb.value(restriction, OWL.onProperty) != SK.measuredValue or filler is None:
                continue
            facets = kb.value(filler, OWL.withRestrictions)
            found = (
                [(str(p), str(v)) for f in Collection(kb, facets) for p, v in kb.predicate_objects(f)] if facets else []
            )
            if found and all(f in _FACETS for f, _ in found):
                thresholds.append((str(members[0]), tuple(found), tuple(sorted(flags[cls]))))
    return RedFlagFeatures({c: tuple(sorted(f)) for c, f in sorted(flags.items())}, tuple(thresholds))


#: Where a measurement of each kind of the case document lives: ``<case>/vital/temperature_c``.
MEASURED = {"vitals": "vital", "labs": "lab"}


def is_absent(entry: Mapping) -> bool:
    """Whether a symptom or imaging finding records an absence: ``present: false`` or ``severity: none``.

    >>> is_absent({"type": "weakness", "severity": "none"}), is_absent({"type": "weakness", "present": True})
    (True, False)
    """
    return entry.get("present", True) is False or entry.get("severity") == "none"


# --- document -> graph ---------------------------------------------------------------------------------------


def _decimal(value: int | float) -> Literal:
    """An ``xsd:decimal`` with the number's own digits, always with a point (``3.0``, ``0.1``): with the point,
    Turtle's shorthand (``3.0``) and JSON-LD give back the same lexical form, so a case read back is the same graph.
    """
    text = str(value) if isinstance(value, int) else format(Decimal(repr(value)), "f")
    return Literal(text if "." in text else text + ".0", datatype=XSD.decimal)


def _typed(value: str, kinds: Mapping[str, URIRef]) -> tuple[URIRef | None, URIRef | None]:
    """``(class, code IRI)`` of a finding type as a validated case gives it: a spinekg id (no code), or an
    external code resolved through the mappings (class None: it maps to no term here and is kept as unmapped).

    >>> from reasoner.case.model import vocabulary
    >>> _typed("SCTID:44077006", vocabulary().symptom_types)
    (rdflib.term.URIRef('https://w3id.org/spinekg/numbness'), rdflib.term.URIRef('http://snomed.info/id/44077006'))
    """
    if value in kinds:
        return kinds[value], None

    system, code = cast("tuple[System, str]", split_curie(value))  # a validated case: a known system
    return resolve_for(value, kinds, "").term, URIRef(system.iri + code)


def document_graph(
    doc: Mapping,
    vocab: Vocabulary,
    case: URIRef,
    keep: Callable[[str], bool] = _ALL,
    identify: bool = True,
    into=None,
) -> Graph:
    """The RDF of a validated case document; ``keep(path)`` leaves out entries (used for the salvage graph).
    ``into``, anything with ``add(triple)`` (a list's ``append`` will do, wrapped), receives the triples instead
    of a new rdflib graph (the cohort path writes them straight to N-Triples).

    ``keep`` is asked about ``age``, ``sex``, ``candidate_for``, ``scores``, ``symptoms[i]``, ``imaging[j]``,
    ``imaging[j].findings[k]``, ``risk_factors[m]``, ``prior_treatments[n]``, ``vitals.<key>``, ``labs.<key>``
    and ``red_flag_screen``. With ``identify`` false the case gets no ``dcterms:identifier`` (its id was
    rejected).

    A symptom or imaging finding recorded ``present: false`` or ``severity: none`` is an absence
    (``sk:FindingAbsence`` with ``sk:absentType``); ``severity: none`` stays on it as ``sk:severity_none``.
    The case's ``sk:episodeWeeks`` is derived: the longest duration of the present symptoms kept, of the nearest
    ``episode.episode_rank`` (the pain's first), and its ``sk:sciaticaWeeks`` (``episode.episode_lengths``). A prior
    treatment that ended before that episode began is also a ``sk:CourseBeforeEpisode`` (``episode.before_episode``).

    >>> from reasoner.case.model import vocabulary
    >>> g = document_graph({"id": "d1", "age": 45}, vocabulary(), URIRef(CASE_BASE + "d1"))
    >>> g.value(URIRef(CASE_BASE + "d1/patient"), SK.age)
    rdflib.term.Literal('45.0', datatype=rdflib.term.URIRef('http://www.w3.org/2001/XMLSchema#decimal'))
    """
    g = new_graph() if into is None else into
    patient = URIRef(f"{case}/patient")
    g.add((case, RDF.type, SK.Case))
    if identify and "id" in doc:
        g.add((case, DCTERMS.identifier, Literal(doc["id"])))
    g.add((case, SK.patient, patient))
    g.add((patient, RDF.type, SK.Patient))
    if "age" in doc and keep("age"):
        g.add((patient, SK.age, _decimal(doc["age"])))
    if "sex" in doc and keep("sex"):
        g.add((patient, SK.sex, vocab.sex[doc["sex"]]))
    if keep("candidate_for"):
        for cand in doc.get("candidate_for", []):
            g.add((case, SK.candidateFor, vocab.candidacy[cand]))
    for i, flag in enumerate(doc.get("red_flags_excluded", [])):  # worked up and excluded by the clinician
        if keep(f"red_flags_excluded[{i}]"):
            g.add((case, SK.excludesRedFlag, vocab.red_flags[flag]))
    for listed in ("candidate_for", "prior_treatments"):  # an empty list is recorded: the patient has none
        if doc.get(listed) == [] and keep(listed):
            g.add((case, SK.recordsNoneOf, Literal(listed)))

    def finding(node: URIRef, entry: Mapping, kinds: Mapping[str, URIRef], generic: URIRef) -> None:
        cls, code = _typed(entry["type"], kinds)
        if not is_absent(entry):
            g.add((node, RDF.type, cls if cls is not None else generic))
            if code is not None:  # the code it was given as: the finding is an instance of the code's class too
                g.add((node, RDF.type, code))
            g.add((node, RDF.type, OWL.NamedIndividual))
            g.add((node, SK.ofPatient, patient))
        else:
            g.add((node, RDF.type, SK.FindingAbsence))
            for absent in (cls, code):
                if absent is not None:
                    g.add((node, SK.absentType, absent))
        g.add((node, SK.inCase, case))
        lat = entry.get("laterality", entry.get("side"))
        if lat is not None:
            g.add((node, SK.laterality, vocab.laterality[lat]))
        for d in entry.get("dermatomes", []):
            g.add((node, SK.inDermatome, vocab.dermatomes[d]))
        for r in entry.get("body_regions", []):
            g.add((node, SK.inBodyRegion, vocab.body_regions[r]))
        if "level" in entry:
            prop = SK.atDiscLevel if entry["level"] in vocab.disc_levels else SK.atSpinalLevel
            g.add((node, prop, vocab.levels[entry["level"]]))
        if "zone" in entry:
            g.add((node, SK.zone, vocab.zone[entry["zone"]]))
        if "duration_weeks" in entry:
            g.add((node, SK.durationWeeks, _decimal(entry["duration_weeks"])))
        if "progressive" in entry:
            g.add((node, SK.progressive, Literal(entry["progressive"])))
        if "severity" in entry:
            g.add((node, SK.severity, vocab.severity[entry["severity"]]))
        if "new" in entry:
            g.add((node, SK.isNew, Literal(entry["new"])))
        if "strength_mrc" in entry:
            g.add((node, SK.mrcGrade, Literal(str(entry["strength_mrc"]), datatype=XSD.integer)))

    kept = [(i, entry) for i, entry in enumerate(doc.get("symptoms", [])) if keep(f"symptoms[{i}]")]
    for i, entry in kept:
        finding(URIRef(f"{case}/symptom/{i}"), entry, vocab.symptom_types, SK.Symptom)
    pains = set(vocab.pain_types.values())  # the phases are the pain's: a pain is measured first
    # a hip-origin pain generator on the imaging kept: the hip look-alike pains it explains are not the episode's
    hip = any(
        str(_typed(entry["type"], vocab.imaging_finding_types)[0]) in HIP_GENERATORS and not is_absent(entry)
        for j, study in enumerate(doc.get("imaging", []))
        if keep(f"imaging[{j}]")
        for k, entry in enumerate(study.get("findings", []))
        if keep(f"imaging[{j}].findings[{k}]")
    )

    def described(e: Mapping) -> tuple[float, list[str], list[str]]:
        cls = _typed(e["type"], vocab.symptom_types)[0]
        where = [vocab.dermatomes[d] for d in e.get("dermatomes", [])] + [
            vocab.body_regions[r] for r in e.get("body_regions", [])
        ]
        return e["duration_weeks"], [str(cls)] + [str(SK.PainSymptom)] * (cls in pains), [str(w) for w in where]

    dated = [described(e) for _, e in kept if "duration_weeks" in e and not is_absent(e)]
    lengths = episode_lengths(dated, hip)
    for prop, weeks in zip((SK.episodeWeeks, SK.sciaticaWeeks), lengths, strict=True):
        if weeks is not None:
            g.add((case, prop, _decimal(weeks)))
    for j, study in enumerate(doc.get("imaging", [])):
        if not keep(f"imaging[{j}]"):
            continue
        s = URIRef(f"{case}/imaging/{j}")
        g.add((s, RDF.type, SK.ImagingStudy))
        g.add((s, SK.inCase, case))
        if "modality" in study:
            g.add((s, SK.modality, vocab.modality[study["modality"]]))
        if "contrast" in study:
            g.add((s, SK.contrast, Literal(study["contrast"])))
        if "weeks_ago" in study:
            g.add((s, SK.weeksAgo, _decimal(study["weeks_ago"])))
        for k, entry in enumerate(study.get("findings", [])):
            if keep(f"imaging[{j}].findings[{k}]"):
                node = URIRef(f"{s}/finding/{k}")
                g.add((node, SK.fromStudy, s))
                finding(node, entry, vocab.imaging_finding_types, SK.ImagingFinding)
    for m, rf in enumerate(doc.get("risk_factors", [])):
        if keep(f"risk_factors[{m}]"):
            node = URIRef(f"{case}/risk/{m}")
            cls, code = _typed(rf, vocab.risk_factors)
            g.add((node, RDF.type, cls if cls is not None else SK.RiskFactor))
            if code is not None:
                g.add((node, RDF.type, code))
            g.add((node, RDF.type, OWL.NamedIndividual))
            g.add((node, SK.inCase, case))
            g.add((node, SK.ofPatient, patient))
    for n, treatment in enumerate(doc.get("prior_treatments", [])):
        if keep(f"prior_treatments[{n}]"):
            node = URIRef(f"{case}/treatment/{n}")
            g.add((node, RDF.type, SK.PriorTreatment))
            g.add((node, SK.inCase, case))
            g.add((node, SK.treatmentType, vocab.interventions[treatment["type"]]))
            if "weeks" in treatment:
                g.add((node, SK.weeks, _decimal(treatment["weeks"])))
            if "weeks_ago" in treatment:
                g.add((node, SK.treatmentWeeksAgo, _decimal(treatment["weeks_ago"])))
            if "outcome" in treatment:
                g.add((node, SK.outcome, vocab.outcome[treatment["outcome"]]))
            if before_episode(treatment.get("weeks_ago"), treatment.get("weeks"), lengths[0]):
                g.add((node, RDF.type, SK.CourseBeforeEpisode))  # ended before this episode began
    if keep("scores"):
        for key, value in doc.get("scores", {}).items():
            node = URIRef(f"{case}/score/{key}")
            # a STarT Back result is a risk group, its class (no value); a numeric score has its value
            g.add((node, RDF.type, vocab.start_back[value] if key == "start_back" else vocab.scores[key]))
            g.add((node, RDF.type, OWL.NamedIndividual))
            g.add((node, SK.inCase, case))
            g.add((node, SK.ofPatient, patient))
            if key != "start_back":
                g.add((node, SK.scoreValue, Literal(str(value), datatype=XSD.integer)))
    for field, segment in MEASURED.items():
        kinds = getattr(vocab, field)
        for key, value in doc.get(field, {}).items():
            if keep(f"{field}.{key}"):
                node = URIRef(f"{case}/{segment}/{key}")
                g.add((node, RDF.type, kinds[key]))
                g.add((node, RDF.type, OWL.NamedIndividual))
                g.add((node, SK.inCase, case))
                g.add((node, SK.ofPatient, patient))
                g.add((node, SK.measuredValue, _decimal(value)))
    if "red_flag_screen" in doc and keep("red_flag_screen"):
        node = URIRef(f"{case}/red_flag_screen")
        g.add((node, RDF.type, SK.RedFlagScreen))
        g.add((node, SK.inCase, case))
        g.add((node, SK.screenResult, vocab.screen_result[doc["red_flag_screen"]["result"]]))
    return g
