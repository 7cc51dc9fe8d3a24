"""Issue 15: a rule the store cannot match is not run, and skipping it changes nothing.

Each rule's SPARQL algebra says which classes and predicates every solution uses (``reasoner.reasoning.needs``);
a rule runs only when the knowledge base and the batch hold one of its sets of them. These tests check the
reading on small queries, check on single cases that every skipped rule indeed had no solution, that plans are
the same with the skipping turned off, and that the skipping happens (one case ran about 80 statements).
"""

from __future__ import annotations

import re

import pytest

from bench.generate import generate
from reasoner.api import case_triples, default_reasoner, reason
from reasoner.case.files import load_case
from reasoner.case.validate import parse_case
from reasoner.reasoning import classify, needs

from constants import EXAMPLES

SK = "https://w3id.org/spinekg/"


def _sets(found: needs.Needs) -> list[list[str]]:
    return sorted(sorted(k.removeprefix("urn:") for k in alt) for alt in found)


def test_issue15_needs_read_from_the_algebra():
    assert _sets(needs.of_query("SELECT * { ?x a <urn:C> ; <urn:p> ?y }")) == [["C", "p"]]
    # a union's branches are alternatives; OPTIONAL, MINUS and NOT EXISTS parts need nothing
    assert _sets(needs.of_query("SELECT * { { ?x a <urn:C> } UNION { ?x <urn:p> ?y } }")) == [["C"], ["p"]]
    assert _sets(needs.of_query("SELECT * { ?x a <urn:C> OPTIONAL { ?x <urn:q> ?z } }")) == [["C"]]
    assert _sets(needs.of_query("SELECT * { ?x a <urn:C> MINUS { ?x <urn:q> ?z } }")) == [["C"]]
    assert _sets(needs.of_query("SELECT * { ?x a <urn:C> FILTER NOT EXISTS { ?x <urn:q> ?z } }")) == [["C"]]
    # a join of unions: every pairing
    assert _sets(
        needs.of_query("SELECT * { { ?x a <urn:A> } UNION { ?x a <urn:B> } { ?x <urn:p> ?y } UNION { ?x <urn:q> ?y } }")
    ) == [["A", "p"], ["A", "q"], ["B", "p"], ["B", "q"]]
    # paths: one or more steps need the predicate, zero or more nothing; a sequence needs each step
    assert _sets(needs.of_query("SELECT * { ?x <urn:p>+ ?y }")) == [["p"]]
    assert _sets(needs.of_query("SELECT * { ?x <urn:p>* ?y }")) == [[]]
    assert _sets(needs.of_query("SELECT * { ?x <urn:p>/<urn:q>? ?y }")) == [["p"]]
    assert _sets(needs.of_query("SELECT * { ?x <urn:p>|^<urn:q> ?y }")) == [["p"], ["q"]]
    # a variable predicate or class needs nothing, nor does rdf:type itself
    assert _sets(needs.of_query("SELECT * { ?x ?p ?y . ?x a ?t }")) == [[]]
    # a named graph's keys are not counted
    assert _sets(needs.of_query("SELECT * { GRAPH <urn:g> { ?x a <urn:C> } }")) == [[]]
    # an aggregate without GROUP BY gives a row over nothing; with GROUP BY, not
    assert _sets(needs.of_query("SELECT (COUNT(*) AS ?n) { ?x a <urn:C> }")) == [[]]
    assert _sets(needs.of_query("SELECT ?x (COUNT(*) AS ?n) { ?x a <urn:C> } GROUP BY ?x")) == [["C"]]
    assert _sets(needs.of_update("INSERT { ?x a <urn:D> } WHERE { ?x a <urn:C> }")) == [["C"]]
    assert _sets(needs.of_update("INSERT DATA { <urn:a> a <urn:D> }")) == [[]]
    # an alternative that contains another is dropped
    wider = needs.of_query("SELECT * { ?x a <urn:C> ; <urn:p> ?y }")
    assert _sets(needs.either(needs.of_query("SELECT * { ?x a <urn:C> }"), wider)) == [["C"]]
    # the classes an update can give: a variable class can be any (the subclass closure's)
    assert needs.inserted_types("INSERT { ?x a <urn:C> ; <urn:p> ?y } WHERE { ?x a <urn:D> }") == {"urn:C"}
    assert needs.inserted_types("INSERT { GRAPH <urn:g> { ?x a <urn:C> } } WHERE { ?x a <urn:D> }") == {"urn:C"}
    assert needs.inserted_types(classify.CLOSURE) is None
    assert needs.inserted_types("INSERT { ?x ?p <urn:C> } WHERE { ?x <urn:q> ?p }") is None
    assert needs.possible(((frozenset({"a", "b"})), frozenset({"c"})), {"c"})
    assert not needs.possible((frozenset({"a", "b"}),), {"a", "c"})


