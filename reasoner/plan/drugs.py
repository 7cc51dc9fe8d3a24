"""Warnings about the plan's drugs beside one another and beside the patient's own courses, shown on the steps they
name: a drug already tried without success or stopped for its side effects beside the plan's "do not" of it
(``tried_and_advised_against``), a muscle relaxant and an opioid offered in one plan (``sedatives_combined``:
spinekg's judgement), and why a step stands for this patient where its recommendation says so in spinekg's words
(``step_reading``: ``sk:stepReading``), and a "do not" that only tempers the expectations of its intervention
(``tempers_expectations``: ``sk:tempersExpectations``), which the text, HTML and DOT plans word so.

Each is a warning beside the steps, never a step removed or added.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..case.paths import path_key
from ..consts import SK, SK_IRI
from ..kb.index import local
from ..reasoning.engine import CaseRun, Reasoner
from .history import previous_care
from .model import Step, Warning
from .parts import by_class, unique
from .words import fact_text, steps_named

_TYPE, _OUTCOME = str(SK.treatmentType), str(SK.outcome)
#: the outcomes of a course tried without success, and how each is said
_HOW = {
    str(SK.not_tolerated): "not tolerated (stopped for its side effects)",
    str(SK.failed): "without success",
    str(SK.unchanged): "without success",
    str(SK.worse): "without success (worse on it)",
}
_RELAXANT, _OPIOID = SK_IRI + "muscle_relaxant", SK_IRI + "opioid"
#: the warnings a course of this module's first kind may already have from ``cautions`` (the taper warnings)
_TAPER_WARNINGS = ("long_term_opioid", "current_drug_advised_against")


def tried_and_advised_against(
    reasoner: Reasoner, run: CaseRun, steps: Iterable[Step], path: Callable[[str], str], warned: Iterable[Warning]
) -> list[Warning]:
    """A course of a drug of this episode recorded as not tolerated, unchanged, worse or failed, beside a "do not" step
    of it (of its class or a broader one: pregabalin beside gabapentinoids; not a "do not" that only tempers
    expectations): the step is
    the place the patient's own course is named (review R11, defect 10b: pregabalin not tolerated, nowhere in a plan
    that says "DO NOT gabapentinoids"). A course a taper warning already names (``warned``) is left to it.

    >>> from reasoner.api import recommend
    >>> plan = recommend({"id": "doc-pregabalin", "symptoms": [{"type": "radicular_pain", "dermatomes": ["S1"],
    ...     "duration_weeks": 16, "severity": "moderate"}], "prior_treatments": [
    ...     {"type": "pregabalin", "weeks": 3, "outcome": "not_tolerated"}]})
    >>> [w.subjects for w in plan.warnings if w.id == "tried_and_advised_against"]
    [('prior_treatments[0]', 'pregabalin', 'gabapentinoid')]
    """
    idx, steps = reasoner.index, list(steps)
    taken = {w.subjects[0] for w in warned if w.id in _TAPER_WARNINGS and w.subjects}
    previous = previous_care(reasoner, run)
    avoid = [s for s in steps if s.stance == "avoid" and not tempers_only(reasoner, s)]
    out = []
    for fact, d in run.details.items():
        how = next((_HOW[o] for o in d.get(_OUTCOME, ()) if o in _HOW), None)
        if how is None or fact in previous or path(fact) in taken:
            continue
        kinds = list(d.get(_TYPE, ()))
        against = [s for s in avoid if any(idx.is_a(k, SK_IRI + s.id) for k in kinds)]  # of its class or broader
        if against:
            out.append(
                Warning(
                    "tried_and_advised_against",
                    f"{fact_text(idx, d)} ({path(fact)}): tried already, {how}; the plan's {steps_named(against)} "
                    f"{'does' if len(against) == 1 else 'do'} not offer it again",
                    (path(fact), *unique(local(k) for k in kinds), *unique(s.id for s in against)),
                )
            )
    return sorted(out, key=lambda w: path_key(w.subjects[0]))


def sedatives_combined(reasoner: Reasoner, steps: Iterable[Step]) -> list[Warning]:
    """A muscle relaxant and an opioid (weak, short-term or any) both done or considered in one plan: spinekg's
    judgement, which no source in its reference gives, that their sedation adds up (review R11, defect 6b: a relaxant
    and a short-term opioid in week 1 at 40, the falls caution only at 70 or over). The steps stand.

    >>> from reasoner.api import recommend
    >>> plan = recommend({"id": "doc-sedation", "age": 40, "symptoms": [{"type": "radicular_pain",
    ...     "dermatomes": ["S1"], "duration_weeks": 1, "severity": "severe"}, {"type": "axial_pain",
    ...     "body_regions": ["lower_back"], "duration_weeks": 1, "severity": "severe"}]})
    >>> [w.subjects for w in plan.warnings if w.id == "sedatives_combined"]
    [('muscle_relaxant', 'short_term_opioid')]
    """
    idx = reasoner.index
    given = [s for s in steps if s.stance in ("do", "consider")]
    relaxants = [s for s in given if idx.is_a(SK_IRI + s.id, _RELAXANT)]
    opioids = [s for s in given if idx.is_a(SK_IRI + s.id, _OPIOID)]
    if not (relaxants and opioids):
        return []
    both = [*relaxants, *opioids]
    return [
        Warning(
            "sedatives_combined",
            f"{steps_named(both)} in this plan together: spinekg's judgement, which no source in its reference gives: "
            "a muscle relaxant and an opioid add to each other's sedation and dizziness (driving, machinery, falls), "
            "and a benzodiazepine-type relaxant (diazepam) adds to the respiratory depression of an opioid; if both "
            "are chosen, start one at a time, at the lowest dose for the shortest time, and tell the patient. The "
            "steps stand as their sources give them; the clinician decides",
            tuple(unique(s.id for s in both)),
        )
    ]


def step_reading(reasoner: Reasoner, steps: Iterable[Step]) -> list[Warning]:
    """Why a step (do or consider) stands for this patient, where a recommendation it rests on says so in spinekg's
    words (``sk:stepReading``, which opens by saying it is spinekg's judgement): NICE's weak opioid "only if an NSAID
    is contraindicated ..." beside an NSAID the plan still offers (review R12, defect 9: heart failure with kidney
    disease at 71, the step's reason not on the step)."""
    out = []
    readings = by_class(reasoner, SK.stepReading)
    for s in steps:
        if s.stance not in ("do", "consider"):
            continue
        for rec in s.recommendations:
            for note in readings.get(rec, ()):
                out.append(
                    Warning(
                        "step_reading",
                        f"{steps_named([s])}: {note}",
                        (local(rec), s.id),
                    )
                )
    return out


def tempers_only(reasoner: Reasoner, step: Step) -> bool:
    """A "do not" whose every recommendation only tempers the expectations of its drug (``sk:tempersExpectations``)."""
    tempers = by_class(reasoner, SK.tempersExpectations)  # the KB's lexical forms: an xsd:boolean true is "true" or "1"
    return all(any(v in ("true", "1") for v in tempers.get(r, ())) for r in step.recommendations)


def tempers_expectations(reasoner: Reasoner, steps: Iterable[Step]) -> list[Warning]:
    """A "do not" step whose every recommendation only tempers the expectations of its intervention
    (``sk:tempersExpectations``: article 002's "do not assume efficacy of neuropathic pain medications"): its stance
    stays avoid (the design's stances are do, consider and avoid), and this warning is the mark by which the text,
    HTML and DOT plans word it "TEMPER EXPECTATIONS OF", not "DO NOT" (clinician's review R14, defect 8: "DO NOT
    neuropathic pain medications" beside NICE's own "do not" of gabapentinoids, a stronger stance than article 002's
    sentence supports)."""
    out = []
    for s in steps:
        if s.stance == "avoid" and s.recommendations and tempers_only(reasoner, s):
            out.append(
                Warning(
                    "tempers_expectations",
                    f"step {s.number} ({s.label}): "
                    + ("its sources temper" if len(s.recommendations) > 1 else "its source tempers")
                    + " the expectations of it, not advising against it: the plan words the step so (its stance "
                    "stays avoid)",
                    (*(local(r) for r in s.recommendations), s.id),
                )
            )
    return out
