"""A suspected cauda equina syndrome whose every trigger began before a lumbar MRI or CT of this episode, none of
them progressing: that study imaged the cauda equina after the suspicion could first have been raised, and may be
the work-up already (``red_flag_study_on_file``). Clinician's review R4, r4-16: 18 weeks of stable bilateral L5
pain, explained on an MRI 3 weeks ago by bilateral foraminal stenosis, sent down the emergency pathway to repeat it.

A warning, never a step taken away: the emergency steps stand as the sources give them (a cauda equina syndrome
evolves, and only the clinician knows whether anything changed since the study); the warning says what to review
and what to record. spinekg's judgement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..case.paths import path_key
from ..consts import RDF, SK, SK_IRI
from ..kb.index import local
from ..reasoning.engine import CaseRun, Reasoner
from .model import EARLY_WITHIN, Step, Warning
from .words import fact_text

_CES = str(SK.cauda_equina_syndrome_suspected)
_STUDY, _MODALITY, _AGO = str(SK.ImagingStudy), str(SK.modality), str(SK.weeksAgo)
_DURATION, _PROGRESSIVE = str(SK.durationWeeks), str(SK.progressive)
_MODALITIES = {str(SK.MRI), str(SK.CT)}
_LEVELS = (str(SK.atDiscLevel), str(SK.atSpinalLevel))
_TYPE = str(RDF.type)
_CANAL, _AT_RISK = str(SK.centralCanalReaches), str(SK.cauda_equina_at_risk)


def _lumbar_levels(reasoner: Reasoner) -> frozenset[str]:
    key = ("lumbar_levels",)
    if key not in reasoner.cache:
        reasoner.cache[key] = frozenset(str(s) for s in reasoner.kb.subjects(SK.inSpineRegion, SK.lumbar_spine))
    return reasoner.cache[key]


def lumbar_study(reasoner: Reasoner, run: CaseRun, study: str) -> bool:
    """Whether ``study`` images the lumbar spine: a finding of it at a lumbar level, or none at any level (as the
    PriorImaging conditions read ``sk:studyRegion``)."""
    levels = {
        lv
        for f, fd in run.details.items()
        if f.startswith(study + "/finding/")
        for p in _LEVELS
        for lv in fd.get(p, ())
    }
    return not levels or not levels.isdisjoint(_lumbar_levels(reasoner))


def lumbar_studies(reasoner: Reasoner, run: CaseRun) -> list[tuple[float, str]]:
    """(weeks ago, study) of every MRI or CT of this episode (no older than it) of the lumbar spine (a finding at a
    lumbar level, or none at any level), as rule derive-excluded-red-flag-feature reads a work-up."""
    out = []
    for study, d in run.details.items():
        if _STUDY not in d.get(_TYPE, ()) or d.get(_MODALITY, set()).isdisjoint(_MODALITIES):
            continue
        ago = [float(w) for w in d.get(_AGO, ())]
        if not ago or (run.episode_weeks is not None and ago[0] > run.episode_weeks):
            continue
        if lumbar_study(reasoner, run, study):
            out.append((ago[0], study))
    return sorted(out)


def canal_compression_shown(reasoner: Reasoner, run: CaseRun, study: str, triggers: Iterable[str]) -> list[str]:
    """The findings of ``study`` that compress the central canal (a severe central disc herniation, or
    a severe central canal stenosis: ``sk:cauda_equina_at_risk``) and reach, through it, the root of a dermatome one
    of ``triggers`` is recorded in: a compression that explains those findings (review R10, r10-07: a severe central
    T12-L1 extrusion and saddle numbness)."""
    wanted = set(triggers)
    roots = {r for s, derm, _ in run.symptom_dermatomes if s in wanted for r in reasoner.dermatome_roots.get(derm, ())}
    return sorted(
        {
            f
            for f, _, _, via, root, _ in run.root_reach
            if f.startswith(study + "/finding/")
            and via == _CANAL
            and root in roots
            and _AT_RISK in run.fact_types.get(f, ())
        }
    )


def red_flag_study_on_file(reasoner: Reasoner, run: CaseRun, path: Callable[[str], str]) -> list[Warning]:
    """Suspected cauda equina syndrome, raised, every trigger of it dated and older than a lumbar MRI or CT of this
    episode and none progressive: the latest such study is named, to review before it is repeated."""
    triggers = sorted(run.red_flags.get(_CES, ()), key=lambda f: path_key(path(f)))
    if not triggers:
        return []
    began = []
    for f in triggers:
        d = run.details.get(f, {})
        weeks = [float(w) for w in d.get(_DURATION, ())]
        if not weeks or "true" in d.get(_PROGRESSIVE, ()):
            return []  # undated, or progressing: nothing says the study saw it as it is
        began.append(min(weeks))
    after = [(ago, s) for ago, s in lumbar_studies(reasoner, run) if ago < min(began)]
    if not after:
        return []
    ago, study = after[0]  # the latest
    idx = reasoner.index
    said = "; ".join(f"{fact_text(idx, run.details.get(f, {}))} ({path(f)})" for f in triggers)
    name = local(_CES)
    shown = canal_compression_shown(reasoner, run, study, triggers)
    if shown:  # the study shows the compression: never a word of excluding the syndrome beside it
        what = "; ".join(f"{fact_text(idx, run.details.get(f, {}))} ({path(f)})" for f in shown)
        return [
            Warning(
                "red_flag_study_on_file",
                f"{idx.label(_CES)} [{name}]: the case records {fact_text(idx, run.details[study])} ({path(study)}), a "
                f"lumbar study of this episode taken after every finding that raises it began ({said}). That study "
                f"shows a compression of the central canal consistent with them: {what}, which reaches the roots of "
                "their dermatomes (concordance below). It supports the suspicion; it does not exclude it. The "
                "emergency steps stand. spinekg's judgement",
                (name, path(study), *(path(f) for f in shown), *(path(f) for f in triggers)),
            )
        ]
    return [
        Warning(
            "red_flag_study_on_file",
            f"{idx.label(_CES)} [{name}]: the case records {fact_text(idx, run.details[study])} ({path(study)}), a "
            f"lumbar study of this episode taken after every finding that raises it began ({said}), none recorded "
            "as progressing. The emergency steps stand as the sources give them; that study may already be the "
            "work-up: review it with the examination (is the cauda equina compressed?) and, where they exclude the "
            f"syndrome and nothing has changed since, record red_flags_excluded: [{name}] and plan again (a finding "
            "new or progressing since the study raises it again). spinekg's judgement",
            (name, path(study), *(path(f) for f in triggers)),
        )
    ]


_SAFETY_NET = "safety_net_advice"  # the intervention of the step that gives safety-net advice (review R13 #1)
_SACRAL = frozenset(str(SK[f"root_S{n}"]) for n in (2, 3, 4, 5))
_IMAGING_FINDING, _IN_DERMATOME = str(SK.ImagingFinding), str(SK.inDermatome)


def ces_safety_net(
    reasoner: Reasoner, run: CaseRun, path: Callable[[str], str], steps: Iterable[Step] = ()
) -> list[Warning]:
    """Suspected cauda equina syndrome recorded as excluded, not raised again, while imaging of this episode shows a
    compression of the central canal (a severe central or paracentral disc herniation, a severe central canal
    stenosis: ``sk:cauda_equina_at_risk``) and a symptom in a sacral dermatome (S2-S5, the saddle) is recorded: the
    patient most at risk of the syndrome after all (review R10, r10-08). No source in the reference gives a
    safety-net statement: spinekg's judgement, said as such. Where the plan already gives safety-net advice as a step
    (a sciatica's, review R13 #1), the warning points to it rather than saying the advice a second time."""
    if _CES not in run.excluded_flags or _CES in run.red_flags:
        return []
    canal = sorted(f for f, types in run.fact_types.items() if _AT_RISK in types and _IMAGING_FINDING in types)
    # a symptom placed in a sacral dermatome: one it records, or its region's where it records none (a sciatica down
    # both legs charted in S1 is not placed in S2 by the leg's span)
    sacral = sorted(
        {
            s
            for s, derm, _ in run.symptom_dermatomes
            if _SACRAL & reasoner.dermatome_roots.get(derm, set())
            and derm in (run.details.get(s, {}).get(_IN_DERMATOME) or {derm})
        },
        key=lambda f: path_key(path(f)),
    )
    if not canal or not sacral:
        return []
    idx = reasoner.index
    said = lambda fs: "; ".join(f"{fact_text(idx, run.details.get(f, {}))} ({path(f)})" for f in fs)  # noqa: E731
    name = local(_CES)
    # the plan's step says the advice: the warning says why it matters here, once
    if any(s.id == _SAFETY_NET and s.stance == "do" for s in steps):
        return [
            Warning(
                "ces_safety_net",
                f"{idx.label(_CES)} [{name}] is recorded as excluded, yet imaging shows a compression of the central "
                f"canal ({said(canal)}) and a symptom in a sacral dermatome is recorded ({said(sacral)}): the "
                f"plan's step of {idx.label(SK_IRI + _SAFETY_NET)} ({_SAFETY_NET}) matters most for this patient "
                "(a large central disc can still compress the cauda equina); give it in writing, with saddle numbness "
                "that spreads or worsens among the reasons to return at once, and review early, "
                f"{EARLY_WITHIN}, rather than at the routine interval. spinekg's judgement: no source in the reference "
                "gives a safety-net statement or that interval",
                (name, _SAFETY_NET, *(path(f) for f in canal), *(path(f) for f in sacral)),
            )
        ]
    return [
        Warning(
            "ces_safety_net",
            f"{idx.label(_CES)} [{name}] is recorded as excluded, yet imaging shows a compression of the central "
            f"canal ({said(canal)}) and a symptom in a sacral dermatome is recorded ({said(sacral)}): give the "
            "patient safety-net advice, in writing, to return at once with urinary retention, urinary or faecal "
            "incontinence, or saddle numbness that spreads or worsens, and review early, "
            f"{EARLY_WITHIN}, rather than at the routine interval (a large central disc can still compress the cauda "
            "equina). spinekg's judgement: no source in the reference gives a safety-net statement or that interval",
            (name, *(path(f) for f in canal), *(path(f) for f in sacral)),
        )
    ]
