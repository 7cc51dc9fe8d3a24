"""Care of a previous episode: a recorded course that ended before this episode began, shown as history, never read
as this episode's care tried, failed or helped.

The case reader marks a course that ended before the episode began (``sk:CourseBeforeEpisode``,
:func:`reasoner.case.episode.before_episode`), and rule derive-care-of-a-previous-episode makes it care of a previous
episode (``sk:PreviousEpisodeCare``) unless it is an operation; the condition rules and the weeks of failed care leave
it out. The plan's own readings of the courses (what was already tried, what helped, whether pain relief was tried,
the care a later step waits for) leave it out the same way, from what the case records (:func:`previous_care`, the
same test on the same fields), and the clinician is told what it was (:func:`previous_episode_care`): an NSAID that
did not help 3 years ago is worth knowing before offering one again (clinician's review R3, r3-16).

Care before an operation is read the same way for what the plan offers after it (:func:`before_operation`): a course
that ended before a spine operation the case dates (``weeks_ago``) is not read as tried and failed for the care after
the operation, which is a new indication (post-operative rehabilitation), and the clinician is told so
(:func:`care_before_operation`; clinician's review R5, r5-02: physiotherapy that failed 20 weeks ago, before a
microdiscectomy 6 weeks ago, withheld every exercise step after it).

The plan's readings of this episode's care come from here too: what failed (:func:`failed_treatments`), what improved
the patient (:func:`improving_care`), and the operations that helped (:func:`helped_operations`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from ..case.episode import before_episode
from ..case.paths import field_path, path_key
from ..consts import SK
from ..kb.index import local
from ..reasoning.engine import CaseRun, Reasoner
from .model import Step, Warning
from .parts import FAILED_OUTCOMES, offered_again
from .words import fact_text, steps_named

_TREATMENT, _OUTCOME, _WEEKS = str(SK.treatmentType), str(SK.outcome), str(SK.weeks)
_AGO, _OPERATION = str(SK.treatmentWeeksAgo), str(SK.spine_surgery)
_HELPED, _IMPROVED = frozenset({str(SK.improved), str(SK.partial_improvement)}), str(SK.improved)
_AFTER_SURGERY = str(SK.new_or_progressing_after_lumbar_surgery)


def _number(values: Iterable[str]) -> float | None:
    return max((float(v) for v in values), default=None)


def previous_care(reasoner: Reasoner, run: CaseRun) -> frozenset[str]:
    """The case's courses of care of a previous episode (``sk:PreviousEpisodeCare``): recorded as ended before this
    episode began (:func:`reasoner.case.episode.before_episode` of their weeks ago, their weeks and
    ``run.episode_weeks``), an operation (spine surgery or narrower) apart."""
    if run.episode_weeks is None:
        return frozenset()
    idx = reasoner.index
    return frozenset(
        fact
        for fact, d in run.details.items()
        if d.get(_AGO)
        and d.get(_TREATMENT)
        and before_episode(_number(d[_AGO]), _number(d.get(_WEEKS, ())), run.episode_weeks)
        and not any(idx.is_a(t, _OPERATION) for t in d[_TREATMENT])
    )


def before_operation(reasoner: Reasoner, run: CaseRun) -> dict[str, str]:
    """Each course of the case that ended before its latest dated operation (spine surgery or narrower, ``weeks_ago``
    recorded), an operation apart → that operation: a course whose weeks ago are at least the operation's (the week of
    the operation counts as before it), or, undated, whose weeks are more than the weeks since the operation (it began
    before it). Its failure is not read as the failure of the care after the operation."""
    idx = reasoner.index
    courses = {f: d for f, d in run.details.items() if d.get(_TREATMENT)}
    operations = {f for f, d in courses.items() if any(idx.is_a(t, _OPERATION) for t in d[_TREATMENT])}
    ago = {f: weeks for f, d in courses.items() if (weeks := _number(d.get(_AGO, ()))) is not None}
    dated = [(ago[f], f) for f in operations if f in ago]
    if not dated:
        return {}
    latest, operation = min(dated)
    # undated, a course longer than the weeks since the operation began before it (review R8, n03: an NSAID for 10
    # weeks, 8 weeks after a microdiscectomy, read as failed after it)
    spanning = {
        f
        for f, d in courses.items()
        if f not in ago and (weeks := _number(d.get(_WEEKS, ()))) is not None and weeks > latest
    }
    return {
        f: operation
        for f in (*(f for f, weeks in ago.items() if weeks >= latest), *sorted(spanning))
        if f not in operations
    }


def care_before_operation(
    reasoner: Reasoner, run: CaseRun, steps: Iterable[Step], path: Callable[[str], str]
) -> list[Warning]:
    """Each course tried without success before the case's latest operation (:func:`before_operation`; care of a
    previous episode apart, which :func:`previous_episode_care` names): that it is not read as failed for the care
    after the operation, and the steps of the plan that offer it again."""
    before, previous = before_operation(reasoner, run), previous_care(reasoner, run)
    idx, steps = reasoner.index, list(steps)
    out = []
    for fact in sorted(before, key=lambda f: path_key(path(f))):
        d = run.details[fact]
        if fact in previous or not d.get(_OUTCOME, set()) & FAILED_OUTCOMES:
            continue
        operation = before[fact]
        again = offered_again(idx, steps, d[_TREATMENT])
        message = (
            f"{fact_text(idx, d)} ({path(fact)}) was before {fact_text(idx, run.details[operation])} "
            f"({path(operation)}): care before the operation, not read as tried and failed for the care after it, "
            "which is a new indication (post-operative rehabilitation)"
        )
        if again:
            message += f"; the plan offers {steps_named(again)} again after the operation: weigh how it went before"
        out.append(Warning("care_before_operation", message, (path(fact), path(operation), *(s.id for s in again))))
    return out


def previous_episode_care(
    reasoner: Reasoner, run: CaseRun, steps: Iterable[Step], path: Callable[[str], str]
) -> list[Warning]:
    """Each course of care of a previous episode, as history: what it was and how it went, that it is not this
    episode's care tried or failed, and the steps of the plan that offer it (or what it is part of, or, for a drug
    class, a drug in it) again, so the clinician weighs how it went then."""
    previous = previous_care(reasoner, run)
    if not previous:
        return []
    idx, steps = reasoner.index, list(steps)
    out = []
    for fact in sorted(previous, key=lambda f: path_key(path(f))):
        d = run.details[fact]
        again = offered_again(idx, steps, d[_TREATMENT])
        outcome = ", ".join(local(o).replace("_", " ") for o in sorted(d.get(_OUTCOME, ()))) or "no outcome recorded"
        weeks = f"{run.episode_weeks:g} week{'' if run.episode_weeks == 1 else 's'}"
        message = (
            f"{fact_text(idx, d)} ({path(fact)}) ended before this episode began (the episode has lasted {weeks}): "
            f"care of a previous episode, {outcome} then; history to weigh, not read as this episode's care tried, "
            "failed or helped, nor counted in its weeks of care"
        )
        if again:
            message += f"; the plan offers {steps_named(again)} again for this episode"
        out.append(Warning("previous_episode_care", message, (path(fact), *(s.id for s in again))))
    return out


def failed_treatments(reasoner: Reasoner, run: CaseRun) -> dict[str, list[str]]:
    """Intervention IRI → the prior-treatment facts that record it as tried without success in this episode (care of a
    previous episode is history: :func:`reasoner.plan.history.previous_care`), and since the latest operation (care
    before it is not the care after it: :func:`reasoner.plan.history.before_operation`)."""
    out: dict[str, list[str]] = defaultdict(list)
    previous = earlier_care(reasoner, run)
    for fact, details in run.details.items():
        if details.get(_OUTCOME, set()) & FAILED_OUTCOMES and fact not in previous:
            for t in details.get(_TREATMENT, ()):
                out[t].append(fact)
    return out


def earlier_care(reasoner: Reasoner, run: CaseRun) -> frozenset[str]:
    """The courses that are history, not this episode's care: care of a previous episode (:func:`previous_care`) and
    care before the latest operation (:func:`before_operation`)."""
    return previous_care(reasoner, run) | before_operation(reasoner, run).keys()


def helping_care(reasoner: Reasoner, run: CaseRun, outcomes: frozenset[str] = _HELPED) -> list[str]:
    """The case's courses of care of this episode recorded with one of ``outcomes`` (by default improved or partly
    improved), an operation apart (care of a previous episode and care before the latest operation are history:
    :func:`earlier_care`), in field order."""
    idx = reasoner.index
    facts = [
        f
        for f, d in run.details.items()
        if d.get(_OUTCOME, set()) & outcomes
        and d.get(_TREATMENT)
        and not any(idx.is_a(t, _OPERATION) for t in d[_TREATMENT])
    ]
    if not facts:  # most cases record none: the history is read only for those that do
        return []
    history = earlier_care(reasoner, run)
    return sorted((f for f in facts if f not in history), key=lambda f: path_key(field_path(run.case, f)))


def improving_care(reasoner: Reasoner, run: CaseRun) -> list[str]:
    """The case's courses of care of this episode recorded as having improved the patient (``improved``, not partly),
    an operation apart (care of a previous episode and care before the latest operation are history), in field
    order."""
    return helping_care(reasoner, run, frozenset({_IMPROVED}))


def helped_operations(reasoner: Reasoner, run: CaseRun) -> dict[str, list[str]]:
    """Operation IRI → the prior-treatment facts that record a lumbar operation (spine surgery or narrower) as having
    helped (improved or partly improved), with when it was done (weeks_ago), where no symptom of the case is new or
    progressing after lumbar surgery (rule derive-new-or-progressing-after-lumbar-surgery): the symptoms began
    before it and are not progressing, residual. Empty where a symptom is new after it, or progressing."""
    if any(_AFTER_SURGERY in types for types in run.fact_types.values()):
        return {}
    out: dict[str, list[str]] = defaultdict(list)
    for fact, details in run.details.items():
        if details.get(_OUTCOME, set()) & _HELPED and details.get(_AGO):
            for t in details.get(_TREATMENT, ()):
                if reasoner.index.is_a(t, _OPERATION):
                    out[t].append(fact)
    return out
