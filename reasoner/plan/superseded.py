"""Imaging that does not show the spine as it is now, said beside the steps that read it.

A lumbar study from before a recorded operation shows the spine before the operation changed it
(``study_before_operation``): clinician's review R20 #2, a 68-year-old 39 weeks after an L4-L5 laminectomy, whose
only MRI, 42 weeks old, was read as today's anatomy: "consider decompression surgery" and "do not epidural" named its
stenosis, the concordance table read it as explaining L5, and nothing said that the stenosis had been decompressed.

A study from before this episode began (its weeks ago more than the episode's length) is a previous episode's: the
rules infer a root compression only from a study of this episode (rule infer-root-compression), so what needs one is
not given on it, while the concordance table still reads its findings (``previous_episode_study``): review R20 #7,
an L4-L5 extrusion on an MRI 24 weeks old shown as "L5 explained", with no epidural and no decompression, and no word
why.

Warnings, never steps: the steps stand as the rules give them (no condition reads these dates differently); the
plan says which of them rest on the study and what would decide them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from ..case.paths import path_key
from ..consts import RDF, SK, SK_IRI
from ..kb.index import KBIndex
from ..reasoning.engine import CaseRun, Reasoner
from .concordance import GUIDED_BY_IMAGING, DermatomeConcordance
from .model import Step, Warning
from .studied import lumbar_study
from .words import fact_text, steps_named

_TYPE, _STUDY, _AGO = str(RDF.type), str(SK.ImagingStudy), str(SK.weeksAgo)
_TREATMENT, _DONE, _OPERATION = str(SK.treatmentType), str(SK.treatmentWeeksAgo), str(SK.spine_surgery)
_LUMBAR_IMAGING = str(SK.lumbar_spine_imaging)


def _weeks(values: Iterable[str]) -> float | None:
    return min((float(v) for v in values), default=None)


def _latest_operation(idx: KBIndex, run: CaseRun) -> tuple[float, str] | None:
    """(weeks ago, fact) of the case's latest operation (spine surgery or narrower) whose ``weeks_ago`` is recorded:
    an undated one cannot be placed before or after a study."""
    dated = [
        (weeks, f)
        for f, d in run.details.items()
        if any(idx.is_a(t, _OPERATION) for t in d.get(_TREATMENT, ()))
        and (weeks := _weeks(d.get(_DONE, ()))) is not None
    ]
    return min(dated) if dated else None


def _resting_on(idx: KBIndex, steps: Iterable[Step], at: str) -> list[Step]:
    """The plan's injections, procedures and operations (to do, consider or not to do: the steps a level and side
    chosen on imaging guide) one of whose deciding facts is the study at field path ``at`` or one of its findings.
    Care that rests on a finding of it without being guided by it (article 003's conservative care for the
    spondylosis it shows) is not named: a new study does not decide it, and pain relief does not wait for one."""
    return [
        s
        for s in steps
        if any(t == at or t.startswith(at + ".") for t in s.triggered_by)
        and any(idx.is_a(SK_IRI + s.id, c) for c in GUIDED_BY_IMAGING)
    ]


def _explained(rows: Sequence[DermatomeConcordance], at: str) -> list[str]:
    """The dermatomes the concordance table reads a finding of the study at ``at`` as explaining (on every
    symptomatic side, or on some), in the table's order (the spine's)."""
    return list(
        dict.fromkeys(
            r.dermatome
            for r in rows
            if (r.status == "explained" or r.status.startswith("partly"))
            and any(e.finding.startswith(at + ".") for e in r.explained_by)
        )
    )


def _new_study(idx: KBIndex, steps: Iterable[Step]) -> list[Step]:
    """The plan's studies of the lumbar spine to do or consider: a new study, which decides what the old one cannot."""
    return [s for s in steps if s.stance in ("do", "consider") and idx.is_a(SK_IRI + s.id, _LUMBAR_IMAGING)]


