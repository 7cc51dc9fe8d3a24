"""Decide, with SPARQL over the recommendations-as-data and the cases as recorded, which conditions hold.

Closed world over what a case records ("no red flag recorded" holds when none is), but a fact a
condition needs and the case does not record (a duration, a score, an age, the prior treatments, the
candidacy) makes the condition *unknown*, reported with the missing field, never read as false. Every
query runs once over all cases in the store (set-at-a-time); Python only folds the rows together.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .consts import SK

P = f"PREFIX sk: <{SK}>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\nPREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"

HOLDS, FAILS, UNKNOWN = "holds", "fails", "unknown"


@dataclass(frozen=True)
class ConditionResult:
    """The status of one condition of one recommendation for one case."""

    case: str
    recommendation: str
    condition: str  # blank-node label of the condition, stable within one store
    kind: str  # local name of the condition class, e.g. FindingPresent
    status: str  # holds | fails | unknown
    facts: tuple[str, ...] = ()  # case resources that made it hold (or fail, for absence conditions)
    missing: tuple[str, ...] = ()  # case fields whose absence made it unknown


@dataclass(frozen=True)
class Applicability:
    """Whether a recommendation applies to a case, with every condition's result."""

    case: str
    recommendation: str
    status: str  # applies | fails | unknown
    conditions: tuple[ConditionResult, ...] = field(default_factory=tuple)

    @property
    def triggered_by(self) -> tuple[str, ...]:
        return tuple(sorted({f for c in self.conditions if c.status == HOLDS for f in c.facts}))


