"""Issue 15, one case warm: the in-process engine's plans do less per case, and find the same.

The rows are compared with pyoxigraph's in ``test_issue15_inproc.py`` (its queries include each shape here); these
tests pin the plan shapes that make a warm case cheaper, so that a change that loses one is seen.
"""

from __future__ import annotations

import pytest

from reasoner.reasoning import classify, inproc
from reasoner.reasoning.inproc.expressions import ExpressionError, compile_expression
from reasoner.reasoning.inproc.terms import Lit

SK = "https://w3id.org/spinekg/"


def _walk(plan):
    if isinstance(plan, tuple):
        yield plan
        for x in plan:
            yield from _walk(x)


def _where(text: str):
    """A SELECT's pattern, under its projection."""
    _, where, _ = inproc.compile_text(text)
    return where[1] if where[0] == "project" else where


def test_issue15_warm_a_filter_on_an_optionals_variable_is_tested_before_a_later_join():
    """``FILTER(!BOUND(?s))`` reads ?s, which only the OPTIONAL binds: the later pattern does not name it, so the
    filter goes below the join with it (infer-level-unknown-root-compression joined every level's roots first)."""
    where = _where("SELECT ?x ?c WHERE { ?x a ?t OPTIONAL { ?x <urn:side> ?s } ?c <urn:type> ?k FILTER(!BOUND(?s)) }")
    assert where[0] == "join" and where[1][0] == "filter", where
    assert where[1][2][0] == "leftjoin"
    # a variable the later pattern may bind too (one branch of a UNION) is not moved
    where = _where(
        "SELECT ?x ?c WHERE { ?x a ?t OPTIONAL { ?x <urn:side> ?s } { ?c <urn:type> ?k } UNION { ?c <urn:side> ?s }"
        " FILTER(!BOUND(?s)) }"
    )
    assert where[0] == "filter", where


def test_issue15_warm_in_over_a_bound_variable_joins_its_values():
    where = _where("SELECT ?x ?t WHERE { ?x a ?t FILTER(?t IN (<urn:A>, <urn:C>, <urn:A>)) }")
    assert where[0] == "join" and where[1] == ("values", ({"t": "urn:A"}, {"t": "urn:C"})), where
    # a variable an OPTIONAL may leave unbound: a filter (the join would keep the solutions without it)
    where = _where("SELECT ?x WHERE { ?x a ?t OPTIONAL { ?x <urn:side> ?s } FILTER(?s IN (<urn:left>)) }")
    assert where[0] == "filter", where
    # a literal compares by value (1 = 1.0): a filter
    where = _where("SELECT ?x WHERE { ?x <urn:weeks> ?w FILTER(?w IN (1, 2)) }")
    assert where[0] == "filter", where


def test_issue15_warm_the_closure_for_some_classes_starts_from_them():
    """After a round, the subclass closure runs for the classes that round's rules can give: the in-process plan
    reads those classes' resources (a VALUES join), not every typed resource with a filter after it."""
    store = inproc.PythonStore("", "urn:g:kb")
    using = ("urn:g:kb", inproc.BATCH_GRAPH)
    whole = classify.scoped(classify.CLOSURE, inproc.BATCH_GRAPH, using)
    store.plans[whole] = inproc.compile_text(whole)
    text = classify.scoped(classify.closure_of({SK + "b", SK + "a"}), inproc.BATCH_GRAPH, using)
    plan = store._plan(text)
    assert plan[0] == "insert" and plan[1][0] == "join"
    assert plan[1][1] == ("values", ({"t": SK + "a"}, {"t": SK + "b"})), plan[1][1]
    assert not any(node[0] == "filter" and node[1][0] == "in" for node in _walk(plan) if node)


def test_issue15_warm_expressions_compiled_give_sparqls_values():
    mu = {"a": Lit("3", "http://www.w3.org/2001/XMLSchema#integer"), "b": "urn:x"}
    three_or_more = compile_expression(
        ("rel", ">=", ("var", "a"), ("term", Lit("3.0", "http://www.w3.org/2001/XMLSchema#decimal")))
    )
    assert three_or_more(mu, None) is True
    # an error in one disjunct and a true one: true; an error and a false one: an error
    unbound = ("rel", "=", ("var", "missing"), ("term", "urn:x"))
    assert compile_expression(("or", (unbound, ("bound", "b"))))(mu, None) is True
    with pytest.raises(ExpressionError):
        compile_expression(("or", (unbound, ("not", ("bound", "b")))))(mu, None)
    assert compile_expression(("in", ("var", "b"), (("term", "urn:y"), ("term", "urn:x")), True))(mu, None) is False
    # a function the engine does not know is refused when it is reached, not when it is compiled
    refused = compile_expression(("call", "LCASE", (("var", "b"),)))
    assert compile_expression(("or", (("bound", "b"), ("call", "LCASE", (("var", "b"),)))))(mu, None) is True
    with pytest.raises(inproc.Unsupported):
        refused(mu, None)
