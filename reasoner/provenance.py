"""The PROV-O record of a reasoning run: run, KB version, case, plan steps and everything they derive from."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL

from .consts import DCTERMS, PROV, RDF, RDFS, SK, XSD
from .engine import CaseRun, Reasoner
from .kb import new_graph
from .plan import Plan


def run_iri(case_graph: Graph, kb_version: str) -> URIRef:
    """A run's IRI: a digest of the case's triples and the KB version (the same input names the same run)."""
    digest = hashlib.sha256(kb_version.encode())
    for line in sorted(case_graph.serialize(format="nt").splitlines()):
        digest.update(line.encode())
    return URIRef(f"{SK}run/{digest.hexdigest()[:16]}")


def provenance_graph(
    reasoner: Reasoner, plan: Plan, run: CaseRun, case_graph: Graph, started: datetime | None = None
) -> Graph:
    """The run's PROV-O graph, self-contained: the case, the steps, and the KB slice they rest on.

    Every step ``prov:wasGeneratedBy`` the run and ``prov:wasDerivedFrom`` its recommendations and the case
    findings that triggered them (plain and qualified); each recommendation ``prov:wasDerivedFrom`` its evidence
    statements, which carry the quote (``oa:exact``) and ``prov:hadPrimarySource`` the cited reference.
    """
    kb = reasoner.kb
    g = new_graph()
    for triple in case_graph:
        g.add(triple)
    case = URIRef(run.case)
    act = run_iri(case_graph, reasoner.kb_version)
    kbv = URIRef(f"{SK}kb/{reasoner.kb_version}")
    agent = URIRef(f"{SK}agent/spinekg")
    now = started or datetime.now(timezone.utc)
    g.add((act, RDF.type, SK.ReasoningRun))
    g.add((act, RDF.type, PROV.Activity))
    g.add((act, PROV.used, case))
    g.add((act, PROV.used, kbv))
    g.add((act, PROV.wasAssociatedWith, agent))
    g.add((act, PROV.startedAtTime, Literal(now.isoformat(), datatype=XSD.dateTime)))
    g.add((act, PROV.endedAtTime, Literal(datetime.now(timezone.utc).isoformat(), datatype=XSD.dateTime)))
    g.add((kbv, RDF.type, SK.KnowledgeBaseVersion))
    g.add((kbv, RDF.type, PROV.Entity))
    g.add((kbv, OWL.versionInfo, Literal(reasoner.kb_version)))
    g.add((agent, RDF.type, PROV.SoftwareAgent))
    g.add((agent, RDFS.label, Literal("spinekg reasoner")))
    plan_iri = URIRef(f"{run.case}/plan")
    g.add((plan_iri, RDF.type, SK.Plan))
    g.add((plan_iri, PROV.wasGeneratedBy, act))
    g.add((plan_iri, PROV.wasDerivedFrom, case))
    # red flags the run inferred, as types of the case findings
    for flag, facts in run.red_flags.items():
        for fact in facts:
            g.add((URIRef(fact), RDF.type, URIRef(flag)))
            g.add((URIRef(flag), RDFS.label, Literal(reasoner.index.label(flag))))
    # the case resources each recommendation's conditions held on (the plan shows them as field paths)
    triggers = {a.recommendation: a.triggered_by for a in run.applicability}
    used = set()
    for n, step in enumerate(plan.steps, 1):
        s = URIRef(f"{run.case}/step/{n}")
        g.add((plan_iri, SK.hasStep, s))
        g.add((s, RDF.type, SK.PlanStep))
        g.add((s, RDF.type, PROV.Entity))
        g.add((s, RDFS.label, Literal(f"{step.stance} {step.label} ({step.phase})")))
        g.add((s, SK.stepPosition, Literal(n)))
        g.add((s, SK.stepOf, SK[step.id]))
        g.add((s, SK.stance, SK[step.stance]))
        g.add((s, SK.phase, SK[step.phase]))
        if step.timing:
            g.add((s, SK.timing, Literal(step.timing)))
        g.add((s, PROV.wasGeneratedBy, act))
        for rec in step.recommendations:
            g.add((s, PROV.wasDerivedFrom, URIRef(rec)))
            q = URIRef(f"{s}/derivation/{rec.rsplit('/', 1)[-1]}")
            g.add((s, PROV.qualifiedDerivation, q))
            g.add((q, RDF.type, PROV.Derivation))
            g.add((q, PROV.entity, URIRef(rec)))
            g.add((q, PROV.hadActivity, act))
            used.add(URIRef(rec))
        for rec in step.recommendations:
            for fact in triggers.get(rec, ()):
                g.add((s, PROV.wasDerivedFrom, URIRef(fact)))
    # the KB slice: recommendations, their evidence, the references and sources those cite
    frontier = set(used)
    seen: set[URIRef] = set()
    while frontier:
        node = frontier.pop()
        if node in seen:
            continue
        seen.add(node)
        for triple in kb.cbd(node):
            g.add(triple)
            _, p, o = triple
            if isinstance(o, URIRef) and p in (
                PROV.wasDerivedFrom,
                PROV.hadPrimarySource,
                SK.citesReference,
                DCTERMS.source,
                SK.intervention,
            ):
                frontier.add(o)
    return g
