"""Baseline (b): owlready2 and HermiT, with the applicability conditions as SWRL rules where SWRL can say them.

Per batch of cases, a fresh owlready2 World holds the KB and the cases (as N-Triples: owlready2 does not read
Turtle) and one SWRL rule set; HermiT (no SWRL built-ins, no Pellet) classifies every individual with the OWL
class definitions and the rules at once: the findings (red flags, mJOA bands, …) and the case itself (the clinical
presentations, defined over the case's records through ``owl:inverseOf sk:inCase``, and the duration phases over
its episode length). Each condition of each recommendation gets a match class, and SWRL rules put into it the case
resources that match the condition's positive pattern:

- ``FindingPresent``: a fact of the finding type (and, if the condition names a side, on that side or
  bilateral): ``T(?f) ^ laterality(?f, left) -> M(?f)``;
- ``FindingAbsent``, ``RedFlagPresent``, ``NoRedFlag``: a fact of the finding type, red flag, or any red flag;
- ``PriorImaging``, ``NoPriorImaging``: an imaging study of the modality: ``ImagingStudy(?s) ^ modality(?s, MRI)``
  (its weeks ago compared in Python: before today; of this episode);
- ``CandidateFor`` and ``CandidacyOpen``: ``Case(?c) ^ candidateFor(?c, surgery_candidate) -> M(?c)``;
- ``NoRedFlagScreen``: ``RedFlagScreen(?s) -> M(?s)``.

``PresentationPresent`` and ``PresentationAbsent`` read HermiT's classification of the case. Which records
*established* a presentation (what the plan names as its trigger) is not a class membership of the case, so each
presentation also gets an "established" class and SWRL rules, one per way its definition can be met (the
definition in disjunctive normal form over the case: ``Case(?x) ^ inCase(?y, ?x) ^ axial_pain(?y) -> E(?y)``; a
part of the definition that binds no record, such as "in a lumbosacral dermatome", is a helper class defined as
that part, which HermiT classifies).

What SWRL without built-ins cannot say is decided in Python over HermiT's answer: every number comparison (a
duration at least N weeks, weeks ago > 0, mJOA at most / above, age at least), every closed-world or negative
conclusion (no fact matched, so the condition fails or holds by default; a needed fact is not recorded, so it is
unknown, including a case that records no symptoms or no imaging at all), ``FailedTreatment``,
``NoFailedTreatment``, ``HadTreatment`` and ``NoTreatment`` (the treatment type is a class used as a value, and
"a narrower treatment" is subclass reasoning over that value), and ``FindingAssessed`` (no SWRL rule: unknown where
a recorded finding leaves its type open and the case records the type neither way, as the ``FindingAbsent``
unknown is read). spinekg's derivation rules are not OWL either (the
episode length is an aggregate; lumbosacral radicular pain and nerve root compression are closed-world joins: in no
dermatome above L1, the zone's reach unless none (a central canal stenosis: its type's), not on the other side, from
a study of this episode): they run in Python (``Derivations``) on the cases before HermiT, and again on HermiT's
classes after it; should HermiT's classes let them derive more, the batch is classified again."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterator

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection

from reasoner.case.model import CASE_BASE, case_iri
from reasoner.case.validate import case_graph, parse_case
from reasoner.consts import OWL, RDF, RDFS, SK, SKOS, XSD
from reasoner.plan.assemble import assemble
from reasoner.plan.model import Plan
from reasoner.reasoning.conditions import FAILS, HOLDS, UNKNOWN
from reasoner.reasoning.engine import CaseRun, Reasoner, details_of

from . import (
    COMPRESSION,
    EPISODE,
    FAILED_OUTCOMES,
    IMPINGEMENT,
    NEW_SEVERE_DEFICIT,
    NO_LEVEL_COMPRESSION,
    POSSIBLE_COMPRESSION,
    PREVIOUS_CARE,
    SCIATICA,
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

NAME, LABEL = "b", "owlready2 + HermiT + SWRL"
BENCH = "https://w3id.org/spinekg/bench/"
_S = str(SK)
_THING = str(OWL.Thing)


def _local(iri: str) -> str:
    return iri.removeprefix(_S)


def _value(term) -> str | float:
    """A case graph's value as the derivations read it: numbers as floats, anything else as a string."""
    if isinstance(term, Literal):
        value = term.toPython()
        if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "as_tuple"):
            return str(term)
        return float(value)
    return str(term)


