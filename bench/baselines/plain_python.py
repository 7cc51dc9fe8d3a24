"""Baseline (c), the lower bound: the same rules matched in plain Python over the case dicts, no RDF at all.

The knowledge base is read once: the recommendations' conditions, the subclass hierarchy, the red flags, the
body-region and disc-level anatomy, and the OWL class definitions compiled to Python predicates (as
reasoner/classify.py compiles them to SPARQL). Then each case document becomes a handful of small objects named
by the IRIs its graph would use, is classified to a fixpoint, and every condition is decided as apply.py's
queries decide it. No validation: the cases are generated valid.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator

from rdflib import BNode, Literal, URIRef
from rdflib.collection import Collection

from reasoner.apply import FAILS, HOLDS, UNKNOWN
from reasoner.case import CASE_BASE, vocabulary
from reasoner.consts import OWL, RDF, RDFS, SK, XSD
from reasoner.engine import CaseRun, Reasoner
from reasoner.plan import Plan, assemble

from . import FAILED_OUTCOMES, Conditions, fold, speak

NAME, LABEL = "c", "plain Python"
_S = str(SK)
_NAMED_INDIVIDUAL = str(OWL.NamedIndividual)
LATERALITY, DURATION, BILATERAL = _S + "laterality", _S + "durationWeeks", _S + "bilateral"
_FACETS = {
    XSD.minInclusive: lambda v, x: v >= x,
    XSD.maxInclusive: lambda v, x: v <= x,
    XSD.minExclusive: lambda v, x: v > x,
    XSD.maxExclusive: lambda v, x: v < x,
}


class Node:
    """One resource of a case: its IRI, its classes and its property values (IRIs as strings, numbers as floats)."""

    __slots__ = ("iri", "types", "props")

    def __init__(self, iri: str, *types: str):
        self.iri = iri
        self.types: set[str] = set(types)
        self.props: dict[str, list] = defaultdict(list)

    def first(self, prop: str):
        values = self.props.get(prop)
        return values[0] if values else None


Pred = Callable[[object, dict], bool]


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
        self.spans: dict[str, list[str]] = defaultdict(list)
        for region, derm in kb.subject_objects(SK.spansDermatome):
            self.spans[str(region)].append(str(derm))
        self.reach: dict[str, list[str]] = defaultdict(list)  # finding class → root-reach properties
        for cls, via in kb.subject_objects(SK.rootReach):
            self.reach[str(cls)].append(str(via))
        self.roots: dict[tuple[str, str], list[str]] = defaultdict(list)  # (level, property) → roots
        for via in {v for vs in self.reach.values() for v in vs}:
            for level, root in kb.subject_objects(URIRef(via)):
                self.roots[(str(level), via)].append(str(root))
        self.measures: dict[str, list[str]] = defaultdict(list)
        for cls, score in kb.subject_objects(SK.measures):
            self.measures[str(score)].append(str(cls))
        self.kb_types: dict[str, set[str]] = defaultdict(set)
        self.definitions = self._compile_definitions()

    # --- the knowledge base, read once ------------------------------------------------------------------------

    def _supers(self, c: str, parents: dict[str, set[str]], seen: frozenset[str] = frozenset()) -> frozenset[str]:
        if c in self.supers:
            return self.supers[c]
        acc: set[str] = set()
        for p in parents.get(c, ()):
            if p not in seen:
                acc |= {p} | self._supers(p, parents, seen | {c})
        self.supers[c] = frozenset(acc)
        return self.supers[c]

    def _closed(self, types: set[str]) -> set[str]:
        return types.union(*(self.supers.get(t, ()) for t in types))

    def _compile_definitions(self) -> list[tuple[str, Pred]]:
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

    @staticmethod
    def _props(value, nodes: dict, prop: str) -> list:
        node = value if isinstance(value, Node) else nodes.get(value) if isinstance(value, str) else None
        return node.props.get(prop, []) if node is not None else []

    def _compile(self, expr) -> Pred:
        kb = self.kb
        if isinstance(expr, URIRef):
            name = str(expr)
            return lambda v, nodes: name in self._types_of(v, nodes)
        if (expr, OWL.intersectionOf, None) in kb:
            parts = [self._compile(m) for m in Collection(kb, kb.value(expr, OWL.intersectionOf))]
            return lambda v, nodes: all(p(v, nodes) for p in parts)
        if (expr, OWL.unionOf, None) in kb:
            parts = [self._compile(m) for m in Collection(kb, kb.value(expr, OWL.unionOf))]
            return lambda v, nodes: any(p(v, nodes) for p in parts)
        if (expr, OWL.oneOf, None) in kb:
            members = {str(m) for m in Collection(kb, kb.value(expr, OWL.oneOf))}
            return lambda v, nodes: (v.iri if isinstance(v, Node) else v) in members
        if (expr, RDF.type, OWL.Restriction) in kb:
            prop = str(kb.value(expr, OWL.onProperty))
            if (expr, OWL.hasValue, None) in kb:
                value = kb.value(expr, OWL.hasValue)
                want = value.toPython() if isinstance(value, Literal) else str(value)
                return lambda v, nodes: any(x == want for x in self._props(v, nodes, prop))
            filler = kb.value(expr, OWL.someValuesFrom)
            test = self._compile_filler(filler)
            return lambda v, nodes: any(test(y, nodes) for y in self._props(v, nodes, prop))
        raise ValueError(f"plain Python baseline: class expression {expr} is not supported")

    def _compile_filler(self, filler) -> Pred:
        kb = self.kb
        if (filler, RDF.type, RDFS.Datatype) in kb:
            tests = []
            for facet in Collection(kb, kb.value(filler, OWL.withRestrictions)):
                for pred, value in kb.predicate_objects(facet):
                    tests.append((_FACETS[pred], float(value.toPython())))

            def numeric(y, nodes) -> bool:
                n = _number(y)
                return n is not None and all(check(n, bound) for check, bound in tests)

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

        def fact(iri: str, *types: str) -> Node:
            node = nodes[iri] = Node(iri, *types)
            facts.append(node)
            return node

        def finding(iri: str, entry: dict, kinds) -> Node:
            if entry.get("present", True):
                node = fact(iri, str(kinds[entry["type"]]), _NAMED_INDIVIDUAL)
                node.props[_S + "ofPatient"].append(patient.iri)
            else:
                node = fact(iri, _S + "FindingAbsence")
                node.props[_S + "absentType"].append(str(kinds[entry["type"]]))
            p = node.props
            lat = entry.get("laterality", entry.get("side"))
            if lat is not None:
                p[_S + "laterality"].append(str(v.laterality[lat]))
            p[_S + "inDermatome"] += [str(v.dermatomes[d]) for d in entry.get("dermatomes", [])]
            p[_S + "inBodyRegion"] += [str(v.body_regions[r]) for r in entry.get("body_regions", [])]
            if "level" in entry:
                level = entry["level"]
                p[_S + ("atDiscLevel" if level in v.disc_levels else "atSpinalLevel")].append(str(v.levels[level]))
            if "duration_weeks" in entry:
                p[_S + "durationWeeks"].append(float(entry["duration_weeks"]))
            if "progressive" in entry:
                p[_S + "progressive"].append(entry["progressive"])
            if "severity" in entry:
                p[_S + "severity"].append(str(v.severity[entry["severity"]]))
            if "new" in entry:
                p[_S + "isNew"].append(entry["new"])
            return node

        for i, entry in enumerate(doc.get("symptoms", [])):
            finding(f"{case}/symptom/{i}", entry, v.symptom_types)
        for j, study in enumerate(doc.get("imaging", [])):
            s = fact(f"{case}/imaging/{j}", _S + "ImagingStudy")
            if "modality" in study:
                s.props[_S + "modality"].append(str(v.modality[study["modality"]]))
            if "weeks_ago" in study:
                s.props[_S + "weeksAgo"].append(float(study["weeks_ago"]))
            for k, entry in enumerate(study.get("findings", [])):
                finding(f"{s.iri}/finding/{k}", entry, v.imaging_finding_types)
        for m, rf in enumerate(doc.get("risk_factors", [])):
            node = fact(f"{case}/risk/{m}", str(v.risk_factors[rf]), _NAMED_INDIVIDUAL)
            node.props[_S + "ofPatient"].append(patient.iri)
        for n, treatment in enumerate(doc.get("prior_treatments", [])):
            node = fact(f"{case}/treatment/{n}", _S + "PriorTreatment")
            node.props[_S + "treatmentType"].append(str(v.interventions[treatment["type"]]))
            if "weeks" in treatment:
                node.props[_S + "weeks"].append(float(treatment["weeks"]))
            if "outcome" in treatment:
                node.props[_S + "outcome"].append(str(v.outcome[treatment["outcome"]]))
        for key, value in doc.get("scores", {}).items():
            node = fact(f"{case}/score/{key}", str(v.scores[key]), _NAMED_INDIVIDUAL)
            node.props[_S + "scoreValue"].append(value)
        return case, nodes, facts

    def classify(self, facts: list[Node], nodes: dict[str, Node]) -> None:
        """The subclass closure and the compiled definitions, to a fixpoint, over the case's facts."""
        for node in facts:
            node.types = self._closed(node.types)
        changed = True
        while changed:
            changed = False
            for node in facts:
                for cls, pred in self.definitions:
                    if cls not in node.types and pred(node, nodes):
                        node.types |= {cls} | self.supers.get(cls, frozenset())
                        changed = True

    def run(self, doc: dict) -> CaseRun:
        """What the reasoning finds for one case document."""
        case, nodes, facts = self.nodes(doc)
        self.classify(facts, nodes)
        run = CaseRun(case)
        for f in facts:
            run.fact_types[f.iri] = set(f.types)
        for flag in self.red_flags:
            for f in facts:
                if flag in f.types:
                    run.red_flags[flag].add(f.iri)
        symptoms = [f for f in facts if _S + "Symptom" in f.types]
        for s in symptoms:
            lat = s.first(_S + "laterality")
            derms = list(s.props.get(_S + "inDermatome", []))
            derms += [d for r in s.props.get(_S + "inBodyRegion", []) for d in self.spans.get(r, [])]
            run.symptom_dermatomes += [(s.iri, d, lat) for d in derms]
        for f in facts:
            for level in f.props.get(_S + "atDiscLevel", []):
                for t in f.types:
                    for via in self.reach.get(t, ()):
                        for root in self.roots.get((level, via), ()):
                            run.root_reach.append((f.iri, t, level, via, root, f.first(_S + "laterality")))
        weeks = [w for s in symptoms for w in s.props.get(_S + "durationWeeks", [])]
        weeks += [
            w
            for t in self._failed((f for f in facts if _S + "PriorTreatment" in f.types), _S + "conservative_care")
            for w in t.props.get(_S + "weeks", [])
        ]
        run.elapsed_weeks = max(weeks) if weeks else None
        run.applicability = self.applicability(case, nodes, facts, symptoms)
        return run

    def _failed(self, treatments, treatment: str) -> list[Node]:
        """The prior treatments of ``treatment`` or a narrower one whose outcome says they failed."""
        out = []
        for f in treatments:
            tt, outcome = f.first(_S + "treatmentType"), f.first(_S + "outcome")
            if tt is None or outcome is None or outcome.removeprefix(_S) not in FAILED_OUTCOMES:
                continue
            if tt == treatment or treatment in self.supers.get(tt, ()):
                out.append(f)
        return out

    def applicability(self, case: str, nodes: dict[str, Node], facts: list[Node], symptoms: list[Node]):
        speaks: dict = {}
        c, patient = nodes[case], nodes[case + "/patient"]
        undated = not symptoms or any(not s.props.get(DURATION) for s in symptoms)
        by_type: dict[str, list[Node]] = defaultdict(list)
        for f in facts:
            for t in f.types:
                by_type[t].append(f)
        treated = _S + "PriorTreatment" in by_type
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
            elif kind in ("FindingAbsent", "RedFlagPresent", "NoRedFlag"):
                wanted = (
                    (_S + "RedFlag",)
                    if kind == "NoRedFlag"
                    else get("findingType" if kind == "FindingAbsent" else "redFlag", ())
                )
                hits = [f.iri for w in wanted for f in by_type.get(w, ())]
                if hits:
                    speak(*key, HOLDS if kind == "RedFlagPresent" else FAILS, hits)
            elif kind in ("PriorImaging", "NoPriorImaging"):
                modalities = get("modality", ())
                hits = [
                    f.iri
                    for f in by_type.get(_S + "ImagingStudy", ())
                    if any(m in modalities for m in f.props.get(_S + "modality", []))
                    and any(w > 0 for w in f.props.get(_S + "weeksAgo", []))
                ]
                if hits:
                    speak(*key, HOLDS if kind == "PriorImaging" else FAILS, hits)
            elif kind == "CandidateFor":
                cands = c.props.get(_S + "candidateFor", [])
                if any(x in cands for x in get("candidacy", ())):
                    speak(*key, HOLDS, [case])
                if not cands:
                    speak(*key, UNKNOWN, (), ["candidate_for"])
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
            elif kind == "FailedTreatment":
                for treatment in get("treatment", ()):
                    failed = self._failed(by_type.get(_S + "PriorTreatment", ()), treatment)
                    for w in get("weeks", (None,)):
                        holds = [
                            t.iri for t in failed if w is None or any(x >= w for x in t.props.get(_S + "weeks", []))
                        ]
                        if holds:
                            speak(*key, HOLDS, holds)
                    if get("weeks"):
                        unknown = [t.iri for t in failed if not t.props.get(_S + "weeks")]
                        if unknown:
                            speak(*key, UNKNOWN, unknown, ["prior_treatments[].weeks"])
                if not treated:
                    speak(*key, UNKNOWN, (), ["prior_treatments"])
        return fold(self.catalogue, speaks)

    def plans(self, docs: list[dict]) -> Iterator[list[Plan]]:
        """One plan per case document, in order, each yielded as soon as it is made."""
        for doc in docs:
            yield [assemble(self.reasoner, self.run(doc))]
