"""Baseline (b): owlready2 and HermiT, with the applicability conditions as SWRL rules where SWRL can say them.

Per batch of cases, a fresh owlready2 World holds the KB and the cases (as N-Triples: owlready2 does not read
Turtle) and one SWRL rule set; HermiT (no SWRL built-ins, no Pellet) classifies every individual with the OWL
class definitions and the rules at once. Each condition of each recommendation gets a match class, and SWRL
rules put into it the case resources that match the condition's positive pattern:

- ``FindingPresent``: a fact of the finding type (and, if the condition names a side, on that side or
  bilateral): ``T(?f) ^ laterality(?f, left) -> M(?f)``;
- ``FindingAbsent``, ``RedFlagPresent``, ``NoRedFlag``: a fact of the finding type, red flag, or any red flag;
- ``PriorImaging``, ``NoPriorImaging``: an imaging study of the modality: ``ImagingStudy(?s) ^ modality(?s, MRI)``;
- ``CandidateFor``: ``Case(?c) ^ candidateFor(?c, surgery_candidate) -> M(?c)``.

What SWRL without built-ins cannot say is decided in Python over HermiT's answer: every number comparison
(a duration at least N weeks, weeks ago > 0, mJOA at most / above, age at least), every closed-world or
negative conclusion (no fact matched, so the condition fails or holds by default; a needed fact is not
recorded, so it is unknown), and ``FailedTreatment`` (the treatment type is a class used as a value, and
"a narrower treatment" is subclass reasoning over that value).
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from collections.abc import Iterator

from rdflib import Graph, URIRef

from reasoner.apply import FAILS, HOLDS, UNKNOWN
from reasoner.case import CASE_BASE, case_graph, case_iri, parse_case
from reasoner.consts import OWL, RDF, RDFS, SK
from reasoner.engine import CaseRun, Reasoner
from reasoner.plan import Plan, assemble

from . import FAILED_OUTCOMES, Conditions, fold, speak

NAME, LABEL = "b", "owlready2 + HermiT + SWRL"
BENCH = "https://w3id.org/spinekg/bench/"
_S = str(SK)


def _local(iri: str) -> str:
    return iri.removeprefix(_S)


class Owlready2Swrl:
    """Batches of cases classified by HermiT in an owlready2 World, with SWRL rules for the positive conditions."""

    name, label = NAME, LABEL

    def __init__(self, reasoner: Reasoner, batch_size: int = 200):
        kb = reasoner.kb
        self.reasoner = reasoner
        self.batch_size = batch_size
        conditions = Conditions.read(reasoner)
        self.conditions = [(rec, c, k, p) for rec, conds in conditions.by_rec.items() for c, k, p in conds]
        self.catalogue = conditions.catalogue
        plain = Graph()
        for triple in kb:
            if triple[1] != OWL.imports:
                plain.add(triple)
        self.kb_nt = plain.serialize(format="nt", encoding="utf-8")
        self.rules = self._swrl()
        parents: dict[str, set[str]] = defaultdict(set)
        for s, o in kb.subject_objects(RDFS.subClassOf):
            if isinstance(s, URIRef) and isinstance(o, URIRef):
                parents[str(s)].add(str(o))
        self.parents = parents
        self.red_flags = sorted(str(s) for s in kb.subjects(RDFS.subClassOf, SK.RedFlag) if isinstance(s, URIRef))
        self.reach: dict[str, list[str]] = defaultdict(list)
        for cls, via in kb.subject_objects(SK.rootReach):
            self.reach[str(cls)].append(str(via))
        self.measures: dict[str, list[str]] = defaultdict(list)
        for cls, score in kb.subject_objects(SK.measures):
            self.measures[str(score)].append(str(cls))

    def _swrl(self) -> list[str]:
        """The SWRL rules (owlready2's text syntax, names in the spinekg and bench namespaces), one match class
        ``m<i>`` per condition."""
        rules = []
        for i, (_, _, kind, params) in enumerate(self.conditions):
            head = f"m{i}"
            if kind == "FindingPresent":
                for t in params.get("findingType", ()):
                    lats = params.get("laterality", ())
                    for lat in {_local(x) for x in lats} | ({"bilateral"} if lats else set()):
                        rules.append(f"{_local(t)}(?f), laterality(?f, {lat}) -> {head}(?f)")
                    if not lats:
                        rules.append(f"{_local(t)}(?f) -> {head}(?f)")
            elif kind in ("FindingAbsent", "RedFlagPresent"):
                for t in params.get("findingType" if kind == "FindingAbsent" else "redFlag", ()):
                    rules.append(f"{_local(t)}(?f) -> {head}(?f)")
            elif kind == "NoRedFlag":
                rules.append(f"RedFlag(?f) -> {head}(?f)")
            elif kind in ("PriorImaging", "NoPriorImaging"):
                for m in params.get("modality", ()):
                    rules.append(f"ImagingStudy(?s), modality(?s, {_local(m)}) -> {head}(?s)")
            elif kind == "CandidateFor":
                for x in params.get("candidacy", ()):
                    rules.append(f"Case(?c), candidateFor(?c, {_local(x)}) -> {head}(?c)")
        return rules

    def _ancestors(self, iri: str) -> set[str]:
        out, todo = set(), [iri]
        while todo:
            for p in self.parents.get(todo.pop(), ()):
                if p not in out:
                    out.add(p)
                    todo.append(p)
        return out

    def classify(self, docs: list[dict]):
        """A World with the KB, the cases and the rules, classified by HermiT; returns it with its namespace."""
        import owlready2

        cases = Graph()
        for doc in docs:
            g = case_graph(parse_case(doc))
            for s in set(g.subjects()):  # every case resource an OWL individual, so HermiT classifies it
                cases.add((s, RDF.type, OWL.NamedIndividual))
            cases += g
        world = owlready2.World()
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "kb.nt")
            with open(path, "wb") as out:
                out.write(self.kb_nt)
                out.write(cases.serialize(format="nt", encoding="utf-8"))
            onto = world.get_ontology("file://" + path).load(format="ntriples")
        sk, bench = onto.get_namespace(_S), onto.get_namespace(BENCH)
        with onto:
            for i in range(len(self.conditions)):
                type(f"m{i}", (owlready2.Thing,), {"namespace": bench})
            for text in self.rules:
                owlready2.Imp().set_as_rule(text, namespaces=[bench, sk])
            owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        return world

    def runs(self, docs: list[dict]) -> list[CaseRun]:
        """What the reasoning finds for each case document of one batch."""
        import owlready2

        world = self.classify(docs)

        def prop(name: str):
            return world[_S + name]

        in_case = prop("inCase")
        facts_of: dict[str, list] = defaultdict(list)
        types: dict[str, set[str]] = {}
        for ind in world.individuals():
            cases = in_case[ind]
            if cases:
                facts_of[cases[0].iri].append(ind)
            elif not ind.iri.startswith(CASE_BASE):
                continue  # an individual of the KB
            named = {c.iri for c in ind.is_a if isinstance(c, owlready2.ThingClass)}
            types[ind.iri] = named.union(*(self._ancestors(c) for c in named))
        out = []
        for doc in docs:
            iri = str(case_iri(doc["id"]))
            out.append(self._run(world, world[iri], facts_of.get(iri, []), types))
        return out

    def _run(self, world, case, facts: list, types: dict[str, set[str]]) -> CaseRun:
        def values(ind, name: str) -> list:
            return list(world[_S + name][ind])

        def iris(ind, name: str) -> list[str]:
            return [x.iri for x in values(ind, name)]

        run = CaseRun(case.iri)
        by_type: dict[str, list] = defaultdict(list)
        for f in facts:
            run.fact_types[f.iri] = {t for t in types[f.iri] if not t.startswith(BENCH)}
            for t in types[f.iri]:
                by_type[t].append(f)
        for flag in self.red_flags:
            for f in by_type.get(flag, ()):
                run.red_flags[flag].add(f.iri)
        symptoms = by_type.get(_S + "Symptom", [])
        for s in symptoms:
            lat = next(iter(iris(s, "laterality")), None)
            derms = iris(s, "inDermatome") + [d for r in values(s, "inBodyRegion") for d in iris(r, "spansDermatome")]
            run.symptom_dermatomes += [(s.iri, d, lat) for d in derms]
        for f in facts:
            for level in values(f, "atDiscLevel"):
                side = next(iter(iris(f, "laterality")), None)
                for t in types[f.iri]:
                    for via in self.reach.get(t, ()):
                        for root in world[via][level]:
                            run.root_reach.append((f.iri, t, level.iri, via, root.iri, side))
        treatments = by_type.get(_S + "PriorTreatment", [])

        def failed(treatment: str) -> list:
            out = []
            for t in treatments:
                tt, outcome = values(t, "treatmentType"), iris(t, "outcome")
                if not tt or not outcome or _local(outcome[0]) not in FAILED_OUTCOMES:
                    continue
                if treatment == tt[0].iri or treatment in self._ancestors(tt[0].iri):
                    out.append(t)
            return out

        weeks = [float(w) for s in symptoms for w in values(s, "durationWeeks")]
        weeks += [float(w) for t in failed(_S + "conservative_care") for w in values(t, "weeks")]
        run.elapsed_weeks = max(weeks) if weeks else None
        run.applicability = self._applicability(case, facts, types, by_type, symptoms, treatments, failed, values)
        return run

    def _applicability(self, case, facts, types, by_type, symptoms, treatments, failed, values):
        speaks: dict = {}
        iri = case.iri
        undated = not symptoms or any(not values(s, "durationWeeks") for s in symptoms)
        candidacies = values(case, "candidateFor")
        patient = values(case, "patient")
        ages = [float(a) for p in patient for a in values(p, "age")]
        for i, (rec, cond, kind, params) in enumerate(self.conditions):
            key = (speaks, iri, rec, cond)
            matched = by_type.get(BENCH + f"m{i}", [])  # what the SWRL rules put in the match class
            get = params.get
            if kind == "FindingPresent":
                least = get("minDurationWeeks", ())
                holds = [
                    f.iri
                    for f in matched
                    if not least or any(d >= m for d in values(f, "durationWeeks") for m in least)
                ]
                if holds:
                    speak(*key, HOLDS, holds)
                if least:
                    typed = {f.iri for t in get("findingType", ()) for f in by_type.get(t, ())}
                    unknown = [f.iri for f in facts if f.iri in typed and not values(f, "durationWeeks")]
                    if unknown:
                        speak(*key, UNKNOWN, unknown, ["duration_weeks"])
            elif kind in ("FindingAbsent", "NoRedFlag", "RedFlagPresent"):
                if matched:
                    speak(*key, HOLDS if kind == "RedFlagPresent" else FAILS, [f.iri for f in matched])
            elif kind in ("PriorImaging", "NoPriorImaging"):
                hits = [s.iri for s in matched if any(w > 0 for w in values(s, "weeksAgo"))]
                if hits:
                    speak(*key, HOLDS if kind == "PriorImaging" else FAILS, hits)
            elif kind == "CandidateFor":
                if BENCH + f"m{i}" in types[iri]:
                    speak(*key, HOLDS, [iri])
                if not candidacies:
                    speak(*key, UNKNOWN, (), ["candidate_for"])
            elif kind in ("ScoreAtMost", "ScoreAbove"):
                for score in get("score", ()):
                    classes = self.measures.get(score, [])
                    scored = [f for c in classes for f in by_type.get(c, ()) if values(f, "scoreValue")]
                    hits = [
                        f.iri
                        for f in scored
                        for s in values(f, "scoreValue")
                        for bound in get("value", ())
                        if (s <= bound if kind == "ScoreAtMost" else s > bound)
                    ]
                    if hits:
                        speak(*key, HOLDS, hits)
                    if classes and not scored:
                        speak(*key, UNKNOWN, (), ["scores"])
            elif kind == "AgeAtLeast":
                if any(a >= y for a in ages for y in get("years", ())):
                    speak(*key, HOLDS, [p.iri for p in patient])
                if not ages:
                    speak(*key, UNKNOWN, (), ["age"])
            elif kind in ("SymptomDurationAtLeast", "SymptomDurationLessThan"):
                for w in get("weeks", ()):
                    hits = [s.iri for s in symptoms if any(d >= w for d in values(s, "durationWeeks"))]
                    if hits:
                        speak(*key, HOLDS if kind == "SymptomDurationAtLeast" else FAILS, hits)
                if undated:
                    speak(*key, UNKNOWN, (), ["symptoms[].duration_weeks"])
            elif kind == "FailedTreatment":
                for treatment in get("treatment", ()):
                    done = failed(treatment)
                    for w in get("weeks", (None,)):
                        holds = [t.iri for t in done if w is None or any(x >= w for x in values(t, "weeks"))]
                        if holds:
                            speak(*key, HOLDS, holds)
                    if get("weeks"):
                        unknown = [t.iri for t in done if not values(t, "weeks")]
                        if unknown:
                            speak(*key, UNKNOWN, unknown, ["prior_treatments[].weeks"])
                if not treatments:
                    speak(*key, UNKNOWN, (), ["prior_treatments"])
        return fold(self.catalogue, speaks)

    def plans(self, docs: list[dict]) -> Iterator[list[Plan]]:
        """Plans batch by batch (one World and one HermiT run per batch), each batch yielded when it is done."""
        for start in range(0, len(docs), self.batch_size):
            yield [assemble(self.reasoner, run) for run in self.runs(docs[start : start + self.batch_size])]