# (query, status of its rows); each row: ?case ?rec ?cond [?fact] [?missing]
QUERIES: list[tuple[str, str]] = [
    (
        """SELECT ?case ?rec ?cond ?fact WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:FindingPresent ; sk:findingType ?T .
  ?fact sk:inCase ?case ; a ?T .
  OPTIONAL { ?cond sk:laterality ?lat }
  FILTER(!BOUND(?lat) || EXISTS { ?fact sk:laterality ?l . FILTER(?l = ?lat || ?l = sk:bilateral) })
  OPTIONAL { ?cond sk:minDurationWeeks ?min }
  FILTER(!BOUND(?min) || EXISTS { ?fact sk:durationWeeks ?d . FILTER(?d >= ?min) })
}""",
        HOLDS,
    ),
    (
        """SELECT ?case ?rec ?cond ?fact ("duration_weeks" AS ?missing) WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:FindingPresent ; sk:findingType ?T ; sk:minDurationWeeks ?min .
  ?fact sk:inCase ?case ; a ?T .
  MINUS { ?fact sk:durationWeeks ?d }
}""",
        UNKNOWN,
    ),
    (
        """SELECT ?case ?rec ?cond ?fact WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:FindingAbsent ; sk:findingType ?T .
  ?fact sk:inCase ?case ; a ?T .
}""",
        FAILS,
    ),
    (
        """SELECT ?case ?rec ?cond ?fact WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:RedFlagPresent ; sk:redFlag ?R .
  ?fact sk:inCase ?case ; a ?R .
}""",
        HOLDS,
    ),
    (
        """SELECT ?case ?rec ?cond ?fact WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:NoRedFlag .
  ?fact sk:inCase ?case ; a sk:RedFlag .
}""",
        FAILS,
    ),
    (
        """SELECT ?case ?rec ?cond ?fact WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:PriorImaging ; sk:modality ?m .
  ?fact sk:inCase ?case ; a sk:ImagingStudy ; sk:modality ?m ; sk:weeksAgo ?w . FILTER(?w > 0)
}""",
        HOLDS,
    ),
    (
        """SELECT ?case ?rec ?cond ?fact WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:NoPriorImaging ; sk:modality ?m .
  ?fact sk:inCase ?case ; a sk:ImagingStudy ; sk:modality ?m ; sk:weeksAgo ?w . FILTER(?w > 0)
}""",
        FAILS,
    ),
    (
        """SELECT ?case ?rec ?cond ?fact WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:CandidateFor ; sk:candidacy ?x .
  ?case sk:candidateFor ?x . BIND(?case AS ?fact)
}""",
        HOLDS,
    ),
    (
        """SELECT ?case ?rec ?cond ("candidate_for" AS ?missing) WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:CandidateFor .
  ?case a sk:Case . MINUS { ?case sk:candidateFor ?any }
}""",
        UNKNOWN,
    ),
    (
        """SELECT ?case ?rec ?cond ?fact WHERE {
  ?rec sk:hasCondition ?cond . ?cond a ?kind ; sk:score ?type ; sk:value ?v .
  ?cls sk:measures ?type . ?fact sk:inCase ?case ; a ?cls ; sk:scoreValue ?s .
  FILTER((?kind = sk:ScoreAtMost && ?s <= ?v) || (?kind = sk:ScoreAbove && ?s > ?v))
}""",
        HOLDS,
    ),
    (
        """SELECT ?case ?rec ?cond ("scores" AS ?missing) WHERE {
  ?rec sk:hasCondition ?cond . ?cond a ?kind ; sk:score ?type . FILTER(?kind IN (sk:ScoreAtMost, sk:ScoreAbove))
  ?cls sk:measures ?type . ?case a sk:Case .
  MINUS { ?f sk:inCase ?case ; a ?cls ; sk:scoreValue ?s }
}""",
        UNKNOWN,
    ),
    (
        """SELECT ?case ?rec ?cond ?fact WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:AgeAtLeast ; sk:years ?y .
  ?case sk:patient ?fact . ?fact sk:age ?age . FILTER(?age >= ?y)
}""",
        HOLDS,
    ),
    (
        """SELECT ?case ?rec ?cond ("age" AS ?missing) WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:AgeAtLeast .
  ?case a sk:Case . MINUS { ?case sk:patient/sk:age ?age }
}""",
        UNKNOWN,
    ),
    # symptom duration: per case, the longest duration and whether every symptom has one
    (
        """SELECT ?case ?rec ?cond ?fact WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:SymptomDurationAtLeast ; sk:weeks ?w .
  ?fact sk:inCase ?case ; a sk:Symptom ; sk:durationWeeks ?d . FILTER(?d >= ?w)
}""",
        HOLDS,
    ),
    (
        """SELECT ?case ?rec ?cond ?fact WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:SymptomDurationLessThan ; sk:weeks ?w .
  ?fact sk:inCase ?case ; a sk:Symptom ; sk:durationWeeks ?d . FILTER(?d >= ?w)
}""",
        FAILS,
    ),
    (
        """SELECT ?case ?rec ?cond ("symptoms[].duration_weeks" AS ?missing) WHERE {
  ?rec sk:hasCondition ?cond . ?cond a ?kind . FILTER(?kind IN (sk:SymptomDurationAtLeast, sk:SymptomDurationLessThan))
  { SELECT DISTINCT ?case WHERE {
      { ?case a sk:Case MINUS { ?s sk:inCase ?case ; a sk:Symptom } }
      UNION
      { ?s sk:inCase ?case ; a sk:Symptom MINUS { ?s sk:durationWeeks ?d } }
  } }
}""",
        UNKNOWN,
    ),
    (
        """SELECT ?case ?rec ?cond ?fact WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:FailedTreatment ; sk:treatment ?T .
  ?fact sk:inCase ?case ; a sk:PriorTreatment ; sk:treatmentType ?tt ; sk:outcome ?o .
  ?tt rdfs:subClassOf* ?T . FILTER(?o IN (sk:unchanged, sk:worse, sk:failed))
  OPTIONAL { ?cond sk:weeks ?w }
  FILTER(!BOUND(?w) || EXISTS { ?fact sk:weeks ?tw . FILTER(?tw >= ?w) })
}""",
        HOLDS,
    ),
    (
        """SELECT ?case ?rec ?cond ?fact ("prior_treatments[].weeks" AS ?missing) WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:FailedTreatment ; sk:treatment ?T ; sk:weeks ?w .
  ?fact sk:inCase ?case ; a sk:PriorTreatment ; sk:treatmentType ?tt ; sk:outcome ?o .
  ?tt rdfs:subClassOf* ?T . FILTER(?o IN (sk:unchanged, sk:worse, sk:failed))
  MINUS { ?fact sk:weeks ?tw }
}""",
        UNKNOWN,
    ),
    (
        """SELECT ?case ?rec ?cond ("prior_treatments" AS ?missing) WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:FailedTreatment .
  ?case a sk:Case . MINUS { ?t sk:inCase ?case ; a sk:PriorTreatment }
}""",
        UNKNOWN,
    ),
    # a symptom (imaging) finding required of a case that records no symptoms (no imaging study) at all: unknown;
    # FindingAbsent stays closed world ("not recorded"): "image unless the finding is shown" must hold unimaged
    (
        """SELECT ?case ?rec ?cond ?missing WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:FindingPresent ; sk:findingType ?T .
  ?T rdfs:subClassOf* ?K . ?K sk:caseField ?missing .
  ?case a sk:Case .
  MINUS { ?r sk:inCase ?case . { ?r a ?t } UNION { ?r sk:absentType ?t }
          ?t rdfs:subClassOf* ?K2 . ?K2 sk:caseField ?missing }
}""",
        UNKNOWN,
    ),
    (
        """SELECT ?case ?rec ?cond ?fact WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:PresentationPresent ; sk:presentation ?P .
  ?case a ?P . OPTIONAL { ?fact sk:inCase ?case ; sk:establishes ?P }
}""",
        HOLDS,
    ),
    (
        """SELECT ?case ?rec ?cond ?fact WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:PresentationAbsent ; sk:presentation ?P .
  ?case a ?P . OPTIONAL { ?fact sk:inCase ?case ; sk:establishes ?P }
}""",
        FAILS,
    ),
    # a presentation defined on records the case does not have (symptoms, imaging, a score, a duration): unknown
    (
        """SELECT ?case ?rec ?cond ?missing WHERE {
  ?rec sk:hasCondition ?cond . ?cond a ?kind ; sk:presentation ?P .
  FILTER(?kind IN (sk:PresentationPresent, sk:PresentationAbsent))
  ?P sk:requiresRecord ?K . ?K sk:caseField ?missing .
  ?case a sk:Case .
  OPTIONAL { ?P sk:within ?Q } FILTER(!BOUND(?Q) || EXISTS { ?case a ?Q })
  MINUS { ?r sk:inCase ?case . { ?r a ?t } UNION { ?r sk:absentType ?t }
          ?t rdfs:subClassOf* ?K2 . ?K2 sk:caseField ?missing }
  MINUS { ?case ?K2 ?value . ?K2 sk:caseField ?missing }
}""",
        UNKNOWN,
    ),
    (
        """SELECT ?case ?rec ?cond ?fact WHERE {
  ?rec sk:hasCondition ?cond . ?cond a sk:NoRedFlagScreen .
  ?fact sk:inCase ?case ; a sk:RedFlagScreen .
}""",
        FAILS,
    ),
]