def superseded_studies(
    reasoner: Reasoner,
    run: CaseRun,
    rows: Sequence[DermatomeConcordance],
    steps: Sequence[Step],
    path: Callable[[str], str],
) -> list[Warning]:
    """Each imaging study of the case that does not show the spine as it is now: a lumbar study (a finding at a
    lumbar level, or none at any level) whose weeks ago are more than the latest dated operation's
    (``study_before_operation``), else a study from before this episode whose findings the concordance table reads
    as explaining a symptomatic dermatome (``previous_episode_study``)."""
    idx = reasoner.index
    studies = sorted(
        (
            (ago, s)
            for s, d in run.details.items()
            if _STUDY in d.get(_TYPE, ()) and (ago := _weeks(d.get(_AGO, ()))) is not None
        ),
        key=lambda a: path_key(path(a[1])),
    )
    if not studies:
        return []
    operation = _latest_operation(idx, run)
    out = []
    for ago, study in studies:
        before = operation is not None and ago > operation[0] and lumbar_study(reasoner, run, study)
        if not before and (run.episode_weeks is None or ago <= run.episode_weeks):
            continue  # most studies: of this episode, since any operation
        at = path(study)
        resting, explained = _resting_on(idx, steps, at), _explained(rows, at)
        new = _new_study(idx, steps)  # the plan's own study, which decides what the old one cannot
        # said only where the plan reads the study (a step rests on it, the concordance table reads it): a study
        # nothing reads misleads no one
        if before and (resting or explained):
            assert operation is not None  # before is only true with one
            done = path(operation[1])
            out.append(_before_operation(idx, run, steps, operation[1], done, study, at, resting, explained, new))
        elif not before and explained:
            out.append(_previous_episode(idx, run, study, at, resting, explained, new))
    return out


def _ordered(new: Sequence[Step]) -> str:
    """The plan's new study, named where one is ordered: what decides, not an order for a study (the plan's own
    imaging steps say whether one is due: a residual pain settling 2 weeks after a discectomy is not imaged again)."""
    return f": {steps_named(new)}, which the plan orders" if new else ""


def _before_operation(
    idx: KBIndex,
    run: CaseRun,
    steps: Sequence[Step],
    operation: str,
    done: str,
    study: str,
    at: str,
    resting: list[Step],
    explained: list[str],
    new: list[Step],
) -> Warning:
    """``study_before_operation``: ``operation`` and ``study`` are facts, ``done`` and ``at`` their field paths,
    ``resting`` the plan's steps guided by the study, ``explained`` the dermatomes it explains, ``new`` the plan's new
    study (:func:`superseded_studies` reads each once)."""
    said = [
        f"{fact_text(idx, run.details[study])} ({at}) predates {fact_text(idx, run.details[operation])} ({done}): it "
        "shows the spine before the operation changed it, not the current anatomy"
    ]
    if resting:
        said.append(f"the plan's {steps_named(resting)} rest{'s' * (len(resting) == 1)} on its findings")
    if explained:
        said.append(f"the concordance table below reads it as explaining {', '.join(explained)}")
    ordered = _ordered(new)
    if resting:
        message = (
            "; ".join(said)
            + f". Decide {'it' if len(resting) == 1 else 'them'} on a study done since the operation{ordered}"
        )
    else:
        message = "; ".join(said) + f". Only a study done since the operation shows the spine as it is now{ordered}"
    again = [s for s in steps if s.stance in ("do", "consider") and idx.is_a(SK_IRI + s.id, _OPERATION)]
    named = {s.id for s in again}
    umbrellas = [s for s in again if s.part_of not in named]  # an operation's parts are that operation
    if umbrellas:
        one = len(umbrellas) == 1
        message += (
            f". spinekg's judgement, which no source in its reference gives: {steps_named(umbrellas)} would be "
            f"{'a revision' if one else 'revisions'} of an operated spine, not a first operation; ask about "
            f"instability (flexion-extension radiographs, for example) before {'it' if one else 'them'}"
        )
    subjects = (at, done, *dict.fromkeys(s.id for s in (*resting, *new, *again)))
    return Warning("study_before_operation", message, subjects)


def _previous_episode(
    idx: KBIndex,
    run: CaseRun,
    study: str,
    at: str,
    resting: list[Step],
    explained: list[str],
    new: list[Step],
) -> Warning:
    """``previous_episode_study``, with what :func:`_before_operation` is given of the study."""
    weeks = run.episode_weeks or 0
    guided = [s for s in resting if s.stance in ("do", "consider")]
    message = (
        f"{fact_text(idx, run.details[study])} ({at}) is from before this episode began (the episode has lasted "
        f"{weeks:g} week{'' if weeks == 1 else 's'}): a previous episode's study, showing the spine as it was then. "
        f"The concordance table below reads it as explaining {', '.join(explained)}, but spinekg infers a root "
        "compression only from a study of this episode (rule infer-root-compression): what needs one (an epidural "
        "for radicular symptoms with nerve compression, a decompression) is not given on it"
    )
    if guided:
        message += (
            f"; the plan's {steps_named(guided)} rest{'s' * (len(guided) == 1)} on its findings all the same: weigh "
            f"{'it' if len(guided) == 1 else 'them'} with that in mind"
        )
    ordered = _ordered(new)
    message += f". Where an injection or an operation comes to be weighed, a study of this episode decides it{ordered}"
    return Warning("previous_episode_study", message, (at, *dict.fromkeys(s.id for s in (*guided, *new))))
