"""Issue 14: every rule is a file with an id, and each id has a test that fails if its rule stopped working.

The cases are the examples, the acceptance vignettes and ``tests/data/rules/*.yaml``; the knowledge base is ours
plus ``tests/data/rules/conditions.ttl`` (test recommendations of the condition kinds no recommendation uses
today, so their rules have something to decide). A condition rule's test takes it out of the engine and
checks that the conditions it decided (``ConditionResult.rule``) are decided otherwise; a derivation rule's test
checks the class it infers is there with it and gone without it; a collection rule's test checks it returns
rows and that what the engine gathers from them is empty without it.
"""

from __future__ import annotations

import re

import pytest
import yaml
from rdflib import Graph

from reasoner import rules
from reasoner.api import reason
from reasoner.case.validate import parse_case
from reasoner.kb.load import shared_kb
from reasoner.reasoning import conditions as apply
from reasoner.reasoning import engine as engine
from reasoner.reasoning.engine import Reasoner

from constants import DATA, EXAMPLES, ROOT

CONDITIONS = [r.id for r in rules.load("conditions")]
DERIVE = [r.id for r in rules.load("derive")]
COLLECT = [r.id for r in rules.load("collect")]


RULES_DATA = DATA / "rules"


def _cases():
    docs = [p for p in sorted(EXAMPLES.glob("*.yaml"))] + sorted(RULES_DATA.glob("*.yaml"))
    for path in sorted((ROOT / "tests" / "acceptance").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        case = dict(doc.get("case") or {})
        case.setdefault("id", path.stem)
        try:
            docs.append(parse_case(case))
        except Exception:  # a vignette that is meant to be rejected
            continue
    return docs


@pytest.fixture(scope="module")
def cases():
    return _cases()


def _kb():
    g = Graph()
    g += shared_kb()
    g.parse(RULES_DATA / "conditions.ttl", format="turtle")
    return g


@pytest.fixture(scope="module")
def kb():
    return _kb()


@pytest.fixture(scope="module")
def decided(cases, kb):
    """(case, recommendation, condition) → (status, rule) with every rule in place."""
    out = {}
    for result in reason(cases, Reasoner(kb)):
        for a in result.run.applicability:
            for c in a.conditions:
                out[(c.case, c.recommendation, c.condition)] = (c.status, c.rule)
    return out


@pytest.mark.parametrize("rule", rules.all_rules(), ids=lambda r: r.id)
def test_issue14_rule_file_has_an_id_and_an_if_then_summary(rule):
    assert rule.meta["id"] == rule.id
    assert re.match(r"^if .+, then .+", rule.summary), rule.summary
    if rule.group == "conditions":
        assert rule.meta["status"] in (apply.HOLDS, apply.FAILS, apply.UNKNOWN)
        assert set(rule.meta["kind"].split()) <= set(apply.DEFAULT), rule.meta["kind"]


@pytest.mark.parametrize("rule_id", CONDITIONS)
def test_condition_rule(rule_id, cases, kb, decided, monkeypatch):
    mine = {k: status for k, (status, rule) in decided.items() if rule == rule_id}
    assert mine, f"no example or vignette has a condition decided by {rule_id}: add a fixture that does"
    monkeypatch.setattr(apply, "QUERIES", tuple(r for r in apply.QUERIES if r.id != rule_id))
    without = {}
    for result in reason(cases, Reasoner(kb)):
        for a in result.run.applicability:
            for c in a.conditions:
                without[(c.case, c.recommendation, c.condition)] = (c.status, c.rule)
    changed = [k for k, status in mine.items() if without.get(k, (None, None))[0] != status or k not in without]
    kept = [k for k in mine if k in without and without[k][0] == mine[k] and without[k][1] == rule_id]
    assert not kept, f"{rule_id} still named as deciding {kept[:3]} without it"
    assert changed, f"taking {rule_id} out changed none of the {len(mine)} conditions it decided"


@pytest.mark.parametrize("rule_id", DERIVE)
def test_derivation_rule(rule_id, cases, monkeypatch):
    infers = rules.rule(rule_id).meta["infers"].replace("sk:", "https://w3id.org/spinekg/")

    def inferred(reasoner):
        return {
            (case, fact)
            for r in reason(cases, reasoner)
            for fact, types in r.run.fact_types.items()
            if infers in types
            for case in [r.run.case]
        }

    with_rule = inferred(Reasoner())
    assert with_rule, f"no example or vignette gets {infers} from {rule_id}"
    without = Reasoner()
    without.rules = tuple(r for r in without.rules if r.cls != infers)
    assert inferred(without) == set(), f"{infers} is still inferred without {rule_id}"


_GATHERED = {
    "cases": lambda run: True,
    "red-flag-hits": lambda run: bool(run.red_flags),
    "red-flags-excluded": lambda run: bool(run.excluded_flags),
    "fact-types": lambda run: bool(run.fact_types),
    "symptom-dermatomes": lambda run: bool(run.symptom_dermatomes),
    "root-reach": lambda run: bool(run.root_reach),
    "presentations": lambda run: bool(run.presentations),
    "episode": lambda run: run.episode_weeks is not None,
    "elapsed": lambda run: run.elapsed_weeks is not None,
    "fact-details": lambda run: bool(run.details),
}
_CONSTANT = {
    "cases": "CASES",
    "red-flag-hits": "RED_FLAG_HITS",
    "red-flags-excluded": "RED_FLAGS_EXCLUDED",
    "fact-types": "FACT_TYPES",
    "symptom-dermatomes": "SYMPTOM_DERMATOMES",
    "root-reach": "ROOT_REACH",
    "presentations": "PRESENTATIONS",
    "episode": "EPISODE",
    "elapsed": "ELAPSED",
    "fact-details": "FACT_DETAILS",
}


def test_every_collection_rule_is_gathered_by_the_engine():
    assert sorted(_CONSTANT) == sorted(COLLECT)
    assert all(getattr(engine, _CONSTANT[r]) == rules.text(r) for r in COLLECT)


@pytest.mark.parametrize("rule_id", [r for r in COLLECT if r != "cases"])
def test_collection_rule(rule_id, cases, monkeypatch):
    gathered = _GATHERED[rule_id]
    assert any(gathered(r.run) for r in reason(cases)), f"{rule_id} gathers nothing on any example or vignette"
    nothing = "SELECT * WHERE { FILTER(false) }"
    monkeypatch.setattr(engine, _CONSTANT[rule_id], nothing)
    assert not any(gathered(r.run) for r in reason(cases, Reasoner())), f"{rule_id} is gathered some other way"