# the default status of each condition kind when no row speaks for it
DEFAULT = {
    "FindingPresent": FAILS,
    "FindingAbsent": HOLDS,
    "RedFlagPresent": FAILS,
    "NoRedFlag": HOLDS,
    "PriorImaging": FAILS,
    "NoPriorImaging": HOLDS,
    "CandidateFor": FAILS,
    "ScoreAtMost": FAILS,
    "ScoreAbove": FAILS,
    "AgeAtLeast": FAILS,
    "SymptomDurationAtLeast": FAILS,
    "SymptomDurationLessThan": HOLDS,
    "FailedTreatment": FAILS,
    "PresentationPresent": FAILS,
    "PresentationAbsent": HOLDS,
    "NoRedFlagScreen": HOLDS,
}
# which status wins when rows of several statuses speak for one condition
PRECEDENCE = {
    "FindingPresent": (HOLDS, UNKNOWN),
    "PresentationPresent": (HOLDS, UNKNOWN),
    "PresentationAbsent": (FAILS, UNKNOWN),
    "SymptomDurationAtLeast": (HOLDS, UNKNOWN),
    "SymptomDurationLessThan": (FAILS, UNKNOWN),
    "FailedTreatment": (HOLDS, UNKNOWN),
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
    return {rec: tuple(sorted(conds, key=lambda c: (c[1], c[0]))) for rec, conds in out.items()}


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
    Only the (case, recommendation) pairs that some case fact speaks to are returned; every other pair is
    ``at_defaults`` (the plan assembly fills those in from a per-recommendation cache, so a cohort does not
    pay cases × recommendations).
    """
    speaks: Speaks = defaultdict(lambda: defaultdict(dict))
    for query, status in QUERIES:
        names, result = rows(P + query)
        at = {n: i for i, n in enumerate(names)}
        c, r, k, f, m = at.get("case"), at.get("rec"), at.get("cond"), at.get("fact"), at.get("missing")
        for row in result:
            voices = speaks[(row[c], row[r])][row[k]]
            facts, missing = voices.setdefault(status, (set(), set()))
            if f is not None and row[f] is not None:
                facts.add(row[f])
            if m is not None and row[m] is not None:
                missing.add(row[m])
    return fold(speaks, conditions)


Speaks = dict[tuple[str, str], dict[str, dict[str, tuple[set, set]]]]  # (case, rec) → condition → status → sets


def fold(speaks: Speaks, conditions: Catalogue) -> list[Applicability]:
    """The applicability of every (case, recommendation) pair some row speaks to: each condition takes its
    default status unless rows speak for it (``PRECEDENCE`` picks among several), the pair fails if one
    condition fails, is unknown if one is unknown, else applies. Pairs no row speaks to are left out."""
    out = []
    for (case, rec), by_cond in sorted(speaks.items()):
        results = []
        for cond, kind in conditions.get(rec, ()):
            voices = by_cond.get(cond, {})
            status = DEFAULT[kind]
            for candidate in PRECEDENCE.get(kind, tuple(voices)):
                if candidate in voices:
                    status = candidate
                    break
            facts, missing = voices.get(status, (set(), set()))
            results.append(ConditionResult(case, rec, cond, kind, status, tuple(sorted(facts)), tuple(sorted(missing))))
        statuses = {r.status for r in results}
        overall = "fails" if FAILS in statuses else "unknown" if UNKNOWN in statuses else "applies"
        out.append(Applicability(case, rec, overall, tuple(results)))
    return out
