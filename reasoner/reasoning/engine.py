"""Run the reasoning over one or many cases in one pyoxigraph store: classify, decide, gather the facts."""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from rdflib import Graph, URIRef

from .. import rules
from ..consts import RDF, SK
from ..kb.cache import cached
from ..kb.index import KBIndex
from ..kb.load import kb_version, shared_kb
from . import classify, derive, needs
from . import conditions as apply
from .stores import KB_GRAPH, Backend, LocalStore

#: Where the rules run in this process: ``python`` (:mod:`.inproc`, the rule texts compiled once and evaluated over
#: Python indexes), ``oxigraph`` (an embedded pyoxigraph store, the reference the tests compare with), or ``auto``
#: (the default): the Python engine, :data:`PYTHON_BATCH` cases at a time, at every batch size. Measured side by side
#: on 1,000 generated cases in one batch, reasoning alone, each engine in a fresh process: the Python engine 3.5-3.9 s,
#: the store 5.5-5.9 s fresh and 7.2-9.1 s once it had reasoned a batch before (it had been the faster from a few
#: hundred cases, 1.8 against 2.0 ms a case at 500, before this month's condition rules).
ENGINES = ("auto", "python", "oxigraph")
#: The Python engine reasons over at most this many cases at a time (a case costs about the same alone or in a
#: batch there, and its hash joins grow with the batch)
PYTHON_BATCH = 100