class Owlready2Swrl:
    """Batches of cases classified by HermiT in an owlready2 World, with SWRL rules for the positive conditions."""

    name, label = NAME, LABEL

    def __init__(self, reasoner: Reasoner, batch_size: int = 200):
        kb = reasoner.kb
        self.reasoner = reasoner
        self.kb = kb
        self.batch_size = batch_size
        conditions = Conditions.read(reasoner)
        self.conditions = [(rec, c, k, p) for rec, conds in conditions.by_rec.items() for c, k, p in conds]
        self.catalogue = conditions.catalogue
        parents: dict[str, set[str]] = defaultdict(set)
        for s, o in kb.subject_objects(RDFS.subClassOf):
            if isinstance(s, URIRef) and isinstance(o, URIRef):
                parents[str(s)].add(str(o))
        self.parents = parents
        self._ancestor_cache: dict[str, frozenset[str]] = {}
        self.red_flags = sorted(str(s) for s in kb.subjects(RDFS.subClassOf, SK.RedFlag) if isinstance(s, URIRef))
        self.derivations = Derivations(kb, self._ancestors)
        self.graded = severity_graded(kb)  # severe_pain → PainSymptom
        self.left_open = left_open(kb)  # segmental_instability → (its sk:assessedIn, [spondylolisthesis])
        self.notations = {str(s): str(o) for s, o in kb.subject_objects(SKOS.notation)}
        self.reach = self.derivations.reach
        self.measures = grouped((score, cls) for cls, score in kb.subject_objects(SK.measures))
        self.case_fields = grouped(kb.subject_objects(SK.caseField))  # class or property → the case field of it
        self.requires = grouped(kb.subject_objects(SK.requiresRecord))  # presentation → what it is defined on
        self.within = grouped(kb.subject_objects(SK.within))  # presentation → those it is graded within
        self.confirmed_by = grouped(kb.subject_objects(SK.confirmedBy))  # red flag → presentations confirming it
        self.new_deficit_flags = {NEW_SEVERE_DEFICIT, *self._ancestors(NEW_SEVERE_DEFICIT)}  # what a new deficit raises
        case_classes = {c for c in kb.transitive_subjects(RDFS.subClassOf, SK.Case) if isinstance(c, URIRef)}
        self.presentations = sorted(
            str(c)
            for c in case_classes
            if _S + "ClinicalPresentation" in self._ancestors(str(c)) and (c, SKOS.notation, None) in kb
        )
        plain = Graph()
        for triple in kb:
            if triple[1] != OWL.imports:
                plain.add(triple)
        self.helpers = 0
        self.established: dict[str, str] = {}  # class of cases → the bench class of the records establishing it
        self.rules = self._swrl() + self._establishing(case_classes, plain)
        self.kb_nt = plain.serialize(format="nt", encoding="utf-8")

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
            elif kind == "NoRedFlag":  # the red flags it names, or any
                for t in params.get("redFlag", ()):
                    rules.append(f"{_local(t)}(?f) -> {head}(?f)")
                if not params.get("redFlag"):
                    rules.append(f"RedFlag(?f) -> {head}(?f)")
            elif kind == "NoRedFlagScreen":
                rules.append(f"RedFlagScreen(?s) -> {head}(?s)")
            elif kind in ("PriorImaging", "NoPriorImaging"):
                for m in params.get("modality", ()):
                    rules.append(f"ImagingStudy(?s), modality(?s, {_local(m)}) -> {head}(?s)")
            elif kind in ("CandidateFor", "CandidacyOpen", "NotCandidateFor"):
                for x in params.get("candidacy", ()):
                    rules.append(f"Case(?c), candidateFor(?c, {_local(x)}) -> {head}(?c)")
        return rules

    # --- which records establish a class of cases: its definition in disjunctive normal form, as SWRL ----------

    def _establishing(self, case_classes: set, plain: Graph) -> list[str]:
        """For each defined class of cases, an "established" class ``e<k>`` and one SWRL rule per conjunction of
        its definition that binds records of the case; helper classes (``h<n>``) go into ``plain``."""
        kb, rules = self.kb, []
        for cls, expr in sorted(kb.subject_objects(OWL.equivalentClass)):
            if cls not in case_classes or not isinstance(expr, BNode) or (expr, OWL.oneOf, None) in kb:
                continue
            head = self.established.setdefault(str(cls), f"e{len(self.established)}")
            names = (f"y{n}" for n in itertools.count())
            helpers: dict = {}
            for atoms, members in self._dnf(expr, "x", names):
                if not members:
                    continue
                body = []
                for atom in atoms:  # (class expression, variable): a helper class stands for the expression
                    if isinstance(atom, tuple):
                        part, var = atom
                        if part not in helpers:
                            helpers[part] = self._helper(part, plain)
                        atom = f"{helpers[part]}(?{var})"
                    body.append(atom)
                rules.append(", ".join(body) + " -> " + ", ".join(f"{head}(?{m})" for m in members))
        return rules

    def _dnf(self, expr, var: str, names: Iterator[str]) -> list[tuple[list, list[str]]]:
        """The class expression on ``?var`` as a list of conjunctions of SWRL atoms, each with the variables it
        binds to the case's records (through ``owl:inverseOf sk:inCase``); a part that binds none is left as
        ``(expression, variable)``."""
        kb = self.kb
        if isinstance(expr, URIRef) and str(expr).startswith(_S):
            return [([f"{_local(str(expr))}(?{var})"], [])]
        if (expr, OWL.intersectionOf, None) in kb:
            out: list[tuple[list, list[str]]] = [([], [])]
            for member in Collection(kb, kb.value(expr, OWL.intersectionOf)):
                part = self._dnf(member, var, names)
                out = [(a + b, m + n) for a, m in out for b, n in part]
            return out
        if (expr, OWL.unionOf, None) in kb:
            members = Collection(kb, kb.value(expr, OWL.unionOf))
            return [conjunction for member in members for conjunction in self._dnf(member, var, names)]
        on = kb.value(expr, OWL.onProperty)
        if isinstance(on, BNode) and kb.value(on, OWL.inverseOf) == SK.inCase:
            record = next(names)
            filler = kb.value(expr, OWL.someValuesFrom)
            return [
                ([f"inCase(?{record}, ?{var})", *atoms], [record, *members])
                for atoms, members in self._dnf(filler, record, names)
            ]
        return [([(expr, var)], [])]

    def _helper(self, expr, plain: Graph) -> str:
        """A named bench class equivalent to a copy of the class expression ``expr`` (which binds no record)."""
        kb = self.kb
        memo: dict = {}

        def copy(node):
            if not isinstance(node, BNode):
                return node
            if node not in memo:
                memo[node] = BNode()
                for p, o in kb.predicate_objects(node):
                    if p == OWL.inverseOf and o == SK.inCase:
                        raise ValueError(f"owlready2 baseline: {expr} binds the case's records below another class")
                    plain.add((memo[node], p, copy(o)))
            return memo[node]

        name = f"h{self.helpers}"
        self.helpers += 1
        plain.add((URIRef(BENCH + name), RDF.type, OWL.Class))
        plain.add((URIRef(BENCH + name), OWL.equivalentClass, copy(expr)))
        return name

    def _ancestors(self, iri: str) -> frozenset[str]:
        if iri not in self._ancestor_cache:
            out, todo = set(), [iri]
            while todo:
                for p in self.parents.get(todo.pop(), ()):
                    if p not in out:
                        out.add(p)
                        todo.append(p)
            self._ancestor_cache[iri] = frozenset(out)
        return self._ancestor_cache[iri]

    # --- the derivation rules, in Python, before and after HermiT ---------------------------------------------

    def _records(self, g: Graph, types: dict[str, set[str]] | None) -> list[tuple[Node, list[Node]]]:
        """Each case of ``g`` and its records as the derivations read them, with the classes ``types`` gives
        (HermiT's) or, without it, the asserted ones and their named superclasses."""

        def node(s) -> Node:
            if types is not None:
                n = Node(str(s), *types.get(str(s), ()))
            else:
                told = {str(t) for t in g.objects(s, RDF.type)}
                n = Node(str(s), *told.union(*(self._ancestors(t) for t in told)))
            for p, o in g.predicate_objects(s):
                if p != RDF.type:
                    n.props[str(p)].append(_value(o))
            return n

        return [(node(c), [node(f) for f in g.subjects(SK.inCase, c)]) for c in g.subjects(RDF.type, SK.Case)]

    def _derive(self, g: Graph, types: dict[str, set[str]] | None = None) -> bool:
        """Run the derivations over the cases of ``g`` and add what they derive to ``g``; whether anything was new."""
        added = False
        for c, facts in self._records(g, types):
            before = {n.iri: ({*n.types}, {p: list(v) for p, v in n.props.items()}) for n in (c, *facts)}
            self.derivations.fixpoint(c, facts)
            for n in (c, *facts):
                was_types, was_props = before[n.iri]
                for t in n.types - was_types:
                    if (URIRef(n.iri), RDF.type, URIRef(t)) not in g:
                        g.add((URIRef(n.iri), RDF.type, URIRef(t)))
                        added = True
                for p, values in n.props.items():
                    for v in values:
                        if v in was_props.get(p, ()):
                            continue
                        o = Literal(repr(float(v)), datatype=XSD.decimal) if isinstance(v, float) else URIRef(v)
                        if p in (EPISODE, SCIATICA) and any(float(w) == v for w in g.objects(URIRef(n.iri), URIRef(p))):
                            continue
                        if (URIRef(n.iri), URIRef(p), o) not in g:
                            g.add((URIRef(n.iri), URIRef(p), o))
                            added = True
        return added

    # --- HermiT -----------------------------------------------------------------------------------------------

    def _world(self, cases: Graph):
        """A World with the KB, the cases and the rules, classified by HermiT."""
        import owlready2

        for s in set(cases.subjects()):  # every case resource an OWL individual, so HermiT classifies it
            if not isinstance(s, BNode):
                cases.add((s, RDF.type, OWL.NamedIndividual))
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
            for name in self.established.values():
                type(name, (owlready2.Thing,), {"namespace": bench})
            for text in self.rules:
                owlready2.Imp().set_as_rule(text, namespaces=[bench, sk])
            # owlready2 applies HermiT's subclass inferences (axial low back pain is low back pain) to the classes
            # loaded in Python only: load them all
            classes = list(world.classes())
            owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        del classes
        return world

    def _types(self, world) -> dict[str, set[str]]:
        """Every case resource's named classes as HermiT classified it (with every superclass, told or inferred)."""
        import owlready2

        types: dict[str, set[str]] = {}
        for ind in world.individuals():
            if not ind.iri.startswith(CASE_BASE):
                continue  # an individual of the KB
            named = {c for c in ind.is_a if isinstance(c, owlready2.ThingClass)}
            inferred = {a.iri for c in named for a in c.ancestors() if isinstance(a, owlready2.ThingClass)}
            types[ind.iri] = (inferred | {a for c in inferred for a in self._ancestors(c)}) - {_THING}
        return types

    def classify(self, docs: list[dict]):
        """A World with the KB, the cases (with what the derivations add) and the rules, classified by HermiT;
        returns it, every case resource's classes, and each case's recorded facts (for the plan's words)."""
        cases = Graph()
        for doc in docs:
            cases += case_graph(parse_case(doc))
        details = details_of(cases)  # the case as recorded, before anything is derived
        self._derive(cases)
        while True:
            world = self._world(cases)
            types = self._types(world)
            if not self._derive(cases, types):
                return world, types, details

    def runs(self, docs: list[dict]) -> list[CaseRun]:
        """What the reasoning finds for each case document of one batch."""
        world, types, details = self.classify(docs)
        in_case = world[_S + "inCase"]
        facts_of: dict[str, list] = defaultdict(list)
        for ind in world.individuals():
            cases = in_case[ind]
            if cases:
                facts_of[cases[0].iri].append(ind)
        out = []
        for doc in docs:
            iri = str(case_iri(doc["id"]))
            run = self._run(world, world[iri], facts_of.get(iri, []), types)
            run.details = details.get(iri, {})
            out.append(run)
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
        # a red flag the case records as excluded (worked up) is said, not raised
        excluded = {getattr(x, "iri", str(x)) for x in values(case, "excludesRedFlag")}
        # … where its exclusion covers the record (derive-excluded-red-flag-feature); else raised (again)
        covers = {f.iri: {getattr(x, "iri", str(x)) for x in values(f, "excludedAs")} for f in facts}
        for flag in self.red_flags:
            for f in by_type.get(flag, ()):
                covered = flag in covers[f.iri]
                (run.excluded_flags if covered else run.red_flags)[flag].add(f.iri)
                if flag in excluded and not covered:
                    run.reraised_flags[flag].add(f.iri)
        symptoms = by_type.get(_S + "Symptom", [])
        for s in symptoms:
            if self.derivations.symptom_kinds.isdisjoint(types[s.iri]):
                continue  # an unmapped code's bare symptom: what it is is not known here
            lat = next(iter(iris(s, "laterality")), None)
            derms = iris(s, "inDermatome") + [d for r in values(s, "inBodyRegion") for d in iris(r, "spansDermatome")]
            run.symptom_dermatomes += [(s.iri, d, lat) for d in derms]
        for f in facts:
            # a zone's reach overrides the type's; an inferred compression is not also reported as the impingement
            zone_vias = [via for z in iris(f, "zone") for via in self.reach.get(z, ())]
            # what a severe central herniation's reach reads (Derivations.fills_canal), as a Node
            node = Node(f.iri, *types[f.iri])
            node.props.update({_S + p: iris(f, p) for p in ("severity", "zone")})
            compressed = COMPRESSION in types[f.iri]
            if NO_LEVEL_COMPRESSION in types[f.iri]:  # no level: the roots some level would make it reach
                for root in iris(f, "possiblyCompressesRoot"):
                    for side in iris(f, "laterality") or [None]:
                        run.root_reach.append((f.iri, NO_LEVEL_COMPRESSION, None, None, root, side))
            for level in values(f, "atDiscLevel"):
                side = next(iter(iris(f, "laterality")), None)
                for t in types[f.iri]:
                    if t == IMPINGEMENT and compressed:
                        continue
                    for default in self.reach.get(t, ()):
                        for via in self.derivations.level_vias(node, t, default, zone_vias, level.iri):
                            for root in world[via][level]:
                                run.root_reach.append((f.iri, t, level.iri, via, root.iri, side))
        treatments = by_type.get(_S + "PriorTreatment", [])

        def failed(treatment: str, any_outcome: bool = False) -> list:
            out = []
            for t in treatments:
                if PREVIOUS_CARE in types.get(t.iri, ()):  # care of a previous episode is history
                    continue
                tt, outcome = values(t, "treatmentType"), iris(t, "outcome")
                if not tt or not any_outcome and (not outcome or _local(outcome[0]) not in FAILED_OUTCOMES):
                    continue
                if treatment == tt[0].iri or treatment in self._ancestors(tt[0].iri):
                    out.append(t)
            return out

        weeks = [float(w) for w in values(case, "episodeWeeks")]  # the episode (rule elapsed), not every symptom
        weeks += [float(w) for t in failed(_S + "conservative_care") for w in values(t, "weeks")]
        run.elapsed_weeks = max(weeks) if weeks else None
        established = {p: {f.iri for f in by_type.get(BENCH + e, ())} for p, e in self.established.items()}
        for p in self.presentations:
            if p in types[case.iri]:
                run.presentations[p] = set(established.get(p, ()))
        episode = values(case, "episodeWeeks")
        run.episode_weeks = float(episode[0]) if episode else None
        sciatica = values(case, "sciaticaWeeks")
        run.sciatica_weeks = float(sciatica[0]) if sciatica else None
        run.applicability = self._applicability(
            world, case, facts, types, by_type, symptoms, treatments, failed, values, established
        )
        return run

    def _applicability(self, world, case, facts, types, by_type, symptoms, treatments, failed, values, established):
        import owlready2

        speaks: dict = {}
        iri = case.iri

        def helped(treatment: str) -> bool:  # a course of it or a narrower one improved the patient
            return any(_local(o.iri) == "improved" for t in failed(treatment, True) for o in values(t, "outcome"))

        def of_region(study: str, regions: set) -> bool:  # a study of one of the regions: a level in one, or none
            levels = [
                level
                for f in facts
                if study in {x.iri for x in values(f, "fromStudy")}
                for level in (*values(f, "atDiscLevel"), *values(f, "atSpinalLevel"))
            ]
            return not levels or any(x.iri in regions for level in levels for x in values(level, "inSpineRegion"))

        undated = not symptoms or any(not values(s, "durationWeeks") for s in symptoms)
        candidacies = values(case, "candidateFor")
        excluded = {getattr(x, "iri", str(x)) for x in values(case, "excludesRedFlag")}
        # the red flags whose exclusion covers each record (derive-excluded-red-flag-feature)
        covers = {f.iri: {getattr(x, "iri", str(x)) for x in values(f, "excludedAs")} for f in facts}
        none_of = {str(v) for v in values(case, "recordsNoneOf")}  # list fields given empty: recorded as none
        patient = values(case, "patient")
        ages = [float(a) for p in patient for a in values(p, "age")]
        # every class the case's records are (or record absent), and the case fields those classes fill
        recorded = set().union(
            *(
                types[f.iri] | {c for a in values(f, "absentType") for c in (a.iri, *self._ancestors(a.iri))}
                for f in facts
            )
        )
        filled = {name for k in recorded for name in self.case_fields.get(k, ())}
        on_case = {  # the case fields of the properties the case node has a value of (its episode weeks)
            name
            for prop, names in self.case_fields.items()
            if isinstance(world[prop], owlready2.PropertyClass) and list(world[prop][case])
            for name in names
        }

        # what a recorded finding leaves open (sk:leavesOpen) and the case records neither way: type → (missing, facts)
        settled = excluded | {getattr(a, "iri", str(a)) for f in facts for a in values(f, "absentType")}
        unassessed = {
            t: (missing, found)
            for t, (missing, openers) in self.left_open.items()
            if not ({t} | set(self._ancestors(t))) & settled
            and (found := [f.iri for q in openers for f in by_type.get(q, ())])
        }

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
                for t in get("findingType", ()):  # a symptom (imaging finding) of the graded class, no severity
                    for kind_of, name in (
                        (_S + "Symptom", "symptoms[].severity"),
                        (_S + "ImagingFinding", "imaging[].findings[].severity"),
                    ):
                        if t in self.graded and any(
                            kind_of in types[f.iri] and not values(f, "severity")
                            for f in by_type.get(self.graded[t], ())
                        ):
                            speak(*key, UNKNOWN, (), [name])
                for t in get("findingType", ()):  # a compression only a herniation's unrecorded zone would decide
                    if t in (COMPRESSION, *self._ancestors(COMPRESSION)):
                        for f in by_type.get(POSSIBLE_COMPRESSION, ()):
                            sides = {x.iri for x in values(f, "laterality")}
                            for lat in get("laterality", (None,)):
                                if t not in types[f.iri] and (lat is None or sides & {lat, _S + "bilateral"}):
                                    speak(*key, UNKNOWN, [f.iri], ["imaging[].findings[].zone"])
                        for f in by_type.get(NO_LEVEL_COMPRESSION, ()):  # a compression only its level would decide
                            sides = {x.iri for x in values(f, "laterality")}
                            for lat in get("laterality", (None,)):
                                if lat is None or sides & {lat, _S + "bilateral"}:
                                    speak(*key, UNKNOWN, [f.iri], ["imaging[].findings[].level"])
                for t in get("findingType", ()):  # a symptom (imaging) finding of a case with no symptoms (imaging)
                    wanted = {name for k in (t, *self._ancestors(t)) for name in self.case_fields.get(k, ())}
                    for name in sorted(wanted - filled):
                        speak(*key, UNKNOWN, (), [name])
                    if t in unassessed:  # left open by a recorded finding, recorded neither way
                        speak(*key, UNKNOWN, unassessed[t][1], [unassessed[t][0]])
                    # finding-present-treatments-unrecorded-unknown: derived from the prior treatments, none recorded
                    if _S + "PriorTreatment" in self.requires.get(t, ()) and not treatments:
                        if "prior_treatments" not in none_of:
                            speak(*key, UNKNOWN, (), ["prior_treatments"])
            elif kind in ("PresentationPresent", "PresentationAbsent"):
                for p in get("presentation", ()):
                    # a phase of the sciatica reads the sciatica's own length where the case records one apart
                    # (rules sciatica-phase-present-holds, sciatica-phase-absent-fails)
                    read = (get("sciaticaPhase", ()) if values(case, "sciaticaWeeks") else ()) or (p,)
                    if any(q in types[iri] for q in read):  # HermiT classified the case in it
                        found = [f for q in read for f in established.get(q, ())]
                        speak(*key, HOLDS if kind == "PresentationPresent" else FAILS, found)
                    # unknown when the case records nothing in the fields the presentation is defined on (and,
                    # for a grade of a presentation, is in that presentation)
                    within = self.within.get(p, ())
                    if within and not any(q in types[iri] for q in within):
                        continue
                    for name in sorted({n for k in self.requires.get(p, ()) for n in self.case_fields.get(k, ())}):
                        if name not in filled and name not in on_case:
                            speak(*key, UNKNOWN, (), [name])
            elif kind in ("FindingAbsent", "NoRedFlag", "RedFlagPresent", "NoRedFlagScreen"):
                if kind in ("NoRedFlag", "RedFlagPresent"):  # only a red flag whose exclusion does not cover the record
                    flags = get("redFlag", ()) if kind == "RedFlagPresent" else (get("redFlag", ()) or self.red_flags)
                    if kind == "RedFlagPresent" and any(get("unconfirmedOnly", ())):  # a suspicion only
                        flags = [w for w in flags if not any(p in types[iri] for p in self.confirmed_by.get(w, ()))]
                    matched = [f for f in matched if set(flags) & types[f.iri] - covers[f.iri]]
                if matched:
                    speak(*key, HOLDS if kind == "RedFlagPresent" else FAILS, [f.iri for f in matched])
                if kind == "NoRedFlag":  # no-red-flag-screen-found-unknown: a screen found one the case does not name
                    found = [
                        s.iri
                        for s in by_type.get(_S + "RedFlagScreen", [])
                        if _S + "found" in [getattr(x, "iri", str(x)) for x in values(s, "screenResult")]
                    ]
                    if found and not any(by_type.get(w) for w in self.red_flags):
                        speak(*key, UNKNOWN, found, ["which red flag red_flag_screen found"])
                if kind == "RedFlagPresent":  # red-flag-present-weakness-grade-or-course-unrecorded-unknown
                    for w in flags:
                        if w not in self.new_deficit_flags or w in excluded:
                            continue
                        for f in by_type.get(THIS_EPISODE_WEAKNESS, ()):
                            course = values(f, "progressive")
                            stable = any(x is False or x == "false" for x in course)
                            graded = bool(values(f, "mrcGrade"))
                            if (graded and course) or (
                                stable and any(float(d) >= 12 for d in values(f, "durationWeeks"))
                            ):
                                continue
                            at = "symptoms[" + f.iri.partition("/symptom/")[2] + "]"
                            fields = [".strength_mrc"] * (not graded) + [".progressive"] * (not course)
                            speak(*key, UNKNOWN, [f.iri], [at + x for x in fields])
                for t in get("findingType", ()) if kind == "FindingAbsent" else ():  # left open, recorded neither way
                    if t in unassessed:
                        speak(*key, UNKNOWN, unassessed[t][1], [unassessed[t][0]])
                if kind == "FindingAbsent" and any(get("absenceRecorded", ())):
                    # an absence the sentence states: unknown unless the case records it (of the type or broader)
                    absent = {a.iri for f in facts for a in values(f, "absentType")}
                    for t in get("findingType", ()):
                        if not by_type.get(t) and not absent & {t, *self._ancestors(t)}:
                            # by name where the case records the type's field (imaging), else the field
                            for name in {n for k in (t, *self._ancestors(t)) for n in self.case_fields.get(k, ())}:
                                speak(*key, UNKNOWN, (), [self.notations[t] if name in filled else name])
            elif kind == "FindingAssessed":  # finding-absent-unassessed-unknown: left open, recorded neither way
                for t in get("findingType", ()):  # a record either way settles it (it never fails)
                    if t in unassessed and not by_type.get(t):
                        speak(*key, UNKNOWN, unassessed[t][1], [unassessed[t][0]])
            elif kind in ("PriorImaging", "NoPriorImaging"):
                # PriorImaging: a study before today; NoPriorImaging fails for a study of this episode (no older
                # than the episode's length; any, when the case has none), no older than its maxWeeksAgo (0: today's)
                # and, with withContrast, recorded with contrast
                # (with beforeEpisode, PriorImaging needs a study older than the episode: unknown without its length)
                longest = max((float(w) for w in values(case, "episodeWeeks")), default=None)
                before = any(get("beforeEpisode", ()))
                current = any(get("inEpisode", ()))  # PriorImaging of this episode: today's counts, an older does not
                newest = min(get("maxWeeksAgo", ()), default=None)
                # orAfterStableTriggersOf: an older study counts too where taken after every finding raising the
                # red flag began (weeks ago < the shortest duration), each recorded progressive false (else 0 weeks)
                dated = [
                    min(values(f, "durationWeeks"), default=0) if False in values(f, "progressive") else 0
                    for flag in get("orAfterStableTriggersOf", ())
                    for f in by_type.get(flag, ())
                ]
                since = min(dated, default=None)
                contrast = any(get("withContrast", ()))
                if regions := set(get("studyRegion", ())):  # a study of the region: a level in it, or none recorded
                    matched = [s for s in matched if of_region(s.iri, regions)]
                hits = [
                    s.iri
                    for s in matched
                    if any(
                        (
                            (longest is None or w <= longest)
                            if current
                            else w > 0 and (not before or longest is not None and w > longest)
                        )
                        if kind == "PriorImaging"
                        else (longest is None or w <= longest)
                        and (newest is None or w <= newest or (since is not None and w < since))
                        and (not contrast or True in values(s, "contrast"))
                        for w in values(s, "weeksAgo")
                    )
                ]
                if kind == "PriorImaging" and before and longest is None:
                    earlier = [s.iri for s in matched if any(w > 0 for w in values(s, "weeksAgo"))]
                    if earlier:
                        speak(*key, UNKNOWN, earlier, ["symptoms[].duration_weeks"])
                if hits:
                    speak(*key, HOLDS if kind == "PriorImaging" else FAILS, hits)
            elif kind in ("CandidateFor", "CandidacyOpen", "NotCandidateFor"):
                # listed (the SWRL class): CandidateFor holds; CandidacyOpen fails when a candidacy is recorded (an
                # empty list included) without it; CandidateFor is unknown when none is recorded; NotCandidateFor
                # fails when listed
                listed = BENCH + f"m{i}" in types[iri]
                recorded = bool(candidacies) or "candidate_for" in none_of
                if kind == "CandidateFor" and listed:
                    speak(*key, HOLDS, [iri])
                if kind == "CandidateFor" and not recorded:
                    speak(*key, UNKNOWN, (), ["candidate_for"])
                if kind == "CandidacyOpen" and recorded and not listed:
                    speak(*key, FAILS, [iri])
                if kind == "NotCandidateFor" and listed:
                    speak(*key, FAILS, [iri])
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
            elif kind in ("HadTreatment", "NoTreatment"):
                # whatever the outcome (or one of its outcomes where it names them), for its weeks where
                # it names them: HadTreatment holds, NoTreatment fails; only the first is unknown without the
                # treatments or a matching one's weeks (the second is closed world)
                outcomes = get("withOutcome", ())
                for treatment in get("treatment", ()):
                    had = [
                        t
                        for t in failed(treatment, any_outcome=True)
                        if not outcomes or any(o.iri in outcomes for o in values(t, "outcome"))
                        # a kind a no-treatment condition excepts (sk:exceptTreatment) does not count
                        if not any(
                            e == tt.iri or e in self._ancestors(tt.iri)
                            for e in get("exceptTreatment", ())
                            for tt in values(t, "treatmentType")
                        )
                    ]
                    if outcomes and _S + "improved" not in outcomes and helped(treatment):
                        had = []  # care that did not help: one course of it helped
                    for w in get("weeks", (None,)) if kind == "HadTreatment" else (None,):
                        if done := [t.iri for t in had if w is None or any(x >= w for x in values(t, "weeks"))]:
                            speak(*key, HOLDS if kind == "HadTreatment" else FAILS, done)
                    if get("weeks") and kind == "HadTreatment":
                        if unknown := [t.iri for t in had if not values(t, "weeks")]:
                            speak(*key, UNKNOWN, unknown, ["prior_treatments[].weeks"])
                if not treatments and kind == "HadTreatment" and "prior_treatments" not in none_of:
                    speak(*key, UNKNOWN, (), ["prior_treatments"])
            elif kind in ("FailedTreatment", "NoFailedTreatment"):
                # the failed treatments for the weeks: FailedTreatment holds, NoFailedTreatment fails; only the
                # first is unknown without the weeks or the treatments (the second is closed world)
                for treatment in get("treatment", ()):
                    done = failed(treatment)
                    if helped(treatment):
                        done = []  # a course of the kind that improved the patient: the kind has not failed
                    for w in get("weeks", (None,)):
                        holds = [t.iri for t in done if w is None or any(x >= w for x in values(t, "weeks"))]
                        if holds:
                            speak(*key, HOLDS if kind == "FailedTreatment" else FAILS, holds)
                    if get("weeks") and kind == "FailedTreatment":
                        unknown = [t.iri for t in done if not values(t, "weeks")]
                        if unknown:
                            speak(*key, UNKNOWN, unknown, ["prior_treatments[].weeks"])
                if not treatments and kind == "FailedTreatment" and "prior_treatments" not in none_of:
                    speak(*key, UNKNOWN, (), ["prior_treatments"])
        return fold(self.catalogue, speaks)

    def plans(self, docs: list[dict]) -> Iterator[list[Plan]]:
        """Plans batch by batch (one World and one HermiT run per batch), each batch yielded when it is done."""
        for start in range(0, len(docs), self.batch_size):
            yield [assemble(self.reasoner, run) for run in self.runs(docs[start : start + self.batch_size])]
