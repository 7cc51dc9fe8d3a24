"""The plan's follow-up brought forward where a warning asks for an early review, so the plan gives one interval.

These warnings ask the clinician to see the patient again early, not at the routine interval of the plan's
follow-up: ``ces_safety_net`` (suspected cauda equina syndrome excluded while imaging shows a compression of the
central canal and a sacral symptom is recorded), ``red_flag_excluded`` for a finding a spine surgeon assessed that
stands (a progressive deficit managed without an operation, :func:`cleared.early_review_flags`), and a weakness of
this episode whose grade or course is not recorded, so that the progressive neurological deficit is undecided
(``weakness_grade_not_recorded``, ``weakness_course_not_recorded``, and ``weakness_side_not_recorded`` where it says
so: clinician's reviews R16 #1, R17 #1 and #2). A follow-up step with a routine interval (article 000's "Reassess
after 6 weeks of conservative management") then reads "early: within 1-2 weeks, not at the routine interval of 6
weeks", names the warning, and says that this is spinekg's judgement, not its source's (no source in the reference
gives an interval); the warning names the step, so the text plan shows it there ("read with the warning"). A reader
working from the numbered steps would otherwise book the 6-week review (clinician's review R12 #5: r10-08, r10-09),
and "early" with "(in 6 weeks)" beside it read aloud as 6 weeks (review R17 #3). Where no such warning stands the
interval is the source's.
"""

from __future__ import annotations

from dataclasses import replace

from ..kb.index import local
from ..reasoning.engine import CaseRun, Reasoner
from .cleared import early_review_flags
from .model import EARLY_WITHIN, REVIEW_EARLY, Step, Warning

#: the warnings that always ask for an early review where they stand
EARLY_REVIEW = frozenset({"ces_safety_net", "weakness_grade_not_recorded", "weakness_course_not_recorded"})
#: the warnings that ask for it where they say so (:data:`model.REVIEW_EARLY`): a weakness with no side asks for it
#: only where its grade or course leaves the progressive neurological deficit undecided
EARLY_REVIEW_WHERE_SAID = frozenset({"weakness_side_not_recorded"})


def asks_early_review(reasoner: Reasoner, run: CaseRun, w: Warning) -> bool:
    """Whether the warning asks for an early review: :data:`EARLY_REVIEW`, :data:`EARLY_REVIEW_WHERE_SAID` where it
    says so, or ``red_flag_excluded`` of an assessed finding that stands."""
    if w.id in EARLY_REVIEW:
        return True
    if w.id in EARLY_REVIEW_WHERE_SAID:
        return REVIEW_EARLY in w.message
    return w.id == "red_flag_excluded" and any(local(f) in w.subjects for f in early_review_flags(reasoner, run))


def brought_forward(timing: str, said: str) -> str:
    """A routine follow-up's timing ("in 6 weeks", "every 4-6 weeks") brought forward: the early interval first, so
    that read aloud it is not heard as the routine one, and the routine one named as what it replaces."""
    routine = timing.removeprefix("in ").removeprefix("every ")
    instead = f"the routine interval of {routine}" if routine != timing else f"its routine timing ({timing})"
    return (
        f"early: {EARLY_WITHIN}, not at {instead} (spinekg's judgement with the {said}, not its source's: no source "
        "in its reference gives an interval)"
    )


def early_review(
    reasoner: Reasoner, run: CaseRun, steps: list[Step], warnings: list[Warning]
) -> tuple[list[Step], list[Warning]]:
    """The steps with each follow-up step of a routine interval brought forward, and the warnings that ask for it
    naming those steps (their ids added to the subjects), where a warning asks for an early review; else unchanged."""
    asks = [asks_early_review(reasoner, run, w) for w in warnings]  # once a warning: the second use reads it
    asking = list(dict.fromkeys(w.id for w, a in zip(warnings, asks, strict=True) if a))
    ids = {s.id for s in steps if s.phase == "follow_up" and s.timing}
    if not asking or not ids:
        return steps, warnings
    said = f"warning{'s' * (len(asking) > 1)} {', '.join(asking)}"
    out = [
        replace(s, timing=brought_forward(s.timing, said)) if s.phase == "follow_up" and s.timing else s for s in steps
    ]
    told = [
        replace(w, subjects=(*w.subjects, *sorted(ids - set(w.subjects)))) if a else w
        for w, a in zip(warnings, asks, strict=True)
    ]
    return out, told