#: How many allocations Python's cyclic collector lets pass while a batch is reasoned, where its default is 700: a
#: batch makes millions of short-lived rows and tuples that reference counting frees, and each collection walked
#: all that was still alive. Measured on 4,000 generated cases: the batch function 4.68 -> 4.37 ms a case (reasoning
#: 2.39 -> 2.0); one case about 5.2 -> 5.0 ms (within the noise of one run).
GC_THRESHOLD = 100_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's first threshold to :data:`GC_THRESHOLD` for the block, then put it back (a collector
    that is off, or set higher already, is left as it is)."""
    first, *rest = gc.get_threshold()
    if first >= GC_THRESHOLD or not gc.isenabled():
        yield
        return
    gc.set_threshold(GC_THRESHOLD, *rest)
    try:
        yield
    finally:
        gc.set_threshold(first, *rest)


#: The collection rules (``rules/collect/*.rq``): what the plan needs beyond the conditions.
CASES = rules.text("cases")
RED_FLAG_HITS = rules.text("red-flag-hits")
RED_FLAGS_EXCLUDED = rules.text("red-flags-excluded")

PRESENTATIONS = rules.text("presentations")

#: What a case records of each of its facts, as asserted (read before classification, so the type is the one given)
FACT_DETAILS = rules.text("fact-details")

DETAIL_PROPERTIES = tuple(
    str(SK[n])
    for n in (
        "absentType laterality inDermatome inBodyRegion atDiscLevel atSpinalLevel severity durationWeeks zone "
        "progressive isNew measuredValue scoreValue mrcGrade treatmentType outcome weeks screenResult age sex "
        "modality weeksAgo treatmentWeeksAgo"
    ).split()
)


def _canon(value: str) -> str:
    """A number as ``%g`` (the store writes ``3`` where the case graph has ``3.0``); anything else as given."""
    try:
        return f"{float(value):g}"
    except ValueError:
        return value


def details_of(graph: Graph) -> dict[str, dict[str, dict[str, set[str]]]]:
    """Case IRI → fact IRI → property IRI → values: what FACT_DETAILS reads from the store, from an rdflib case
    graph as the case reader makes it (for reasoners that do not run the store's queries, e.g. the baselines).

    >>> from reasoner.case.validate import case_graph
    >>> from reasoner.case.files import loads
    >>> g = case_graph(loads('{"id": "w1", "age": 50, "symptoms": [{"type": "numbness"}]}'))
    >>> d = details_of(g)["https://w3id.org/spinekg/case/w1"]
    >>> sorted(d["https://w3id.org/spinekg/case/w1/symptom/0"][str(RDF.type)])[-1]
    'https://w3id.org/spinekg/numbness'
    """
    wanted = {URIRef(p) for p in DETAIL_PROPERTIES} | {RDF.type}
    out: dict[str, dict[str, dict[str, set[str]]]] = defaultdict(dict)
    members = [(f, c) for f, c in graph.subject_objects(SK.inCase)] + list(
        (p, c) for c, p in graph.subject_objects(SK.patient)
    )
    for fact, case in members:
        for p, o in graph.predicate_objects(fact):
            if p in wanted and (p != RDF.type or str(o).startswith(str(SK)) or not str(o).startswith(_W3)):
                out[str(case)].setdefault(str(fact), {}).setdefault(str(p), set()).add(_canon(str(o)))
    return dict(out)


_W3 = "http://www.w3.org/"  # OWL's and RDF's own types (owl:NamedIndividual) are not a type as given

EPISODE = rules.text("episode")

FACT_TYPES = rules.text("fact-types")

SYMPTOM_DERMATOMES = rules.text("symptom-dermatomes")

ROOT_REACH = rules.text("root-reach")

ELAPSED = rules.text("elapsed")


@dataclass
class CaseRun:
    """Everything the reasoning found for one case, before the plan is assembled."""

    case: str
    # the (case, recommendation) pairs some case fact speaks to; every other recommendation of the
    # catalogue is at its defaults (``Reasoner.applicability`` gives the complete list)
    applicability: list[apply.Applicability] = field(default_factory=list)
    red_flags: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # flag IRI → finding IRIs
    # red flags the case records as excluded (worked up): flag IRI → the findings that would have raised it
    excluded_flags: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # … and the findings of such a red flag its exclusion does not cover (begun or progressing after the work-up,
    # rule derive-excluded-red-flag-feature): they raise it again, and are in ``red_flags`` too
    reraised_flags: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    fact_types: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    symptom_dermatomes: list[tuple[str, str, str | None]] = field(
        default_factory=list
    )  # symptom, dermatome, laterality
    # finding, type, level, via, root, side (no level and no via: a compressive finding recorded without a level)
    root_reach: list[tuple[str, str, str | None, str | None, str, str | None]] = field(default_factory=list)
    elapsed_weeks: float | None = None
    # clinical presentation IRI → the case findings that established it (none for a duration phase)
    presentations: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # fact IRI → property IRI → values, as the case records it (the asserted type, not the inferred ones)
    details: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    episode_weeks: float | None = None
    sciatica_weeks: float | None = None  # the sciatica's own length, where the case reader recorded one apart

    def fact_types_of(self, facts) -> set[str]:
        """Every class (asserted or inferred) of the given case resources."""
        return {t for f in facts for t in self.fact_types.get(f, ())}


@dataclass(frozen=True)
class Compiled:
    """What the reasoner derives from a KB once: the rules, the KB as N-Triples (skolemised, so the condition
    nodes keep one name in every store), dermatome → roots, each condition's parameters, the catalogue."""

    rules: tuple[classify.Rule, ...]
    kb_nt: bytes
    dermatome_roots: dict[str, set[str]]
    condition_params: dict[str, dict[str, list[str]]]  # keyed by the skolem IRIs every store reports
    conditions: apply.Catalogue
    query_needs: dict[str, needs.Needs]  # a condition or collection rule's text → the keys it needs to match


def _plans(updates: tuple[classify.Rule, ...]) -> dict[str, Any]:
    """The texts the in-process store is given, compiled: the rules and the closure scoped to its batch graph, and
    the queries (a closure for some classes only is made from the whole closure's plan when it comes)."""
    from .inproc import BATCH_GRAPH, compile_text, freeze  # only for the in-process engine (Reasoner.__init__)

    using = (KB_GRAPH, BATCH_GRAPH)
    texts = [classify.scoped(r.update, BATCH_GRAPH, using) for r in updates]
    texts.append(classify.scoped(classify.CLOSURE, BATCH_GRAPH, using))
    texts += [FACT_DETAILS] + [r.text for g in ("conditions", "collect") for r in rules.load(g)]
    return {t: freeze(compile_text(t)) for t in texts}


def _compile(kb: Graph) -> Compiled:
    """What a reasoner derives from a KB (the in-process engine's plans are cached apart: :func:`_plans`)."""
    skolem = kb.skolemize(authority="https://w3id.org", basepath="/spinekg/.well-known/genid/")
    roots: dict[str, set[str]] = defaultdict(set)
    for derm, root in skolem.subject_objects(SK.dermatomeOfRoot):
        roots[str(derm)].add(str(root))
    params: dict[str, dict[str, list[str]]] = {}
    for cond in set(skolem.objects(None, SK.hasCondition)):  # a named condition may serve several recommendations
        for p, o in skolem.predicate_objects(cond):
            params.setdefault(str(cond), {}).setdefault(str(p), []).append(str(o))
    conditions = apply.catalogue(
        (rec, cond, kind)
        for rec, cond in skolem.subject_objects(SK.hasCondition)
        if (rec, RDF.type, SK.Recommendation) in skolem
        for kind in skolem.objects(cond, RDF.type)
    )
    updates = classify.compile_rules(kb) + derive.RULES
    compiled = tuple(
        classify.Rule(r.cls, r.update, needs.of_update(r.update), needs.inserted_types(r.update)) for r in updates
    )
    return Compiled(
        compiled,
        skolem.serialize(format="nt", encoding="utf-8"),
        roots,
        params,
        conditions,
        {r.text: needs.of_query(r.text) for g in ("conditions", "collect") for r in rules.load(g)},
    )


class Reasoner:
    """The knowledge base loaded once, with its compiled rules; reasons over batches of case graphs.

    >>> r = Reasoner()
    >>> len(r.rules) > 0 and r.kb_version.startswith("0.1.0+")
    True
    """

    def __init__(
        self,
        kb: Graph | None = None,
        connect: Callable[[bytes, str], Backend] | None = None,
        engine: str = "auto",
    ):
        """``connect(kb_ntriples, kb_version)`` gives the store the rules run in; without it, ``engine`` says which
        in-process one (:data:`ENGINES`)."""
        if engine not in ENGINES:
            raise ValueError(f"engine {engine!r} is not one of {', '.join(ENGINES)}")
        self.kb = kb if kb is not None else shared_kb()
        self.index = KBIndex(self.kb)
        self.kb_version = kb_version()
        self.cache: dict[Hashable, Any] = {}  # what the plan assembly derives once per KB
        if kb is None:
            compiled = cached("reasoner", self.kb_version, lambda: _compile(self.kb))
        else:
            compiled = _compile(self.kb)
        self.rules = compiled.rules
        self.kb_nt = compiled.kb_nt
        self.dermatome_roots = compiled.dermatome_roots
        self.condition_params = compiled.condition_params
        self.conditions = compiled.conditions
        self.query_needs = compiled.query_needs
        self._kb_keys: frozenset[str] | None = None  # the classes and predicates of the store's KB graph
        self.backend: Backend  # where a batch runs
        if connect is not None:
            self.engine = "endpoint"
            self.backend = connect(self.kb_nt, self.kb_version)
        elif engine in ("python", "auto"):
            self.engine = engine
            # the plans in a cache entry of their own: a command that uses the embedded store does not read them
            # (about 30 ms of a cold start); a KB of a test's own compiles each text the first time it runs
            from .inproc import PythonStore  # 15 ms to import: a one-case command (the embedded store) does not

            plans = cached("inproc-plans", self.kb_version, lambda: _plans(self.rules)) if kb is None else {}
            self.backend = PythonStore(self.kb_nt, KB_GRAPH, plans)
        else:
            self.engine = engine
            self.backend = LocalStore(self.kb_nt)

    def close(self) -> None:
        """Give back what the store holds for this run (an endpoint's KB graph, if this run loaded it)."""
        self.backend.close()

    def run(self, case_graphs: list[Graph | str]) -> dict[str, CaseRun]:
        """Reason over every case at once (rdflib graphs or N-Triples text); one CaseRun per case IRI.

        The cases go into a graph of their own next to the KB's, are classified there, every rule query that can
        match runs once over all of them (one whose classes or predicates are not in the store would find
        nothing: :mod:`.needs`), and the graph is dropped again.
        """
        if self.engine in ("python", "auto") and len(case_graphs) > PYTHON_BATCH:
            runs: dict[str, CaseRun] = {}
            for start in range(0, len(case_graphs), PYTHON_BATCH):
                runs.update(self.run(case_graphs[start : start + PYTHON_BATCH]))
            return runs
        text = "".join(g if isinstance(g, str) else g.serialize(format="nt") for g in case_graphs)
        backend = self.backend
        with backend.lock, fewer_collections():
            if self._kb_keys is None:
                self._kb_keys = frozenset(classify.keys(backend, backend.kb_graph))
            kb_keys = self._kb_keys
            batch = backend.begin()
            try:
                backend.load(text, batch)
                graphs = (backend.kb_graph, batch)
                details = cast("list[dict[str, str]]", list(backend.select(FACT_DETAILS, (batch,))))  # all bound
                _, batch_keys = classify.to_fixpoint(backend, self.rules, batch, graphs, kb_keys=kb_keys)
                present = kb_keys | batch_keys.keys()
                wanted = self.query_needs

                def can(q: str) -> bool:
                    return q not in wanted or needs.possible(wanted[q], present)

                runs = self._collect(
                    lambda q: backend.select(q, graphs) if can(q) else iter(()),
                    lambda q: backend.rows(q, graphs) if can(q) else ([], iter(())),
                )
                for row in details:
                    if row["case"] in runs:
                        facts = runs[row["case"]].details.setdefault(row["fact"], {})
                        facts.setdefault(row["p"], set()).add(_canon(row["o"]))
                return runs
            finally:
                backend.end(batch)

    def _collect(self, select, rows) -> dict[str, CaseRun]:
        runs: dict[str, CaseRun] = {}

        def of(case: str) -> CaseRun:
            run = runs.get(case)
            if run is None:
                run = runs[case] = CaseRun(case)
            return run

        for row in select(CASES):
            of(row["case"])
        for a in apply.evaluate(rows, self.conditions):
            of(a.case).applicability.append(a)
        for row in select(RED_FLAG_HITS):
            of(row["case"]).red_flags[row["flag"]].add(row["fact"])
        excluded = list(select(RED_FLAGS_EXCLUDED))  # a row per red flag the exclusion covers the finding for
        covered = {(row["case"], row["covered"], row["fact"]) for row in excluded if row["covered"] is not None}
        for row in excluded:
            key = (row["case"], row["flag"], row["fact"])
            run = of(row["case"])
            (run.excluded_flags if key in covered else run.reraised_flags)[row["flag"]].add(row["fact"])
        for row in select(FACT_TYPES):
            of(row["case"]).fact_types[row["fact"]].add(row["type"])
        for row in select(SYMPTOM_DERMATOMES):
            of(row["case"]).symptom_dermatomes.append((row["s"], row["derm"], row["lat"]))
        for row in select(ROOT_REACH):
            values = (row["f"], row["type"], row["level"], row["via"], row["root"], row["side"])
            of(row["case"]).root_reach.append(values)
        for row in select(PRESENTATIONS):
            found = of(row["case"]).presentations[row["p"]]
            if row["fact"] is not None:
                found.add(row["fact"])
        for row in select(EPISODE):
            of(row["case"]).episode_weeks = float(row["weeks"])
            if row["sciatica"] is not None:
                of(row["case"]).sciatica_weeks = float(row["sciatica"])
        for row in select(ELAPSED):
            if row["weeks"] is not None:
                of(row["case"]).elapsed_weeks = float(row["weeks"])
        return runs

    def describe_condition(self, cond: str, kind: str) -> str:
        """A condition in words: ``FindingPresent(radicular_pain)``, ``FailedTreatment(conservative_care, 6 weeks)``."""
        key = ("describe", cond, kind)
        if key not in self.cache:
            self.cache[key] = self._describe(cond, kind)
        return self.cache[key]

    def _describe(self, cond: str, kind: str) -> str:
        params = self.condition_params.get(cond, {})
        parts = []
        for prop in (
            "presentation",
            "findingType",
            "redFlag",
            "treatment",
            "candidacy",
            "score",
            "modality",
            "studyRegion",
            "laterality",
        ):
            for value in sorted(params.get(str(SK[prop]), [])):
                parts.append(value.removeprefix(str(SK)))
        for prop, unit in (
            ("weeks", "weeks"),
            ("minDurationWeeks", "weeks at least"),
            ("value", ""),
            ("years", "years"),
        ):
            for value in params.get(str(SK[prop]), []):
                parts.append(f"{float(value):g} {unit}".strip())
        if outcomes := sorted(v.removeprefix(str(SK)) for v in params.get(str(SK.withOutcome), [])):
            parts.append("outcome " + " or ".join(outcomes))
        if excepted := sorted(v.removeprefix(str(SK)) for v in params.get(str(SK.exceptTreatment), [])):
            parts.append("except " + " or ".join(excepted))
        if any(str(v).lower() == "true" for v in params.get(str(SK.beforeEpisode), [])):
            parts.append("before this episode")
        if any(str(v).lower() == "true" for v in params.get(str(SK.inEpisode), [])):
            parts.append("in this episode")
        if any(str(v).lower() == "true" for v in params.get(str(SK.withContrast), [])):
            parts.append("with contrast")
        for value in params.get(str(SK.maxWeeksAgo), []):
            parts.append("today" if float(value) == 0 else f"no older than {float(value):g} weeks")
        for value in params.get(str(SK.orAfterStableTriggersOf), []):
            parts.append(f"or after every {value.removeprefix(str(SK))} finding began, none progressive")
        return f"{kind}({', '.join(parts)})"
