"""Steps that rest only on guidelines written for adults, in a patient of 16 or 17: NICE NG59 is for people over
16, ACP 2017 and the ACR Appropriateness Criteria on low back pain for adults (``sk:forAdults``, spinekg's reading
of their populations). A warning names them (clinician's review R4, r4-09: a 16-year-old fast bowler offered ACP's
muscle relaxants and spinal manipulation without a word); the steps stay, for the clinician to weigh. Under 16 the
whole plan is out of its sources' scope (``outside_adult_guidelines``, :func:`.parts.fact_warnings`).
"""

from __future__ import annotations

from collections.abc import Iterable

from rdflib import Literal

from ..consts import PROV, SK, SK_IRI
from ..reasoning.engine import CaseRun, Reasoner
from .model import Step, Warning
from .parts import ADULT_AGE

#: the age from which every source of the plan speaks of the patient
ADULT = 18
_AGE = str(SK.age)


def _adult_evidence(reasoner: Reasoner) -> frozenset[str]:
    """The evidence statements whose primary source is a guideline for adults (``sk:forAdults``), once a reasoner."""
    key = ("adult_evidence",)
    if key not in reasoner.cache:
        kb = reasoner.kb
        guidelines = set(kb.subjects(SK.forAdults, Literal(True)))
        reasoner.cache[key] = frozenset(str(e) for g in guidelines for e in kb.subjects(PROV.hadPrimarySource, g))
    return reasoner.cache[key]


def adult_sources_only(reasoner: Reasoner, run: CaseRun, steps: Iterable[Step]) -> list[Warning]:
    """In a patient of 16 or 17, the steps to do or consider whose every recommendation rests only on guidelines for
    adults, named once."""
    ages = [float(a) for a in run.details.get(run.case + "/patient", {}).get(_AGE, ())]
    if not ages or not ADULT_AGE <= min(ages) < ADULT:
        return []
    adult, recs = _adult_evidence(reasoner), reasoner.index.recommendations

    def adults_only(step: Step) -> bool:
        evidence = [e.id for r in step.recommendations for e in recs[r].evidence]
        return bool(evidence) and all((e if e.startswith("http") else SK_IRI + e) in adult for e in evidence)

    # a red flag's own steps are not weighed down for age: in an adolescent its features call for the work-up at
    # least as much (review R5, r5-03: fever, weight loss and night pain at 17)
    named = [s for s in steps if s.stance in ("do", "consider") and not s.safety and adults_only(s)]
    if not named:
        return []
    listed = ", ".join(f"step {s.number} ({s.label})" for s in named)
    return [
        Warning(
            "adult_sources_only",
            f"age {min(ages):g}: NICE NG59 covers people over {ADULT_AGE}, but {listed} "
            f"{'rests' if len(named) == 1 else 'rest'} only on guidelines written for adults (ACP 2017, the ACR "
            f"Appropriateness Criteria: spinekg's reading of their populations): weigh "
            f"{'it' if len(named) == 1 else 'them'} for a patient under {ADULT}, whose back pain may have other "
            "causes (spinekg's judgement; the steps stay)",
            ("age", *(s.id for s in named)),
        )
    ]
