"""The next rung ahead of time: a recommendation after failed care, shown "if symptoms persist" while that care is
still under way.

A recommendation whose every condition holds but a failed-care condition that fails only because the care has not
failed *yet* is *pending*. A failed-care condition is a ``FailedTreatment``, or a ``HadTreatment`` whose outcomes
are those of care that did not help (ACR variant 3's "6 weeks of optimal medical management"); the care has not
failed yet where the plan begins it now (a step to do or consider it, or a narrower one, in the "now" phase; advice
is not a course that fails), or the case records a course of it not recorded as having helped (partly helped,
without an outcome, or failed, unchanged or worse for fewer weeks than the condition asks). A course recorded as
having helped (``improved``) leaves the condition failed: there is nothing to escalate.

A pending recommendation is a step of the if-persistent phase, never due now (the care it waits for has not
failed): "if symptoms persist after N weeks of conservative care". The weeks count the care, as the sources word
it ("After 6 weeks of failed conservative therapy", article 002; "initial conservative management for 3 months ...
if symptoms persist or worsen", 003; "if no improvement after 6 weeks", 004; ACR variant 3's "6 weeks of optimal
medical management"), not the symptoms: from the longest course of that care the case records, or from now where
the plan begins it. N is the condition's weeks, else the recommendation's own (``sk:afterWeeks``). Only what waits
by its nature is shown ahead: recommendations of the if-persistent phase, and those whose failed-care condition
names its weeks (article 003's decompression after 12 weeks); a step after failed care with no time to it (NICE's
weak opioids only if an NSAID has been ineffective) is not a rung of time and is not shown before. Where another
condition fails or is unknown, the recommendation is not a step and its why-not says the care is pending, not
failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..case.paths import path_key
from ..consts import SK
from ..kb.index import RecInfo, local
from ..reasoning.conditions import FAILS, HOLDS, UNKNOWN, Applicability
from ..reasoning.engine import CaseRun, Reasoner
from .history import previous_care
from .model import NotApplicable

FAILED_CARE = ("FailedTreatment", "HadTreatment")
_TREATMENT, _WEEKS, _OUTCOMES = str(SK.treatment), str(SK.weeks), str(SK.withOutcome)
_TYPE, _OUTCOME, _COURSE_WEEKS = str(SK.treatmentType), str(SK.outcome), str(SK.weeks)
_FAILED, _IMPROVED = str(SK.failed), str(SK.improved)
_ADVICE = str(SK.Advice)
IF_PERSISTENT = "if_persistent"


def _care(reasoner: Reasoner, cond: str, kind: str) -> tuple[str, float | None] | None:
    """A failed-care condition's care and weeks; None for another condition (a ``HadTreatment`` of any outcome, or
    of outcomes that are not failure: a lumbar operation done)."""
    if kind not in FAILED_CARE:
        return None
    params = reasoner.condition_params.get(cond, {})
    if kind == "HadTreatment" and _FAILED not in params.get(_OUTCOMES, ()):
        return None
    treatments = params.get(_TREATMENT, ())
    if len(treatments) != 1:
        return None
    weeks = params.get(_WEEKS, ())
    return treatments[0], (float(weeks[0]) if weeks else None)


def candidates(reasoner: Reasoner) -> frozenset[str]:
    """The recommendations that may be shown ahead (once per reasoner): with a failed-care condition, and of the
    if-persistent phase or with weeks on that condition."""
    key = ("ahead_candidates",)
    if key not in reasoner.cache:
        found = set()
        for rec, conds in reasoner.conditions.items():
            cares = [care for cond, kind in conds if (care := _care(reasoner, cond, kind))]
            phase = reasoner.index.recommendations[rec].phase
            if cares and (phase == IF_PERSISTENT or any(w is not None for _, w in cares)):
                found.add(rec)
        reasoner.cache[key] = frozenset(found)
    return reasoner.cache[key]


def begun_now(reasoner: Reasoner, applying: list) -> list[str]:
    """The care the plan begins now: the interventions it does or considers in the "now" phase, advice aside."""
    idx = reasoner.index
    return sorted(
        {
            info.intervention
            for _, info, _ in applying
            if info.phase == "now" and info.stance != "avoid" and not idx.is_a(info.intervention, _ADVICE)
        }
    )


def _how(
    reasoner: Reasoner, run: CaseRun, care: str, weeks: float | None, begun: list[str], path: Callable[[str], str]
) -> tuple[str, float] | None:
    """Why a failed-care condition that fails is pending, with the weeks of that care so far; None if it is not (a
    course of it helped, or the case records none and the plan does not begin it)."""
    idx = reasoner.index
    previous = previous_care(reasoner, run)  # care of a previous episode is history, not this care so far
    courses = [
        (fact, d)
        for fact, d in run.details.items()
        if d.get(_TYPE) and fact not in previous and any(idx.is_a(t, care) for t in d[_TYPE])
    ]
    if any(_IMPROVED in d.get(_OUTCOME, ()) for _, d in courses):
        return None
    if courses:
        courses.sort(key=lambda fd: path_key(path(fd[0])))
        recorded = [float(w) for _, d in courses for w in d.get(_COURSE_WEEKS, ())]
        so_far = max(recorded, default=0.0)
        said = "; ".join(f"{path(f)}, {_course(idx, d)}" for f, d in courses)
        if weeks is None:
            return f"so far {said}", so_far
        if not recorded:  # how long it has run is not recorded: no count of the weeks left
            return f"so far {said}: its weeks are not recorded", so_far
        if so_far >= weeks:
            return f"so far {said}: due once it no longer helps", so_far
        return f"so far {said}: {weeks - so_far:g} more week(s)", so_far
    if any(idx.is_a(b, care) for b in begun):
        return "this plan begins it now", 0.0
    return None


def _course(idx, details: dict) -> str:
    """A recorded course as the timing names it: ``NSAIDs, 2 weeks, partial improvement``."""
    kinds = ", ".join(sorted(idx.label(t) for t in details.get(_TYPE, ())))
    weeks = details.get(_COURSE_WEEKS, ())
    outcome = ", ".join(local(o).replace("_", " ") for o in sorted(details.get(_OUTCOME, ()))) or "no outcome recorded"
    return f"{kinds}, " + (f"{float(next(iter(weeks))):g} weeks, " if weeks else "") + outcome


def pending(
    reasoner: Reasoner, run: CaseRun, a: Applicability, begun: list[str], path: Callable[[str], str]
) -> dict[str, tuple[str, str, float | None]]:
    """The failed-care conditions of a recommendation that fail only because the care is still under way: condition
    → (why, the care, the condition's weeks)."""
    out = {}
    for c in a.conditions:
        if c.status != FAILS:
            continue
        care = _care(reasoner, c.condition, c.kind)
        if care is None:
            continue
        how = _how(reasoner, run, care[0], care[1], begun, path)
        if how is not None:
            out[c.condition] = (how[0], care[0], care[1])
    return out


def add_pending(
    reasoner: Reasoner,
    run: CaseRun,
    failing: dict[str, Applicability],
    applying: list,
    not_applicable: list[NotApplicable],
    path: Callable[[str], str],
) -> tuple[list, dict[str, str]]:
    """Show ahead the failing ``candidates`` whose every condition holds but failed-care conditions that are pending:
    each is returned as an applying item in the if-persistent phase (its weeks those of the care), with its timing,
    and leaves ``not_applicable``; a candidate with another condition that fails or is unknown stays there, its
    pending conditions said as pending. ``applying`` is what the plan gives (the care it begins now is read from it)."""
    if not failing:
        return [], {}
    idx = reasoner.index
    begun = begun_now(reasoner, applying)
    # what the plan already does or considers (due now or on its own clock): a rung ahead of the same intervention (or
    # a broader or narrower one) adds nothing (ACR variant 3's MRI due now makes article 002's after failed care moot)
    given = [info.intervention for _, info, _ in applying if info.phase != "follow_up" and info.stance != "avoid"]
    timing: dict[str, str] = {}
    shown = []
    rewritten: dict[str, NotApplicable] = {}
    for rec, a in sorted(failing.items()):
        waits = pending(reasoner, run, a, begun, path)
        if not waits:
            continue
        info = idx.recommendations[rec]
        others = [c for c in a.conditions if c.status != HOLDS and c.condition not in waits]
        if others:
            rewritten[rec] = _why_not(reasoner, info, a, waits, path)
            continue
        if any(idx.is_a(g, info.intervention) or idx.is_a(info.intervention, g) for g in given):
            continue
        weeks = [w for _, _, w in waits.values() if w is not None] + (
            [info.after_weeks] if info.after_weeks is not None else []
        )
        after = max(weeks) if weeks else None
        care = ", ".join(sorted({idx.label(c) for _, c, _ in waits.values()}))
        why = "; ".join(sorted({w for w, _, _ in waits.values()}))
        if after is None:
            timing[rec] = f"if symptoms persist after {care} (its source gives no number of weeks; {why})"
        else:
            timing[rec] = f"if symptoms persist after {after:g} weeks of {care} ({why})"
        driven = info.safety or any(c.kind == "RedFlagPresent" and c.status == HOLDS for c in a.conditions)
        shown.append((a, replace(info, phase=IF_PERSISTENT, after_weeks=after), driven))
    if timing or rewritten:
        not_applicable[:] = [
            rewritten.get(n.recommendation, n) for n in not_applicable if n.recommendation not in timing
        ]
    return shown, timing


def _why_not(
    reasoner: Reasoner,
    info: RecInfo,
    a: Applicability,
    waits: dict[str, tuple[str, str, float | None]],
    path: Callable[[str], str],
) -> NotApplicable:
    """The why-not of a recommendation with a pending failed-care condition and another that fails or is unknown: as
    ``parts.not_applicable`` says it, the pending condition said as pending (unknown where no other fails)."""
    why: list[str] = []
    missing: list[str] = []
    for c in a.conditions:
        text = reasoner.describe_condition(c.condition, c.kind)
        if c.condition in waits:
            why.append(f"{text} is pending, not failed: {waits[c.condition][0]}")
        elif c.status == FAILS:
            extra = f": recorded {', '.join(path(f) for f in c.facts)}" if c.facts else ""
            why.append(f"{text} does not hold{extra}")
        elif c.status == UNKNOWN:
            why.append(f"{text} is unknown: the case does not record {', '.join(c.missing)}")
            missing += c.missing
    fails = any(c.status == FAILS and c.condition not in waits for c in a.conditions)
    return NotApplicable(info.iri, info.label, FAILS if fails else UNKNOWN, tuple(why), tuple(sorted(set(missing))))