def test_issue15_each_rule_gives_its_own_class_and_the_closure_after_a_round_only_those():
    r = default_reasoner()
    assert all(rule.types == {rule.cls} for rule in r.rules)
    closure = classify.closure_of({f"{SK}acute_phase", f"{SK}Case"})
    assert f"FILTER(?t IN (<{SK}Case>, <{SK}acute_phase>))" in closure
    assert needs.of_update(closure) == needs.of_update(classify.CLOSURE)


def _single_cases() -> list:
    cases = {c.id: c for c in (load_case(p) for p in sorted(EXAMPLES.glob("*.yaml")))}
    return list(cases.values()) + [parse_case(doc) for doc in generate(60, seed=157)]


def _as_select(update: str) -> str:
    """A rule's ``INSERT { … } WHERE { … }`` as ``SELECT * WHERE { … }`` (its template has no nested braces)."""
    return re.sub(r"INSERT\s*\{[^{}]*\}\s*WHERE", "SELECT * WHERE", update, count=1, flags=re.DOTALL)


def test_issue15_every_rule_skipped_for_a_case_has_no_solution_there():
    r = default_reasoner()
    b = r.backend
    kb_keys = frozenset(classify.keys(b, b.kb_graph))
    skipped = matched = 0
    for case in _single_cases():
        batch = b.begin()
        try:
            b.load(case_triples(case).nt(), batch)
            graphs = (b.kb_graph, batch)
            classify.classify_naive(b, r.rules, batch, graphs)  # every rule, every round: nothing skipped
            present = kb_keys | classify.keys(b, batch).keys()
            texts = [(text, wanted) for text, wanted in r.query_needs.items()]
            texts += [(_as_select(rule.update), rule.needs) for rule in r.rules]
            for text, wanted in texts:
                solutions = list(b.rows(text, graphs)[1])
                if not needs.possible(wanted, present):
                    skipped += 1
                    assert solutions == [], f"{case.id}: a skipped rule has solutions:\n{text}"
                elif solutions:
                    matched += 1
        finally:
            b.end(batch)
    assert skipped > len(_single_cases()) * 10  # most compiled class definitions match nothing in one case
    assert matched > 0


def test_issue15_plans_are_the_same_without_skipping(monkeypatch):
    r = default_reasoner()
    docs = list(generate(40, seed=163))
    cases = _single_cases()
    skipping = [reason([d], r)[0].plan for d in docs] + [reason([c], r)[0].plan for c in cases]
    monkeypatch.setattr(needs, "possible", lambda wanted, keys: True)
    every = [reason([d], r)[0].plan for d in docs] + [reason([c], r)[0].plan for c in cases]
    assert skipping == every


class _Counting:
    """A backend that counts the statements it runs."""

    def __init__(self, backend):
        self._b = backend
        self.statements = 0

    def __getattr__(self, name):
        return getattr(self._b, name)

    def update(self, text):
        self.statements += 1
        return self._b.update(text)

    def select(self, text, graphs):
        self.statements += 1
        return self._b.select(text, graphs)

    def rows(self, text, graphs):
        self.statements += 1
        return self._b.rows(text, graphs)


@pytest.mark.parametrize("skip", [True, False])
def test_issue15_one_case_runs_fewer_statements(monkeypatch, skip):
    r = default_reasoner()
    counting = _Counting(r.backend)
    monkeypatch.setattr(r, "backend", counting)
    if not skip:
        monkeypatch.setattr(needs, "possible", lambda wanted, keys: True)
    reason([load_case(EXAMPLES / "002-lumbosacral-radiculopathy.yaml")], r)
    every_rule = len(r.rules) + len(r.query_needs)
    if skip:
        assert counting.statements < every_rule * 0.6, counting.statements
    else:
        assert counting.statements > every_rule, counting.statements
