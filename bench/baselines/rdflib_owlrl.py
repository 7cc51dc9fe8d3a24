"""Baseline (a), the obvious approach: per case an rdflib graph of the KB and the case, closed under OWL 2 RL
(owlrl), then the rule queries run with rdflib's SPARQL engine.

The KB is the one spinekg's store holds (its blank nodes skolemised), so conditions keep the names plans sort by.

The compiled class definitions (``reasoner.reasoning.classify.compile_rules``: OWL RL has no datatype facets,
so mJOA bands, "aged 65 or over" and the duration phases need them; it has no inverse-property restrictions that
say which records established a clinical presentation either) and spinekg's derivation rules
(``reasoner.reasoning.derive``: the episode length, an aggregate; lumbosacral radicular pain and nerve root
compression, closed-world joins) run to a fixpoint with ``Graph.update``; the condition queries and the
engine's SELECTs are spinekg's own rule files (``reasoner/rules/``), run by rdflib's SPARQL engine. One change:
the closure makes ``rdfs:subClassOf`` transitive and reflexive, so the red-flag
query names the KB's asserted red-flag classes instead of asking for ``?flag rdfs:subClassOf sk:RedFlag``.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import owlrl
from rdflib import BNode, Graph, Literal, URIRef

from reasoner.case.validate import case_graph, parse_case
from reasoner.consts import RDFS, SK
from reasoner.plan.assemble import assemble
from reasoner.plan.model import Plan
from reasoner.reasoning import classify as classify
from reasoner.reasoning import conditions as apply
from reasoner.reasoning import derive as derive
from reasoner.reasoning import engine as engine
from reasoner.reasoning.classify import compile_rules
from reasoner.reasoning.conditions import recommendations_of
from reasoner.reasoning.engine import CaseRun, Reasoner

from . import Conditions, condition_name, fold, skolem_kb, speak

NAME, LABEL = "a", "rdflib + OWL-RL (owlrl)"

P = f"PREFIX sk: <{SK}>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"

CLOSURE = classify.CLOSURE

# spinekg's own condition rules, read from the same files the engine runs (``reasoner/rules/conditions/*.rq``)
QUERIES: list[tuple[str, str, str]] = [(rule.text, rule.meta["status"], rule.id) for rule in apply.QUERIES]

RED_FLAG_HITS = P + "SELECT ?case ?flag ?fact WHERE { VALUES ?flag { %s } ?fact sk:inCase ?case ; a ?flag . }"
# the engine's own queries for what the plan needs beyond the conditions (FACT_DETAILS: the facts as recorded)
SYMPTOM_DERMATOMES, ROOT_REACH, ELAPSED = engine.SYMPTOM_DERMATOMES, engine.ROOT_REACH, engine.ELAPSED
FACT_TYPES = engine.FACT_TYPES
PRESENTATIONS, EPISODE, FACT_DETAILS = engine.PRESENTATIONS, engine.EPISODE, engine.FACT_DETAILS


def _recorded(term) -> str:
    """A recorded value as the plan reads it: a number as ``%g``, anything else as its text."""
    if isinstance(term, Literal) and isinstance(term.toPython(), (int, float, Decimal)):
        if not isinstance(term.toPython(), bool):
            return f"{float(term.toPython()):g}"
    return str(term)


def _plain(term) -> str | float | None:
    if term is None:
        return None
    if isinstance(term, BNode):
        return condition_name(term)
    if isinstance(term, Literal):
        value = term.toPython()
        return float(value) if isinstance(value, (int, float)) or hasattr(value, "as_tuple") else str(term)
    return str(term)


class RdflibOwlrl:
    """Per case: a fresh rdflib graph, the OWL 2 RL closure, the compiled definitions, the rule queries."""

    name, label = NAME, LABEL

    def __init__(self, reasoner: Reasoner):
        self.reasoner = reasoner
        self.kb = skolem_kb(reasoner)  # the KB as the reasoner's store holds it: condition nodes named alike
        self.rules = compile_rules(reasoner.kb) + derive.RULES  # the class definitions and the derivations
        self.catalogue = Conditions.read(reasoner).catalogue
        self.recs_of = recommendations_of(self.catalogue)
        flags = sorted(s for s in self.kb.subjects(RDFS.subClassOf, SK.RedFlag) if isinstance(s, URIRef))
        self.red_flag_hits = RED_FLAG_HITS % " ".join(f"<{f}>" for f in flags)

    def graph(self, doc: dict, case: Graph | None = None) -> Graph:
        """The KB and the case in one graph, closed under OWL 2 RL, the compiled definitions and the derivations."""
        g = Graph()
        g += self.kb
        g += case if case is not None else case_graph(parse_case(doc))
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(g)
        for _ in range(20):
            before = len(g)
            g.update(CLOSURE)
            for rule in self.rules:
                g.update(rule.update)
            g.update(CLOSURE)
            if len(g) == before:
                return g
        raise RuntimeError(f"{doc['id']}: the compiled definitions did not reach a fixpoint")

    def run(self, doc: dict) -> CaseRun:
        """What the reasoning finds for one case document, all of it by SPARQL over the closed graph."""
        recorded = case_graph(parse_case(doc))
        g = self.graph(doc, recorded)

        def select(query: str, graph: Graph = g) -> Iterator[dict]:
            result = graph.query(query)
            names = [str(v) for v in result.vars]
            for row in result:
                yield {n: _plain(row[n]) for n in names}

        speaks: dict = {}
        for query, status, rule in QUERIES:
            for row in select(query):
                facts = [row["fact"]] if row.get("fact") is not None else []
                missing = [row["missing"]] if row.get("missing") is not None else []
                for rec in self.recs_of.get(row["cond"], ()):  # a row speaks for the condition in each that has it
                    speak(speaks, row["case"], rec, row["cond"], status, facts, missing, rule)
        cases = [row["case"] for row in select(engine.CASES)]
        run = CaseRun(cases[0])
        run.applicability = fold(self.catalogue, speaks)
        for row in select(self.red_flag_hits):
            run.red_flags[row["flag"]].add(row["fact"])
        for row in select(FACT_TYPES):
            run.fact_types[row["fact"]].add(row["type"])
        for row in select(SYMPTOM_DERMATOMES):
            run.symptom_dermatomes.append((row["s"], row["derm"], row["lat"]))
        for row in select(ROOT_REACH):
            run.root_reach.append((row["f"], row["type"], row["level"], row["via"], row["root"], row["side"]))
        for row in select(ELAPSED):
            if row["weeks"] is not None:
                run.elapsed_weeks = float(row["weeks"])
        for row in select(PRESENTATIONS):
            found = run.presentations[row["p"]]
            if row["fact"] is not None:
                found.add(row["fact"])
        for row in select(EPISODE):
            run.episode_weeks = float(row["weeks"])
            if row["sciatica"] is not None:
                run.sciatica_weeks = float(row["sciatica"])
        for row in recorded.query(FACT_DETAILS):  # the case as recorded, before any reasoning
            facts = run.details.setdefault(str(row.fact), {})
            facts.setdefault(str(row.p), set()).add(_recorded(row.o))
        return run

    def plans(self, docs: list[dict]) -> Iterator[list[Plan]]:
        """One plan per case document, in order, each yielded as soon as it is made."""
        for doc in docs:
            yield [assemble(self.reasoner, self.run(doc))]
