"""Baseline (c), the lower bound: the same rules matched in plain Python over the case dicts, no RDF at all.

The knowledge base is read once: the recommendations' conditions, the subclass hierarchy, the red flags, the
body-region, dermatome and disc-level anatomy, the zones' root reach, the case fields (``sk:caseField``) and what
each clinical presentation is defined on (``sk:requiresRecord``), and the OWL class definitions compiled to Python
predicates (as reasoner/reasoning/classify.py compiles them to SPARQL; a definition of a class of cases, a clinical
presentation, reads the case's records through ``owl:inverseOf sk:inCase`` and reports the records that
established it). Then each case document becomes a handful of small objects named by the IRIs its graph would
use, is classified to a fixpoint together with the derivations (the episode length, lumbosacral radicular pain,
nerve root compression from concordant imaging), and every condition is decided as apply.py's queries decide it.
No validation: the cases are generated valid.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator

from rdflib import BNode, Literal, URIRef
from rdflib.collection import Collection

from reasoner.case.graph import MEASURED, _typed, is_absent
from reasoner.case.model import CASE_BASE, vocabulary
from reasoner.consts import OWL, RDF, RDFS, SK, SKOS, XSD
from reasoner.plan.assemble import assemble
from reasoner.plan.model import Plan
from reasoner.reasoning.conditions import FAILS, HOLDS, UNKNOWN
from reasoner.reasoning.engine import DETAIL_PROPERTIES, CaseRun, Reasoner

from . import (
    COMPRESSION,
    DURATION,
    EPISODE,
    EXCLUDED_AS,
    FAILED_OUTCOMES,
    IMPINGEMENT,
    LATERALITY,
    NEW_SEVERE_DEFICIT,
    NO_LEVEL_COMPRESSION,
    POSSIBLE_COMPRESSION,
    PREVIOUS_CARE,
    SCIATICA,
    SEVERITY,
    THIS_EPISODE_WEAKNESS,
    Conditions,
    Derivations,
    Node,
    fold,
    grouped,
    left_open,
    severity_graded,
    speak,
)

NAME, LABEL = "c", "plain Python"
_S = str(SK)
_NAMED_INDIVIDUAL, _TYPE = str(OWL.NamedIndividual), str(RDF.type)
BILATERAL, IN_CASE = _S + "bilateral", _S + "inCase"
_FACETS = {
    XSD.minInclusive: lambda v, x: v >= x,
    XSD.maxInclusive: lambda v, x: v <= x,
    XSD.minExclusive: lambda v, x: v > x,
    XSD.maxExclusive: lambda v, x: v < x,
}
#: A compiled class expression: None when the resource is not in the class, else the case records that the
#: definition bound through ``owl:inverseOf sk:inCase`` (what established a clinical presentation; often none).
Match = Callable[[object, dict], "frozenset[str] | None"]
_NONE: frozenset[str] = frozenset()
#: The records a graded finding type's severity is missing from: symptoms, imaging findings.
_GRADED_FIELDS = ((_S + "Symptom", "symptoms[].severity"), (_S + "ImagingFinding", "imaging[].findings[].severity"))


def _text(value) -> str:
    """A property value as the plan reads a recorded fact: numbers as ``%g``, booleans as in RDF, IRIs as given."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"{float(value):g}"
    return str(value)


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class PlainPython:
    """The rules of the knowledge base over case dicts, as fast as plain Python makes them."""

    name, label = NAME, LABEL

    def __init__(self, reasoner: Reasoner):
        kb = reasoner.kb
        self.reasoner = reasoner
        self.kb = kb
        self.vocab = vocabulary()
        conditions = Conditions.read(reasoner)
        self.conditions = [
            (rec, cond, kind, params) for rec, conds in conditions.by_rec.items() for cond, kind, params in conds
        ]
        self.catalogue = conditions.catalogue
        parents: dict[str, set[str]] = defaultdict(set)
        for s, o in kb.subject_objects(RDFS.subClassOf):
            if isinstance(s, URIRef) and isinstance(o, URIRef):
                parents[str(s)].add(str(o))
        self.supers: dict[str, frozenset[str]] = {}  # strict named superclasses
        for c in list(parents):
            self._supers(c, parents)
        self.red_flags = sorted(str(s) for s in kb.subjects(RDFS.subClassOf, SK.RedFlag) if isinstance(s, URIRef))
        self.derivations = Derivations(kb, lambda c: self.supers.get(c, frozenset()))
        self.graded = severity_graded(kb)  # severe_pain → PainSymptom
        self.left_open = left_open(kb)  # segmental_instability → (its sk:assessedIn, [spondylolisthesis])
        self.notations = {str(s): str(o) for s, o in kb.subject_objects(SKOS.notation)}
        self.spine_regions = grouped(kb.subject_objects(SK.inSpineRegion))  # a level → its regions of the spine
        self.spans, self.reach, self.roots = self.derivations.spans, self.derivations.reach, self.derivations.roots
        self.measures = grouped((score, cls) for cls, score in kb.subject_objects(SK.measures))
        self.case_fields = grouped(kb.subject_objects(SK.caseField))  # class or property → the case field of it
        self.requires = grouped(kb.subject_objects(SK.requiresRecord))  # presentation → what it is defined on
        self.within = grouped(kb.subject_objects(SK.within))  # presentation → those it is graded within
        self.confirmed_by = grouped(kb.subject_objects(SK.confirmedBy))  # red flag → presentations confirming it
        # the red flags a severe motor deficit of this episode raises (a weakness with no grade or course: unknown)
        self.new_deficit_flags = {NEW_SEVERE_DEFICIT} | self.supers.get(NEW_SEVERE_DEFICIT, frozenset())
        case_classes = {str(c) for c in kb.transitive_subjects(RDFS.subClassOf, SK.Case)}
        # the presentations a plan names: below sk:ClinicalPresentation, with a notation
        self.presentations = sorted(
            c
            for c in case_classes
            if _S + "ClinicalPresentation" in self.supers.get(c, ()) and (URIRef(c), SKOS.notation, None) in kb
        )
        self.kb_types: dict[str, set[str]] = defaultdict(set)
        self.kb_props: dict[tuple[str, str], list[str]] = {}  # (KB individual, property) → its values
        definitions = self._compile_definitions()
        self.case_definitions = [(c, m) for c, m in definitions if c in case_classes]
        self.fact_definitions = [(c, m) for c, m in definitions if c not in case_classes]

    # --- the knowledge base, read once ------------------------------------------------------------------------

    def _of_region(self, study: Node, facts: list[Node], regions) -> bool:
        """A study of one of these regions of the spine: a finding of it at a level in one, or no level recorded."""
        levels = [
            level
            for f in facts
            if study.iri in f.props.get(_S + "fromStudy", [])
            for level in (*f.props.get(_S + "atDiscLevel", []), *f.props.get(_S + "atSpinalLevel", []))
        ]
        return not levels or any(r in self.spine_regions.get(level, ()) for level in levels for r in regions)

    def _supers(self, c: str, parents: dict[str, set[str]], seen: frozenset[str] = frozenset()) -> frozenset[str]:
        if c in self.supers:
            return self.supers[c]
        acc: set[str] = set()
        for p in parents.get(c, ()):
            if p not in seen:
                acc |= {p} | self._supers(p, parents, seen | {c})
        self.supers[c] = frozenset(acc)
        return self.supers[c]

    def _closed(self, types) -> set[str]:
        return set(types).union(*(self.supers.get(t, ()) for t in types))

    def _compile_definitions(self) -> list[tuple[str, Match]]:
        kb = self.kb
        out = []
        for cls, expr in sorted(kb.subject_objects(OWL.equivalentClass)):
            if not isinstance(cls, URIRef) or not isinstance(expr, BNode) or (expr, OWL.oneOf, None) in kb:
                continue
            out.append((str(cls), self._compile(expr)))
        return out

    def _types_of(self, value, nodes: dict) -> set[str]:
        if isinstance(value, Node):
            return value.types
        if isinstance(value, str):
            node = nodes.get(value)
            if node is not None:
                return node.types
            if value not in self.kb_types:
                self.kb_types[value] = {str(t) for t in self.kb.objects(URIRef(value), RDF.type)}
            return self.kb_types[value]
        return set()

    def _props(self, value, nodes: dict, prop: str) -> list:
        """A resource's values of ``prop``: a case resource's, else a KB individual's (a level's spine region)."""
        node = value if isinstance(value, Node) else nodes.get(value) if isinstance(value, str) else None
        if node is not None:
            return node.props.get(prop, [])
        if not isinstance(value, str):
            return []
        if (value, prop) not in self.kb_props:
            self.kb_props[(value, prop)] = [str(o) for o in self.kb.objects(URIRef(value), URIRef(prop))]
        return self.kb_props[(value, prop)]

    @staticmethod
    def _inverse(value, nodes: dict, prop: str) -> list[Node]:
        """The resources of the case that have ``value`` as a value of ``prop``."""
        iri = value.iri if isinstance(value, Node) else value
        return [n for n in nodes.values() if iri in n.props.get(prop, ())]

    def _compile(self, expr) -> Match:
        kb = self.kb
        if isinstance(expr, URIRef):
            name = str(expr)
            return lambda v, nodes: _NONE if name in self._types_of(v, nodes) else None
        if (expr, OWL.intersectionOf, None) in kb:
            parts = [self._compile(m) for m in Collection(kb, kb.value(expr, OWL.intersectionOf))]

            def every(v, nodes):
                found = _NONE
                for part in parts:
                    w = part(v, nodes)
                    if w is None:
                        return None
                    found = found | w if w else found
                return found

            return every
        if (expr, OWL.unionOf, None) in kb:
            parts = [self._compile(m) for m in Collection(kb, kb.value(expr, OWL.unionOf))]

            def some(v, nodes):
                found = None
                for part in parts:
                    w = part(v, nodes)
                    if w is not None:
                        found = w if found is None else found | w
                return found

            return some
        if (expr, OWL.oneOf, None) in kb:
            members = {str(m) for m in Collection(kb, kb.value(expr, OWL.oneOf))}
            return lambda v, nodes: _NONE if (v.iri if isinstance(v, Node) else v) in members else None
        if (expr, RDF.type, OWL.Restriction) in kb:
            on = kb.value(expr, OWL.onProperty)
            inverse = kb.value(on, OWL.inverseOf) if isinstance(on, BNode) else None
            if inverse is not None:
                # a class of cases read through its records: each record that fills it is a witness
                prop, witness = str(inverse), inverse == SK.inCase
                test = self._compile_filler(kb.value(expr, OWL.someValuesFrom))

                def through_records(v, nodes):
                    found = None
                    for y in self._inverse(v, nodes, prop):
                        w = test(y, nodes)
                        if w is not None:
                            w = w | {y.iri} if witness else w
                            found = w if found is None else found | w
                    return found

                return through_records
            prop = str(on)
            if (expr, OWL.hasValue, None) in kb:
                value = kb.value(expr, OWL.hasValue)
                want = value.toPython() if isinstance(value, Literal) else str(value)
                return lambda v, nodes: _NONE if any(x == want for x in self._props(v, nodes, prop)) else None
            test = self._compile_filler(kb.value(expr, OWL.someValuesFrom))

            def through(v, nodes):
                found = None
                for y in self._props(v, nodes, prop):
                    w = test(y, nodes)
                    if w is not None:
                        found = w if found is None else found | w
                return found

            return through
        raise ValueError(f"plain Python baseline: class expression {expr} is not supported")

    def _compile_filler(self, filler) -> Match:
        kb = self.kb
        if (filler, RDF.type, RDFS.Datatype) in kb:
            tests = []
            for facet in Collection(kb, kb.value(filler, OWL.withRestrictions)):
                for pred, value in kb.predicate_objects(facet):
                    tests.append((_FACETS[pred], float(value.toPython())))

            def numeric(y, nodes):
                n = _number(y)
                return _NONE if n is not None and all(check(n, bound) for check, bound in tests) else None

            return numeric
        if isinstance(filler, URIRef) and any(
            (e, OWL.oneOf, None) in kb for e in kb.objects(filler, OWL.equivalentClass)
        ):
            return self._compile(kb.value(filler, OWL.equivalentClass))
        return self._compile(filler)

    # --- one case ---------------------------------------------------------------------------------------------

    def nodes(self, doc: dict) -> tuple[str, dict[str, Node], list[Node]]:
        """The case IRI, every resource of the case by IRI, and those that are ``sk:inCase`` (the facts)."""
        v = self.vocab
        case = CASE_BASE + doc["id"]
        nodes: dict[str, Node] = {}
        facts: list[Node] = []
        c = nodes[case] = Node(case, _S + "Case")
        patient = nodes[case + "/patient"] = Node(case + "/patient", _S + "Patient")
        c.props[_S + "patient"].append(patient.iri)
        if "age" in doc:
            patient.props[_S + "age"].append(float(doc["age"]))
        if "sex" in doc:
            patient.props[_S + "sex"].append(str(v.sex[doc["sex"]]))
        for cand in doc.get("candidate_for", []):
            c.props[_S + "candidateFor"].append(str(v.candidacy[cand]))
        for flag in doc.get("red_flags_excluded", []):
            c.props[_S + "excludesRedFlag"].append(str(v.red_flags[flag]))
        for listed in ("candidate_for", "prior_treatments"):  # an empty list: recorded, the patient has none
            if doc.get(listed) == []:
                c.props[_S + "recordsNoneOf"].append(listed)

        def fact(iri: str, *types: str) -> Node:
            node = nodes[iri] = Node(iri, *types)
            node.props[IN_CASE].append(case)
            facts.append(node)
            return node

        def finding(iri: str, entry: dict, kinds, generic: str) -> Node:
            cls, code = (kinds[entry["type"]], None) if entry["type"] in kinds else _typed(entry["type"], kinds)
            if not is_absent(entry):  # present: false, or severity: none
                node = fact(iri, str(cls) if cls is not None else generic, _NAMED_INDIVIDUAL)
                if code is not None:
                    node.types.add(str(code))
                node.props[_S + "ofPatient"].append(patient.iri)
            else:
                node = fact(iri, _S + "FindingAbsence")
                node.props[_S + "absentType"] += [str(t) for t in (cls, code) if t is not None]
            p = node.props
            lat = entry.get("laterality", entry.get("side"))
            if lat is not None:
                p[_S + "laterality"].append(str(v.laterality[lat]))
            p[_S + "inDermatome"] += [str(v.dermatomes[d]) for d in entry.get("dermatomes", [])]
            p[_S + "inBodyRegion"] += [str(v.body_regions[r]) for r in entry.get("body_regions", [])]
            if "level" in entry:
                level = entry["level"]
                p[_S + ("atDiscLevel" if level in v.disc_levels else "atSpinalLevel")].append(str(v.levels[level]))
            if "zone" in entry:
                p[_S + "zone"].append(str(v.zone[entry["zone"]]))
            if "duration_weeks" in entry:
                p[DURATION].append(float(entry["duration_weeks"]))
            if "progressive" in entry:
                p[_S + "progressive"].append(entry["progressive"])
            if "severity" in entry:
                p[SEVERITY].append(str(v.severity[entry["severity"]]))
            if "new" in entry:
                p[_S + "isNew"].append(entry["new"])
            if "strength_mrc" in entry:
                p[_S + "mrcGrade"].append(entry["strength_mrc"])
            return node

        for i, entry in enumerate(doc.get("symptoms", [])):
            finding(f"{case}/symptom/{i}", entry, v.symptom_types, _S + "Symptom")
        for j, study in enumerate(doc.get("imaging", [])):
            s = fact(f"{case}/imaging/{j}", _S + "ImagingStudy")
            if "modality" in study:
                s.props[_S + "modality"].append(str(v.modality[study["modality"]]))
            if "weeks_ago" in study:
                s.props[_S + "weeksAgo"].append(float(study["weeks_ago"]))
            if "contrast" in study:
                s.props[_S + "contrast"].append(bool(study["contrast"]))
            for k, entry in enumerate(study.get("findings", [])):
                node = finding(f"{s.iri}/finding/{k}", entry, v.imaging_finding_types, _S + "ImagingFinding")
                node.props[_S + "fromStudy"].append(s.iri)
        for m, rf in enumerate(doc.get("risk_factors", [])):
            cls, code = (v.risk_factors[rf], None) if rf in v.risk_factors else _typed(rf, v.risk_factors)
            node = fact(f"{case}/risk/{m}", str(cls) if cls is not None else _S + "RiskFactor", _NAMED_INDIVIDUAL)
            if code is not None:
                node.types.add(str(code))
            node.props[_S + "ofPatient"].append(patient.iri)
        for n, treatment in enumerate(doc.get("prior_treatments", [])):
            node = fact(f"{case}/treatment/{n}", _S + "PriorTreatment")
            node.props[_S + "treatmentType"].append(str(v.interventions[treatment["type"]]))
            if "weeks" in treatment:
                node.props[_S + "weeks"].append(float(treatment["weeks"]))
            if "weeks_ago" in treatment:
                node.props[_S + "treatmentWeeksAgo"].append(float(treatment["weeks_ago"]))
            if "outcome" in treatment:
                node.props[_S + "outcome"].append(str(v.outcome[treatment["outcome"]]))
        for key, value in doc.get("scores", {}).items():
            if key == "start_back":  # a STarT Back result: its risk group is its class, it has no value
                node = fact(f"{case}/score/{key}", str(v.start_back[value]), _NAMED_INDIVIDUAL)
                node.props[_S + "ofPatient"].append(patient.iri)
                continue
            node = fact(f"{case}/score/{key}", str(v.scores[key]), _NAMED_INDIVIDUAL)
            node.props[_S + "ofPatient"].append(patient.iri)
            node.props[_S + "scoreValue"].append(value)
        for field, segment in MEASURED.items():
            kinds = getattr(v, field)
            for key, value in doc.get(field, {}).items():
                node = fact(f"{case}/{segment}/{key}", str(kinds[key]), _NAMED_INDIVIDUAL)
                node.props[_S + "ofPatient"].append(patient.iri)
                node.props[_S + "measuredValue"].append(float(value))
        if "red_flag_screen" in doc:
            node = fact(f"{case}/red_flag_screen", _S + "RedFlagScreen")
            node.props[_S + "screenResult"].append(str(v.screen_result[doc["red_flag_screen"]["result"]]))
        return case, nodes, facts

    @staticmethod
    def details(facts: list[Node], patient: Node) -> dict[str, dict[str, set[str]]]:
        """What the case records of each fact and of the patient, before classification (the plan's words)."""
        out = {}
        for node in (*facts, patient):
            found = {}
            types = {t for t in node.types if t.startswith(_S) or not t.startswith("http://www.w3.org/")}
            if types:
                found[_TYPE] = types
            for prop in DETAIL_PROPERTIES:
                if node.props.get(prop):
                    found[prop] = {_text(x) for x in node.props[prop]}
            if found:
                out[node.iri] = found
        return out

    def classify(self, c: Node, facts: list[Node], nodes: dict[str, Node]) -> dict[str, set[str]]:
        """The subclass closure, the compiled definitions and the derivations, to a fixpoint, over the case and its
        facts; returns, per class of cases, the records that established it."""
        for node in (c, *facts):
            node.types = self._closed(node.types)
        established: dict[str, set[str]] = defaultdict(set)
        changed = True
        while changed:
            changed = self.derivations.run(c, facts)
            for node in facts:
                for cls, match in self.fact_definitions:
                    if cls not in node.types and match(node, nodes) is not None:
                        node.types |= {cls} | self.supers.get(cls, frozenset())
                        changed = True
            for cls, match in self.case_definitions:
                witnesses = match(c, nodes)
                if witnesses is None:
                    continue
                if cls not in c.types:
                    c.types |= {cls} | self.supers.get(cls, frozenset())
                    changed = True
                if not witnesses <= established[cls]:
                    established[cls] |= witnesses
                    changed = True
        return established

    def run(self, doc: dict) -> CaseRun:
        """What the reasoning finds for one case document."""
        case, nodes, facts = self.nodes(doc)
        c = nodes[case]
        run = CaseRun(case)
        run.details = self.details(facts, nodes[case + "/patient"])
        established = self.classify(c, facts, nodes)
        for f in facts:
            run.fact_types[f.iri] = set(f.types)
        excluded = set(c.props.get(_S + "excludesRedFlag", []))  # worked up and excluded: said, not raised
        for flag in self.red_flags:
            for f in facts:
                if flag in f.types:
                    covered = flag in f.props.get(EXCLUDED_AS, ())  # … where the exclusion covers the record
                    (run.excluded_flags if covered else run.red_flags)[flag].add(f.iri)
                    if flag in excluded and not covered:  # begun or progressing after the work-up: raised again
                        run.reraised_flags[flag].add(f.iri)
        symptoms = [f for f in facts if _S + "Symptom" in f.types]
        for s in symptoms:
            if self.derivations.symptom_kinds.isdisjoint(s.types):
                continue  # an unmapped code's bare symptom: what it is is not known here
            lat = s.first(_S + "laterality")
            derms = list(s.props.get(_S + "inDermatome", []))
            derms += [d for r in s.props.get(_S + "inBodyRegion", []) for d in self.spans.get(r, [])]
            run.symptom_dermatomes += [(s.iri, d, lat) for d in derms]
        for f in facts:
            levels = f.props.get(_S + "atDiscLevel")
            if NO_LEVEL_COMPRESSION in f.types:  # no level: the roots some level would make it reach
                for root in f.props.get(_S + "possiblyCompressesRoot", ()):
                    for side in f.props.get(LATERALITY) or (None,):
                        run.root_reach.append((f.iri, NO_LEVEL_COMPRESSION, None, None, root, side))
            if not levels:
                continue
            # a zone's reach overrides the type's; an inferred compression is not also reported as the impingement
            zone_vias = self.derivations.zone_reach(f)
            compressed = COMPRESSION in f.types
            for level in levels:
                for t in f.types:
                    if t == IMPINGEMENT and compressed:
                        continue
                    for default in self.reach.get(t, ()):
                        for via in self.derivations.level_vias(f, t, default, zone_vias, level):
                            for root in self.roots.get((level, via), ()):
                                for side in f.props.get(LATERALITY) or (None,):
                                    run.root_reach.append((f.iri, t, level, via, root, side))
        weeks = [float(w) for w in c.props.get(EPISODE, ())]  # the episode (rule elapsed), not every symptom
        weeks += [
            w
            for t in self._failed(
                (f for f in facts if _S + "PriorTreatment" in f.types and PREVIOUS_CARE not in f.types),
                _S + "conservative_care",
            )
            for w in t.props.get(_S + "weeks", [])
        ]
        run.elapsed_weeks = max(weeks) if weeks else None
        for p in self.presentations:
            if p in c.types:
                run.presentations[p] = set(established.get(p, ()))
        episode = c.first(EPISODE)
        run.episode_weeks = float(episode) if episode is not None else None
        sciatica = c.first(SCIATICA)
        run.sciatica_weeks = float(sciatica) if sciatica is not None else None
        run.applicability = self.applicability(case, nodes, facts, symptoms, established)
        return run

    def _failed(self, treatments, treatment: str, any_outcome: bool = False) -> list[Node]:
        """The prior treatments of ``treatment`` or a narrower one whose outcome says they failed (or, with
        ``any_outcome``, whatever their outcome)."""
        out = []
        for f in treatments:
            tt, outcome = f.first(_S + "treatmentType"), f.first(_S + "outcome")
            if tt is None or not any_outcome and (outcome is None or outcome.removeprefix(_S) not in FAILED_OUTCOMES):
                continue
            if tt == treatment or treatment in self.supers.get(tt, ()):
                out.append(f)
        return out

    def _is(self, course: Node, kind: str) -> bool:
        """Whether a prior treatment is of ``kind`` or a narrower one."""
        tt = course.first(_S + "treatmentType")
        return tt is not None and (tt == kind or kind in self.supers.get(tt, ()))

    def _helped(self, treatments, treatment: str) -> bool:
        """Whether a prior treatment of ``treatment`` or a narrower one improved the patient (the kind has not failed,
        and care that did not help is not what was had)."""
        return any(t.first(_S + "outcome") == _S + "improved" for t in self._failed(treatments, treatment, True))

    def applicability(self, case: str, nodes: dict[str, Node], facts: list[Node], symptoms: list[Node], established):
        speaks: dict = {}
        c, patient = nodes[case], nodes[case + "/patient"]
        undated = not symptoms or any(not s.props.get(DURATION) for s in symptoms)
        by_type: dict[str, list[Node]] = defaultdict(list)
        for f in facts:
            for t in f.types:
                by_type[t].append(f)
        treated = _S + "PriorTreatment" in by_type
        # the courses of this episode: care of a previous episode is history (derive-care-of-a-previous-episode)
        courses = [t for t in by_type.get(_S + "PriorTreatment", ()) if PREVIOUS_CARE not in t.types]
        # every class the case's records are (or record absent), and the case fields those classes fill
        recorded = set().union(*(f.types | self._closed(f.props.get(_S + "absentType", ())) for f in facts))
        filled = {name for k in recorded for name in self.case_fields.get(k, ())}
        on_case = {name for prop, values in c.props.items() if values for name in self.case_fields.get(prop, ())}
        # what a recorded finding leaves open (sk:leavesOpen) and the case records neither way: type → (missing, facts)
        settled = {a for f in facts for a in f.props.get(_S + "absentType", ())} | set(
            c.props.get(_S + "excludesRedFlag", [])
        )
        unassessed = {
            t: (missing, facts_)
            for t, (missing, openers) in self.left_open.items()
            if not ({t} | self.supers.get(t, frozenset())) & settled
            and (facts_ := [f.iri for q in openers for f in by_type.get(q, ())])
        }
        for rec, cond, kind, params in self.conditions:
            key = (speaks, case, rec, cond)
            get = params.get
            if kind == "FindingPresent":  # each value of each parameter is one row of the SPARQL join
                for ftype in get("findingType", ()):
                    typed = by_type.get(ftype, ())
                    for lat in get("laterality", (None,)):
                        for least in get("minDurationWeeks", (None,)):
                            holds = [
                                f.iri
                                for f in typed
                                if (lat is None or any(x in (lat, BILATERAL) for x in f.props.get(LATERALITY, [])))
                                and (least is None or any(d >= least for d in f.props.get(DURATION, [])))
                            ]
                            if holds:
                                speak(*key, HOLDS, holds)
                    if get("minDurationWeeks"):
                        unknown = [f.iri for f in typed if not f.props.get(DURATION)]
                        if unknown:
                            speak(*key, UNKNOWN, unknown, ["duration_weeks"])
                    if ftype in self.graded:  # a symptom (imaging finding) of the graded class with no severity
                        for kind_of, name in _GRADED_FIELDS:
                            ungraded = [
                                f
                                for f in by_type.get(self.graded[ftype], ())
                                if kind_of in f.types and not f.props.get(SEVERITY)
                            ]
                            if ungraded:
                                speak(*key, UNKNOWN, (), [name])
                    # finding-present-zone-unknown: a herniation without a zone an exiting-root zone would make
                    # a concordant compression of this type (a class above compression the herniation is not)
                    if ftype in self._closed({COMPRESSION}):
                        for f in by_type.get(POSSIBLE_COMPRESSION, ()):
                            for lat in get("laterality", (None,)):
                                sided = lat is None or any(x in (lat, BILATERAL) for x in f.props.get(LATERALITY, []))
                                if ftype not in f.types and sided:
                                    speak(*key, UNKNOWN, [f.iri], ["imaging[].findings[].zone"])
                        # finding-present-level-unknown: a compressive finding without a level some level would
                        # make a concordant compression
                        for f in by_type.get(NO_LEVEL_COMPRESSION, ()):
                            for lat in get("laterality", (None,)):
                                if lat is None or any(x in (lat, BILATERAL) for x in f.props.get(LATERALITY, [])):
                                    speak(*key, UNKNOWN, [f.iri], ["imaging[].findings[].level"])
                    # a symptom (imaging) finding of a case that records no symptoms (no imaging) at all
                    wanted = {name for k in self._closed({ftype}) for name in self.case_fields.get(k, ())}
                    for name in sorted(wanted - filled):
                        speak(*key, UNKNOWN, (), [name])
                    if ftype in unassessed:  # left open by a recorded finding, recorded neither way
                        speak(*key, UNKNOWN, unassessed[ftype][1], [unassessed[ftype][0]])
                    # finding-present-treatments-unrecorded-unknown: derived from the prior treatments, none recorded
                    if _S + "PriorTreatment" in self.requires.get(ftype, ()) and not by_type.get(_S + "PriorTreatment"):
                        if "prior_treatments" not in c.props.get(_S + "recordsNoneOf", []):
                            speak(*key, UNKNOWN, (), ["prior_treatments"])
            elif kind in ("PresentationPresent", "PresentationAbsent"):
                for p in get("presentation", ()):
                    # a phase of the sciatica reads the sciatica's own length where the case records one apart
                    # (rules sciatica-phase-present-holds, sciatica-phase-absent-fails)
                    read = (get("sciaticaPhase", ()) if c.props.get(SCIATICA) else ()) or (p,)
                    if any(q in c.types for q in read):
                        found = [f for q in read for f in established.get(q, ())]
                        speak(*key, HOLDS if kind == "PresentationPresent" else FAILS, found)
                    # unknown when the case records nothing in the fields the presentation is defined on (and,
                    # for a grade of a presentation, is in that presentation)
                    within = self.within.get(p, ())
                    if within and not any(q in c.types for q in within):
                        continue
                    for name in sorted({n for k in self.requires.get(p, ()) for n in self.case_fields.get(k, ())}):
                        if name not in filled and name not in on_case:
                            speak(*key, UNKNOWN, (), [name])
            elif kind == "NoRedFlagScreen":
                screens = [f.iri for f in by_type.get(_S + "RedFlagScreen", ())]
                if screens:
                    speak(*key, FAILS, screens)
            elif kind in ("FindingAbsent", "RedFlagPresent", "NoRedFlag"):
                wanted = (
                    (get("redFlag", ()) or self.red_flags)  # the red flags it names, or any
                    if kind == "NoRedFlag"
                    else get("findingType" if kind == "FindingAbsent" else "redFlag", ())
                )
                if kind == "RedFlagPresent" and any(get("unconfirmedOnly", ())):  # a suspicion only: not confirmed
                    wanted = [w for w in wanted if not any(p in c.types for p in self.confirmed_by.get(w, ()))]
                # a red flag whose exclusion covers the record is not present (derive-excluded-red-flag-feature)
                live = (lambda w, f: w not in f.props.get(EXCLUDED_AS, ())) if kind != "FindingAbsent" else None
                hits = list(
                    dict.fromkeys(f.iri for w in wanted for f in by_type.get(w, ()) if live is None or live(w, f))
                )
                if hits:
                    speak(*key, HOLDS if kind == "RedFlagPresent" else FAILS, hits)
                if kind == "NoRedFlag":  # no-red-flag-screen-found-unknown: a screen found one the case does not name
                    found = [
                        f.iri
                        for f in by_type.get(_S + "RedFlagScreen", ())
                        if _S + "found" in f.props.get(_S + "screenResult", ())
                    ]
                    if found and not any(f for w in self.red_flags for f in by_type.get(w, ())):
                        speak(*key, UNKNOWN, found, ["which red flag red_flag_screen found"])
                if kind == "RedFlagPresent":  # red-flag-present-weakness-grade-or-course-unrecorded-unknown
                    for w in wanted:
                        if w not in self.new_deficit_flags or w in c.props.get(_S + "excludesRedFlag", []):
                            continue
                        for f in by_type.get(THIS_EPISODE_WEAKNESS, ()):
                            course = f.props.get(_S + "progressive", [])
                            stable = any(x is False or x == "false" for x in course)
                            graded = bool(f.props.get(_S + "mrcGrade"))
                            if (graded and course) or (stable and any(d >= 12 for d in f.props.get(DURATION, ()))):
                                continue
                            at = "symptoms[" + f.iri.partition("/symptom/")[2] + "]"
                            fields = [".strength_mrc"] * (not graded) + [".progressive"] * (not course)
                            speak(*key, UNKNOWN, [f.iri], [at + x for x in fields])
                for w in wanted if kind == "FindingAbsent" else ():  # left open, recorded neither way
                    if w in unassessed:
                        speak(*key, UNKNOWN, unassessed[w][1], [unassessed[w][0]])
                if kind == "FindingAbsent" and any(get("absenceRecorded", ())):
                    # an absence the sentence states: unknown unless the case records it (of the type or broader)
                    absent = {a for f in facts for a in f.props.get(_S + "absentType", ())}
                    for w in wanted:
                        if not by_type.get(w) and not absent & ({w} | self.supers.get(w, frozenset())):
                            # by name where the case records the type's field (imaging), else the field
                            for name in sorted({n for k in self._closed({w}) for n in self.case_fields.get(k, ())}):
                                speak(*key, UNKNOWN, (), [self.notations[w] if name in filled else name])
            elif kind == "FindingAssessed":  # finding-absent-unassessed-unknown: left open, recorded neither way
                for w in get("findingType", ()):  # a record either way settles it (it never fails)
                    if w in unassessed and not by_type.get(w):
                        speak(*key, UNKNOWN, unassessed[w][1], [unassessed[w][0]])
            elif kind in ("PriorImaging", "NoPriorImaging"):
                modalities = get("modality", ())
                # PriorImaging: a study before today (with beforeEpisode, older than the episode: unknown without
                # its length); NoPriorImaging fails for a study of this episode: one no older than the episode's
                # length (any, when the case has none), no older than its maxWeeksAgo (0: today's) and, with
                # withContrast, recorded with contrast
                longest = max(c.props.get(EPISODE, ()), default=None)
                before = any(get("beforeEpisode", ()))
                current = any(get("inEpisode", ()))  # PriorImaging of this episode: today's counts, an older does not
                newest = min(get("maxWeeksAgo", ()), default=None)
                # orAfterStableTriggersOf: an older study counts too where taken after every finding raising the
                # red flag began (weeks ago < the shortest duration), each recorded progressive false (else 0 weeks)
                dated = [
                    min(f.props.get(DURATION, ()), default=0) if False in f.props.get(_S + "progressive", []) else 0
                    for flag in get("orAfterStableTriggersOf", ())
                    for f in by_type.get(flag, ())
                ]
                since = min(dated, default=None)
                contrast = any(get("withContrast", ()))
                regions = get("studyRegion", ())
                studies = [
                    (f, w)
                    for f in by_type.get(_S + "ImagingStudy", ())
                    if any(m in modalities for m in f.props.get(_S + "modality", []))
                    and (not regions or self._of_region(f, facts, regions))
                    and (kind == "PriorImaging" or not contrast or True in f.props.get(_S + "contrast", []))
                    for w in f.props.get(_S + "weeksAgo", [])
                    if kind == "PriorImaging" or newest is None or w <= newest or (since is not None and w < since)
                ]
                if kind == "PriorImaging":
                    hits = [
                        f.iri
                        for f, w in studies
                        if ((longest is None or w <= longest) if current else w > 0)
                        and (not before or longest is not None and w > longest)
                    ]
                    earlier = [f.iri for f, w in studies if w > 0] if before and longest is None else []
                    if earlier:
                        speak(*key, UNKNOWN, list(dict.fromkeys(earlier)), ["symptoms[].duration_weeks"])
                else:
                    hits = [f.iri for f, w in studies if longest is None or w <= longest]
                hits = list(dict.fromkeys(hits))
                if hits:
                    speak(*key, HOLDS if kind == "PriorImaging" else FAILS, hits)
            elif kind in ("CandidateFor", "CandidacyOpen", "NotCandidateFor"):
                # CandidateFor holds when listed and is unknown when nothing is recorded; CandidacyOpen fails when
                # a candidacy is recorded (an empty list included) without it; NotCandidateFor fails when listed
                cands = c.props.get(_S + "candidateFor", [])
                recorded = bool(cands) or "candidate_for" in c.props.get(_S + "recordsNoneOf", [])
                listed = any(x in cands for x in get("candidacy", ()))
                if kind == "CandidateFor" and listed:
                    speak(*key, HOLDS, [case])
                if kind == "CandidateFor" and not recorded:
                    speak(*key, UNKNOWN, (), ["candidate_for"])
                if kind == "CandidacyOpen" and recorded and not listed:
                    speak(*key, FAILS, [case])
                if kind == "NotCandidateFor" and listed:
                    speak(*key, FAILS, [case])
            elif kind in ("ScoreAtMost", "ScoreAbove"):
                for score in get("score", ()):
                    classes = self.measures.get(score, [])
                    scored = [f for k in classes for f in by_type.get(k, ()) if f.props.get(_S + "scoreValue")]
                    hits = [
                        f.iri
                        for f in scored
                        for s in f.props[_S + "scoreValue"]
                        for bound in get("value", ())
                        if (s <= bound if kind == "ScoreAtMost" else s > bound)
                    ]
                    if hits:
                        speak(*key, HOLDS, hits)
                    if classes and not scored:
                        speak(*key, UNKNOWN, (), ["scores"])
            elif kind == "AgeAtLeast":
                ages = patient.props.get(_S + "age", [])
                if any(a >= y for a in ages for y in get("years", ())):
                    speak(*key, HOLDS, [patient.iri])
                if not ages:
                    speak(*key, UNKNOWN, (), ["age"])
            elif kind in ("SymptomDurationAtLeast", "SymptomDurationLessThan"):
                for w in get("weeks", ()):
                    hits = [s.iri for s in symptoms if any(d >= w for d in s.props.get(DURATION, []))]
                    if hits:
                        speak(*key, HOLDS if kind == "SymptomDurationAtLeast" else FAILS, hits)
                if undated:
                    speak(*key, UNKNOWN, (), ["symptoms[].duration_weeks"])
            elif kind in ("HadTreatment", "NoTreatment"):
                # whatever the outcome (or one of its outcomes where it names them), for its weeks where
                # it names them: HadTreatment holds, NoTreatment fails; only the first is unknown without the
                # treatments or a matching one's weeks (the second is closed world)
                outcomes = get("withOutcome", ())
                for treatment in get("treatment", ()):
                    had = [
                        t
                        for t in self._failed(courses, treatment, any_outcome=True)
                        if not outcomes or any(o in outcomes for o in t.props.get(_S + "outcome", []))
                        # a kind a no-treatment condition excepts (sk:exceptTreatment) does not count
                        if not any(self._is(t, e) for e in get("exceptTreatment", ()))
                    ]
                    if outcomes and _S + "improved" not in outcomes:  # care that did not help: one course helped
                        if self._helped(courses, treatment):
                            had = []
                    for w in get("weeks", (None,)) if kind == "HadTreatment" else (None,):
                        done = [t.iri for t in had if w is None or any(x >= w for x in t.props.get(_S + "weeks", []))]
                        if done:
                            speak(*key, HOLDS if kind == "HadTreatment" else FAILS, done)
                    if get("weeks") and kind == "HadTreatment":
                        unknown = [t.iri for t in had if not t.props.get(_S + "weeks")]
                        if unknown:
                            speak(*key, UNKNOWN, unknown, ["prior_treatments[].weeks"])
                none_of = c.props.get(_S + "recordsNoneOf", [])
                if not treated and kind == "HadTreatment" and "prior_treatments" not in none_of:
                    speak(*key, UNKNOWN, (), ["prior_treatments"])
            elif kind in ("FailedTreatment", "NoFailedTreatment"):
                # the failed treatments for the weeks: FailedTreatment holds, NoFailedTreatment fails; only the
                # first is unknown without the weeks or the treatments (the second is closed world)
                for treatment in get("treatment", ()):
                    failed = self._failed(courses, treatment)
                    if self._helped(courses, treatment):
                        failed = []  # a course of the kind that improved the patient: the kind has not failed
                    for w in get("weeks", (None,)):
                        done = [
                            t.iri for t in failed if w is None or any(x >= w for x in t.props.get(_S + "weeks", []))
                        ]
                        if done:
                            speak(*key, HOLDS if kind == "FailedTreatment" else FAILS, done)
                    if get("weeks") and kind == "FailedTreatment":
                        unknown = [t.iri for t in failed if not t.props.get(_S + "weeks")]
                        if unknown:
                            speak(*key, UNKNOWN, unknown, ["prior_treatments[].weeks"])
                none_of = c.props.get(_S + "recordsNoneOf", [])
                if not treated and kind == "FailedTreatment" and "prior_treatments" not in none_of:
                    speak(*key, UNKNOWN, (), ["prior_treatments"])
        return fold(self.catalogue, speaks)

    def plans(self, docs: list[dict]) -> Iterator[list[Plan]]:
        """One plan per case document, in order, each yielded as soon as it is made."""
        for doc in docs:
            yield [assemble(self.reasoner, self.run(doc))]
