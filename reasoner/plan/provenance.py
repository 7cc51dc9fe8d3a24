"""The PROV-O record of a reasoning run: run, KB version, case, plan steps and everything they derive from."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL

from ..case.paths import field_path
from ..consts import DCTERMS, OA, PROV, RDF, RDFS, SK, SK_IRI, XSD
from ..kb.load import new_graph
from ..ntriples import Triples, plain, term
from ..reasoning.conditions import DEFAULT_RULE
from ..reasoning.engine import CaseRun, Reasoner
from .model import Plan

#: The links the KB slice follows from a recommendation: to its evidence, the evidence's quote (target and selector)
#: and citations, the references and sources they cite, the intervention.
_FOLLOW = (
    PROV.wasDerivedFrom,
    PROV.hadPrimarySource,
    SK.citesReference,
    DCTERMS.source,
    SK.intervention,
    OA.hasTarget,
    OA.hasSelector,
    SK.citation,
)


def run_iri(case_graph: Graph | str, kb_version: str) -> URIRef:
    """A run's IRI: a digest of the case's triples (a graph or N-Triples text) and the KB version (the same
    input names the same run)."""
    text = case_graph if isinstance(case_graph, str) else case_graph.serialize(format="nt")
    digest = hashlib.sha256(kb_version.encode())
    for line in sorted(text.splitlines()):
        digest.update(line.encode())
    return URIRef(f"{SK}run/{digest.hexdigest()[:16]}")


def _time(moment: datetime) -> Literal:
    return Literal(moment.isoformat(), datatype=XSD.dateTime)


_TIMES: dict[datetime, str] = {}


def _time_nt(moment: datetime) -> str:
    """:func:`_time` in N-Triples syntax, made once for a batch's start and end (every case of it writes them)."""
    made = _TIMES.get(moment)
    if made is None:
        if len(_TIMES) > 64:
            _TIMES.clear()
        made = _TIMES[moment] = term(_time(moment))
    return made


def case_provenance(
    reasoner: Reasoner,
    plan: Plan,
    run: CaseRun,
    case_triples: Triples,
    started: datetime,
    ended: datetime,
) -> str:
    """The case's own part of a run's PROV-O, as N-Triples: the case, the run, the plan and its steps.

    Every step ``prov:wasGeneratedBy`` the run and ``prov:wasDerivedFrom`` its recommendations, those it covers and
    keeps the sentences of (:attr:`Step.backed`; ``sk:covers`` names every covered one) and the case findings that
    triggered its own (plain and qualified). The KB part (recommendations → evidence → references)
    is :func:`kb_slice`, shared by every case of a cohort. Written as text (no rdflib terms): a cohort writes
    this for every case.
    """
    case_nt = case_triples.nt()
    out = [case_nt]
    add = out.append
    case = f"<{run.case}>"
    act = f"<{run_iri(case_nt, reasoner.kb_version)}>"
    kbv = f"<{SK}kb/{reasoner.kb_version}>"
    agent = f"<{SK}agent/spinekg>"
    a, derived, gen = f"<{RDF.type}>", f"<{PROV.wasDerivedFrom}>", f"<{PROV.wasGeneratedBy}>"
    add(
        f"{act} {a} <{SK.ReasoningRun}> .\n{act} {a} <{PROV.Activity}> .\n{act} <{PROV.used}> {case} .\n"
        f"{act} <{PROV.used}> {kbv} .\n{act} <{PROV.wasAssociatedWith}> {agent} .\n"
        f"{act} <{PROV.startedAtTime}> {_time_nt(started)} .\n{act} <{PROV.endedAtTime}> {_time_nt(ended)} .\n"
        f"{kbv} {a} <{SK.KnowledgeBaseVersion}> .\n{kbv} {a} <{PROV.Entity}> .\n"
        f"{kbv} <{OWL.versionInfo}> {plain(reasoner.kb_version)} .\n"
        f"{agent} {a} <{PROV.SoftwareAgent}> .\n{agent} <{RDFS.label}> {plain('spinekg reasoner')} .\n"
    )
    plan_iri = f"<{run.case}/plan>"
    add(f"{plan_iri} {a} <{SK.Plan}> .\n{plan_iri} {gen} {act} .\n{plan_iri} {derived} {case} .\n")
    # red flags the run inferred, as types of the case findings
    for flag, facts in sorted(run.red_flags.items()):
        for fact in sorted(facts):
            add(f"<{fact}> {a} <{flag}> .\n")
        add(f"<{flag}> <{RDFS.label}> {plain(reasoner.index.label(flag))} .\n")
    # the case resources each recommendation's conditions held on (the plan shows them as field paths), and the
    # rules that decided its conditions (rules/conditions/ID.rq; "default": no rule's rows spoke, the kind's default)
    used = {r for step in plan.steps for r in (*step.recommendations, *step.covers)}
    triggers = {x.recommendation: x.triggered_by for x in run.applicability if x.recommendation in used}
    deciders = {
        x.recommendation: sorted({c.rule for c in x.conditions}) for x in run.applicability if x.recommendation in used
    }
    has_step, step_cls, entity, label = f"<{SK.hasStep}>", f"<{SK.PlanStep}>", f"<{PROV.Entity}>", f"<{RDFS.label}>"
    position, step_of, stance, phase = f"<{SK.stepPosition}>", f"<{SK.stepOf}>", f"<{SK.stance}>", f"<{SK.phase}>"
    number = f"<{SK.stepNumber}>"
    qualified, derivation, p_entity = f"<{PROV.qualifiedDerivation}>", f"<{PROV.Derivation}>", f"<{PROV.entity}>"
    had_activity, decided_by, timing, covers = (
        f"<{PROV.hadActivity}>",
        f"<{SK.decidedBy}>",
        f"<{SK.timing}>",
        f"<{SK.covers}>",
    )
    integer = f"^^<{XSD.integer}> .\n"
    for n, step in enumerate(plan.steps, 1):
        s = f"<{run.case}/step/{n}>"
        add(
            f"{plan_iri} {has_step} {s} .\n{s} {a} {step_cls} .\n{s} {a} {entity} .\n"
            f"{s} {label} {plain(f'{step.stance} {step.label} ({step.phase})')} .\n"
            f'{s} {position} "{n}"{integer}{s} {number} "{step.number}" .\n{s} {step_of} <{SK_IRI}{step.id}> .\n'
            f"{s} {stance} <{SK_IRI}{step.stance}> .\n{s} {phase} <{SK_IRI}{step.phase}> .\n"
            f"{s} {gen} {act} .\n"
        )
        if step.timing:
            add(f"{s} {timing} {plain(step.timing)} .\n")
        # the step rests on its recommendations and on those it covers whose sentences it keeps (sk:covers names
        # every covered one apart): each is a derivation of the step
        for rec in (*step.recommendations, *step.backed):
            q = f"<{run.case}/step/{n}/derivation/{rec.rsplit('/', 1)[-1]}>"
            add(
                f"{s} {derived} <{rec}> .\n{s} {qualified} {q} .\n{q} {a} {derivation} .\n"
                f"{q} {p_entity} <{rec}> .\n{q} {had_activity} {act} .\n"
            )
            for rule in deciders.get(rec, [DEFAULT_RULE]):
                add(f"{q} {decided_by} <{SK_IRI}rule/{rule}> .\n")
        # the findings that triggered its own recommendations, and those of a covered one whose findings the step
        # names among its triggers (another red flag's routine referral an urgent one gives: review R17 #5)
        named = set(step.triggered_by)
        found = [f for rec in step.recommendations for f in triggers.get(rec, ())]
        found += [f for rec in step.backed for f in triggers.get(rec, ()) if field_path(run.case, f) in named]
        for fact in dict.fromkeys(found):
            add(f"{s} {derived} <{fact}> .\n")  # once each, in the recommendations' order
        for rec in step.covers:  # applied, and given by this step (those it keeps the sentences of are derivations)
            add(f"{s} {covers} <{rec}> .\n")
    return "".join(out)


