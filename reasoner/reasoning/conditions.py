"""Decide, with SPARQL over the recommendations-as-data and the cases as recorded, which conditions hold.

Closed world over what a case records ("no red flag recorded" holds when none is), but a fact a
condition needs and the case does not record (a duration, a score, an age, the prior treatments, the
candidacy) makes the condition *unknown*, reported with the missing field, never read as false. Every
query runs once over all cases in the store (set-at-a-time); Python only folds the rows together.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from .. import rules
from ..consts import SK

HOLDS, FAILS, UNKNOWN = "holds", "fails", "unknown"
#: What decided a condition no rule's rows speak to: its kind's closed-world default (``DEFAULT``).
DEFAULT_RULE = "default"


class ConditionResult(NamedTuple):
    """The status of one condition of one recommendation for one case (a named tuple: a cohort makes millions)."""

    case: str
    recommendation: str
    condition: str  # blank-node label of the condition, stable within one store
    kind: str  # local name of the condition class, e.g. FindingPresent
    status: str  # holds | fails | unknown
    facts: tuple[str, ...] = ()  # case resources that made it hold (or fail, for absence conditions)
    missing: tuple[str, ...] = ()  # case fields whose absence made it unknown
    rule: str = DEFAULT_RULE  # the id of the rule whose rows decided the status (``rules/conditions/ID.rq``)


class Applicability(NamedTuple):
    """Whether a recommendation applies to a case, with every condition's result."""

    case: str
    recommendation: str
    status: str  # applies | fails | unknown
    conditions: tuple[ConditionResult, ...] = ()

    @property
    def triggered_by(self) -> tuple[str, ...]:
        return tuple(sorted({f for c in self.conditions if c.status == HOLDS for f in c.facts}))


#: The condition rules (``rules/conditions/*.rq``): each row of one speaks for its ``#+ status:`` of condition
#: ``?cond`` (of every recommendation that has it) for case ``?case``, with the ``?fact`` that made it so or the
#: ``?missing`` field.
QUERIES: tuple[rules.RuleFile, ...] = rules.load("conditions")

# the default status of each condition kind when no row speaks for it
DEFAULT = {
    "FindingPresent": FAILS,
    "FindingAbsent": HOLDS,
    "FindingAssessed": HOLDS,  # unknown only while a recorded finding leaves its type open (it never fails)
    "RedFlagPresent": FAILS,
    "NoRedFlag": HOLDS,
    "PriorImaging": FAILS,
    "NoPriorImaging": HOLDS,
    "CandidateFor": FAILS,
    "CandidacyOpen": HOLDS,
    "NotCandidateFor": HOLDS,
    "ScoreAtMost": FAILS,
    "ScoreAbove": FAILS,
    "AgeAtLeast": FAILS,
    "SymptomDurationAtLeast": FAILS,
    "SymptomDurationLessThan": HOLDS,
    "FailedTreatment": FAILS,
    "NoFailedTreatment": HOLDS,
    "HadTreatment": FAILS,
    "NoTreatment": HOLDS,
    "PresentationPresent": FAILS,
    "PresentationAbsent": HOLDS,
    "NoRedFlagScreen": HOLDS,
}
# which status wins when rows of several statuses speak for one condition
PRECEDENCE = {
    "FindingPresent": (HOLDS, UNKNOWN),
    "FindingAbsent": (FAILS, UNKNOWN),
    "RedFlagPresent": (HOLDS, UNKNOWN),
    "PresentationPresent": (HOLDS, UNKNOWN),
    "PresentationAbsent": (FAILS, UNKNOWN),
    "SymptomDurationAtLeast": (HOLDS, UNKNOWN),
    "SymptomDurationLessThan": (FAILS, UNKNOWN),
    "FailedTreatment": (HOLDS, UNKNOWN),
    "HadTreatment": (HOLDS, UNKNOWN),
    "PriorImaging": (HOLDS, UNKNOWN),
    "NoRedFlag": (FAILS, UNKNOWN),
}


def _v(term) -> str | None:
    return None if term is None else term.value


Catalogue = dict[str, tuple[tuple[str, str], ...]]  # recommendation IRI → its (condition IRI, kind) pairs


def catalogue(rows) -> Catalogue:
    """The conditions of every recommendation, from (recommendation, condition, kind IRI) rows of the KB."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for rec, cond, kind in rows:
        name = str(kind).removeprefix(str(SK))
        if name in DEFAULT:
            out[str(rec)].append((str(cond), name))
    # in recommendation order: the KB graph's own order follows the hash seed of the process that parsed it
    return {rec: tuple(sorted(conds, key=lambda c: (c[1], c[0]))) for rec, conds in sorted(out.items())}


def default_status(conditions: tuple[tuple[str, str], ...]) -> str:
    """Whether a recommendation applies to a case none of whose facts speak to its conditions."""
    return FAILS if any(DEFAULT[kind] == FAILS for _, kind in conditions) else "applies"


def at_defaults(case: str, rec: str, conditions: tuple[tuple[str, str], ...]) -> Applicability:
    """A recommendation's applicability to a case whose facts speak to none of its conditions."""
    results = tuple(ConditionResult(case, rec, cond, kind, DEFAULT[kind]) for cond, kind in conditions)
    return Applicability(case, rec, default_status(conditions), results)