def kb_slice(reasoner: Reasoner, recommendations) -> Graph:
    """The KB part of provenance: the recommendations, their evidence, the references and sources they cite."""
    kb = reasoner.kb
    g = new_graph()
    frontier = {URIRef(r) for r in recommendations}
    seen: set[URIRef] = set()
    while frontier:
        node = frontier.pop()
        if node in seen:
            continue
        seen.add(node)
        for triple in kb.cbd(node):
            g.add(triple)
            _, p, o = triple
            if isinstance(o, URIRef) and p in _FOLLOW:
                frontier.add(o)
    return g


def rests_on(plan: Plan) -> set[str]:
    """The recommendations a plan's provenance describes: those its steps rest on, and those they cover (``sk:covers``:
    a covered "consider" keeps its sentences on the step)."""
    return {r for step in plan.steps for r in (*step.recommendations, *step.covers)}


def kb_slice_nt(reasoner: Reasoner, recommendations) -> str:
    """:func:`kb_slice` as N-Triples, each recommendation's part made once per reasoner (blank nodes labelled
    per recommendation, so parts of different recommendations never share one by accident)."""
    parts = reasoner.cache.setdefault("kb_slice_nt", {})
    out = []
    for rec in sorted(set(map(str, recommendations))):
        if rec not in parts:
            parts[rec] = kb_slice(reasoner, [rec]).serialize(format="nt")
        out.append(parts[rec])
    return "".join(out)


def provenance_nt(reasoner: Reasoner, plan: Plan, run: CaseRun, case_triples: Triples) -> str:
    """The run's PROV-O as N-Triples text, the KB slice included (what a cohort writes, for one case)."""
    now = datetime.now(timezone.utc)
    return kb_slice_nt(reasoner, rests_on(plan)) + case_provenance(reasoner, plan, run, case_triples, now, now)


def provenance_graph(
    reasoner: Reasoner, plan: Plan, run: CaseRun, case_triples: Triples | Graph, started: datetime | None = None
) -> Graph:
    """The run's PROV-O graph, self-contained: the case, the steps, and the KB slice they rest on.

    Each recommendation ``prov:wasDerivedFrom`` its evidence statements, which carry the quote (``oa:exact``)
    and ``prov:hadPrimarySource`` the cited reference.
    """
    if isinstance(case_triples, Graph):
        case_triples = Triples(case_triples)
    now = started or datetime.now(timezone.utc)
    g = kb_slice(reasoner, rests_on(plan))
    g.parse(data=case_provenance(reasoner, plan, run, case_triples, now, datetime.now(timezone.utc)), format="nt")
    return g