def evaluate(rows, conditions: Catalogue) -> list[Applicability]:
    """Evaluate the conditions of every recommendation for every case, set-at-a-time.

    ``rows(query)`` runs a SELECT over the KB and the cases: (variables, rows as tuples of values or None).
    A condition's status does not depend on which recommendation has it (named conditions are shared), so the
    rows speak for (case, condition) and each is folded once into every recommendation that has the condition.
    Only the (case, recommendation) pairs that some case fact speaks to are returned; every other pair is
    ``at_defaults`` (the plan assembly fills those in from a per-recommendation cache, so a cohort does not
    pay cases × recommendations).
    """
    spoken: dict[str, dict[str, dict[str, tuple[set, set, set]]]] = {}  # case → condition → status → sets
    for rule in QUERIES:
        status = rule.meta["status"]
        names, result = rows(rule.text)
        at = {n: i for i, n in enumerate(names)}
        c, k, f, m = at.get("case"), at.get("cond"), at.get("fact"), at.get("missing")
        for row in result:
            by_cond = spoken.get(row[c])
            if by_cond is None:
                by_cond = spoken[row[c]] = {}
            voices = by_cond.get(row[k])
            if voices is None:
                voices = by_cond[row[k]] = {}
            sets = voices.get(status)
            if sets is None:
                sets = voices[status] = (set(), set(), set())
            sets[2].add(rule.id)
            if f is not None and row[f] is not None:
                sets[0].add(row[f])
            if m is not None and row[m] is not None:
                sets[1].add(row[m])
    return fold_conditions(spoken, conditions)


def recommendations_of(conditions: Catalogue) -> dict[str, tuple[str, ...]]:
    """Condition IRI → the recommendations that have it."""
    out: dict[str, list[str]] = defaultdict(list)
    for rec, conds in conditions.items():
        for cond, _ in conds:
            out[cond].append(rec)
    return {cond: tuple(recs) for cond, recs in out.items()}


def _decide(kind: str, voices: dict[str, tuple[set, set, set]]) -> tuple[str, tuple[str, ...], tuple[str, ...], str]:
    """A condition's status from the rows that speak for it: its kind's default unless rows speak (``PRECEDENCE``
    picks among several), with the facts, missing fields and deciding rule of that status."""
    status = DEFAULT[kind]
    for candidate in PRECEDENCE.get(kind, tuple(voices)):
        if candidate in voices:
            status = candidate
            break
    facts, missing, ids = voices.get(status, (set(), set(), {DEFAULT_RULE}))
    # one rule speaks for a status of a kind, but for FindingPresent's unknowns (several rules)
    return status, tuple(sorted(facts)), tuple(sorted(missing)), min(ids)


def fold_conditions(
    spoken: dict[str, dict[str, dict[str, tuple[set, set, set]]]], conditions: Catalogue
) -> list[Applicability]:
    """:func:`fold` of rows that speak for (case, condition): each condition decided once per case, then every
    recommendation that has a spoken-for condition folded as :func:`fold` folds it; ordered by case, then
    recommendation."""
    recs_of = recommendations_of(conditions)
    unspoken = {kind: _decide(kind, {}) for kind in DEFAULT}  # a condition no row speaks for: the same every time
    out = []
    make = tuple.__new__  # the named tuples made without their keyword-taking __new__: millions in a cohort
    for case in sorted(spoken):
        by_cond = spoken[case]
        decided: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], str]] = {}
        recs: set[str] = set()
        for cond in by_cond:
            recs.update(recs_of.get(cond, ()))
        for rec in sorted(recs):
            results = []
            for cond, kind in conditions[rec]:
                d = decided.get(cond)
                if d is None:
                    voices = by_cond.get(cond)
                    d = decided[cond] = unspoken[kind] if voices is None else _decide(kind, voices)
                results.append(make(ConditionResult, (case, rec, cond, kind, *d)))
            out.append(make(Applicability, (case, rec, _overall(results), tuple(results))))
    return out


Speaks = dict[tuple[str, str], dict[str, dict[str, tuple[set, set, set]]]]  # (case, rec) → cond → status → sets


def fold(speaks: Speaks, conditions: Catalogue) -> list[Applicability]:
    """The applicability of every (case, recommendation) pair some row speaks to: each condition takes its
    default status unless rows speak for it (``PRECEDENCE`` picks among several), the pair fails if one
    condition fails, is unknown if one is unknown, else applies. Pairs no row speaks to are left out."""
    out = []
    for (case, rec), by_cond in sorted(speaks.items()):
        results = tuple(
            ConditionResult(case, rec, cond, kind, *_decide(kind, by_cond.get(cond, {})))
            for cond, kind in conditions.get(rec, ())
        )
        out.append(Applicability(case, rec, _overall(results), results))
    return out


def _overall(results) -> str:
    """A recommendation's applicability from its conditions': it fails if one fails, is unknown if one is, else
    applies."""
    statuses = {r.status for r in results}
    return FAILS if FAILS in statuses else UNKNOWN if UNKNOWN in statuses else "applies"
