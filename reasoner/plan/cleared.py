"""Warnings for a red flag that imaging of this episode answered: its own imaging standing down for the study on file,
which is the work-up to review (``red_flag_imaging_on_file``); back pain at 70 or over, which a lumbar MRI or CT
recording no vertebral height loss clears (``fracture_age_cleared_by_imaging``), and the words a red flag raised on
age alone adds to the warning on its imaging on file (what to record where the study shows no fracture); and a red
flag the clinician worked up and excluded (``red_flag_excluded``): which features the exclusion covers, which it
does not (begun or progressing after the work-up: they raise it again), and which the case cannot date.

Each is a warning, never a step: spinekg recommends nothing its sources do not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from rdflib import URIRef

from ..case.paths import path_key
from ..consts import SK, SK_IRI
from ..kb.index import local
from ..reasoning.conditions import FAILS, HOLDS
from ..reasoning.engine import CaseRun, Reasoner
from .model import EARLY_WITHIN, Warning
from .parts import confirmed_flags
from .studied import canal_compression_shown, lumbar_studies
from .words import Words, fact_text

_OLDER, _NOT_CLEARED = str(SK.back_pain_in_older_patient), str(SK.back_pain_in_older_patient_not_cleared)
_FRACTURE, _HEIGHT_LOSS = str(SK.fracture_suspected), str(SK.vertebral_height_loss)
_ABSENT, _FROM_MODALITIES = SK_IRI + "absentType", {str(SK.CT), str(SK.MRI)}
_LEVELS = (SK_IRI + "atDiscLevel", SK_IRI + "atSpinalLevel")
_IMAGING, _RED_FLAG = str(SK.ImagingIntervention), str(SK.redFlag)
_DURATION, _IMAGING_FINDING = SK_IRI + "durationWeeks", str(SK.ImagingFinding)


def _clearing(run: CaseRun, pain: str) -> list[tuple[str, str]]:
    """The (study, absence) pairs of the case that clear a back pain at 70 or over as rule
    derive-older-back-pain-not-cleared reads them: an MRI or CT no older than the pain (else the episode) on which
    vertebral height loss is recorded absent at no level (the rule also asks for the lumbar spine: here, for the
    words, any study it could be)."""
    weeks = [float(w) for w in run.details.get(pain, {}).get(SK_IRI + "durationWeeks", ())]
    limit = max(weeks) if weeks else run.episode_weeks
    found = []
    for fact, said in run.details.items():
        if _HEIGHT_LOSS not in said.get(_ABSENT, ()) or any(said.get(p) for p in _LEVELS):
            continue
        study = fact.rpartition("/finding/")[0]
        recorded = run.details.get(study, {})
        ago = [float(w) for w in recorded.get(SK_IRI + "weeksAgo", ())]
        if _FROM_MODALITIES & recorded.get(SK_IRI + "modality", set()) and ago:
            if limit is None or min(ago) <= limit:
                found.append((study, fact))
    return found


def fracture_age_cleared_by_imaging(reasoner: Reasoner, run: CaseRun, path: Callable[[str], str]) -> list[Warning]:
    """A back pain at 70 or over that a lumbar MRI or CT of this episode recording no vertebral height loss has
    cleared (it is not ``sk:back_pain_in_older_patient_not_cleared``): age does not raise suspected fracture here,
    and the plan names the study that answered the question, and says what would ask it again."""
    cleared = sorted(
        (f for f, types in run.fact_types.items() if _OLDER in types and _NOT_CLEARED not in types),
        key=lambda f: path_key(path(f)),
    )
    if not cleared:
        return []
    idx = reasoner.index
    pairs = sorted({p for pain in cleared for p in _clearing(run, pain)}, key=lambda p: path_key(path(p[1])))
    studies = "; ".join(
        f"{fact_text(idx, run.details.get(s, {}))} ({path(s)}: {fact_text(idx, run.details.get(a, {}))}, {path(a)})"
        for s, a in pairs
    )
    others = sorted(run.red_flags.get(_FRACTURE, ()), key=lambda f: path_key(path(f)))
    if others:
        stands = (
            "The fracture red flag stands on its other features ("
            + "; ".join(f"{fact_text(idx, run.details.get(f, {}))}, {path(f)}" for f in others)
            + "), which this study does not answer"
        )
    else:
        stands = (
            "spinekg does not raise the fracture red flag on age here, so the care it would defer is not deferred "
            "and no fracture work-up is ordered on age"
        )
    pains = ", ".join(path(f) for f in cleared)
    message = (
        f"back pain at 70 or over ({pains}) is a feature of suspected vertebral fracture (ACR Appropriateness "
        "Criteria, low back pain variant 6: 'elderly individual'; red_flags.csv: older age), which ACR answers "
        "with initial imaging (radiography, MRI without contrast or CT without contrast: usually appropriate). The "
        "case records an MRI or CT of the lumbar spine done since the pain began, with no vertebral height loss: "
        f"{studies or 'on file'}. spinekg reads that study as the imaging the suspicion asks for (a radiograph would "
        f"not be enough: it may miss a fracture): {stands}. A new or worse back pain since that study, a fall, or "
        "another feature of fracture (osteoporosis, prolonged corticosteroid use, trauma) asks the question again"
    )
    return [
        Warning(
            "fracture_age_cleared_by_imaging",
            message,
            (local(_FRACTURE), *(path(f) for f in cleared), *(path(s) for s, _ in pairs)),
        )
    ]


def on_age_alone(run: CaseRun, flag: str) -> bool:
    """Whether a raised red flag rests only on back pain at 70 or over not cleared by imaging (age alone)."""
    facts = run.red_flags.get(flag, ())
    return bool(facts) and all(_NOT_CLEARED in run.fact_types.get(f, ()) for f in facts)


def age_alone_imaging_words(run: CaseRun, flag: str) -> str:
    """What the warning on a red flag's imaging on file adds when the red flag rests on age alone: recording the
    study's answer (no vertebral height loss) clears it; a study without that record is not read as showing none."""
    if flag != _FRACTURE or not on_age_alone(run, flag):
        return ""
    return (
        ". It is raised on age alone (back pain at 70 or over): where a lumbar MRI or CT of this episode shows no "
        "vertebral height loss, record that on the study ({type: vertebral_height_loss, present: false} among its "
        "findings) and plan again, and age no longer raises it (warning fracture_age_cleared_by_imaging); a study "
        "recorded without it is not read as showing none"
    )


def red_flag_imaging_on_file(reasoner: Reasoner, run: CaseRun, path: Callable[[str], str]) -> list[Warning]:
    """A raised red flag whose own imaging step stands down because the case records the study it asks for (its
    ``NoPriorImaging`` condition fails, every other condition holds) and that has no imaging step left to do: that
    study is the work-up to review, and where the work-up excludes the red flag, the clinician records so
    (``red_flags_excluded``) and plans again, which releases the care the red flag holds back.

    A warning, not a step: no source sentence is said to ask for the review."""
    if not run.red_flags:
        return []
    idx, params = reasoner.index, reasoner.condition_params
    on_file: dict[str, tuple[set[str], set[str]]] = {}  # red flag → (studies, recommendations standing down)
    dated: set[str] = set()  # studies older than a step asks for that count as taken after a stable deficit
    still_imaging: set[str] = set()  # red flags an imaging step of which is still given
    for a in run.applicability:
        info = idx.recommendations[a.recommendation]
        if info.stance != "do" or not idx.is_a(info.intervention, _IMAGING):
            continue
        flags = {
            flag
            for c in a.conditions
            if c.kind == "RedFlagPresent" and c.status == HOLDS
            for flag in params.get(c.condition, {}).get(_RED_FLAG, ())
            if flag in run.red_flags
        }
        if not flags:
            continue
        if a.status == "applies":
            still_imaging |= flags
            continue
        failing = [c for c in a.conditions if c.status != HOLDS]
        if all(c.kind == "NoPriorImaging" and c.status == FAILS for c in failing):
            for flag in flags:
                studies, recs = on_file.setdefault(flag, (set(), set()))
                studies.update(f for c in failing for f in c.facts)
                recs.add(local(info.iri))
                dated.update(_dated_studies(run, failing, params))
    out = []
    for flag in sorted(set(on_file) - still_imaging - set(confirmed_flags(reasoner, run))):
        studies, recs = on_file[flag]
        paths = sorted(((path(f), f) for f in studies), key=lambda pf: path_key(pf[0]))
        said = "; ".join(f"{fact_text(idx, run.details.get(f, {}))} ({p})" for p, f in paths)
        label, name = idx.label(flag), local(flag)
        if studies & dated:  # the case dates it after the change: say why an older study answers the step
            triggers = sorted(run.red_flags[flag], key=lambda f: path_key(path(f)))
            began = "; ".join(f"{fact_text(idx, run.details.get(f, {}))} ({path(f)})" for f in triggers)
            said += (
                f", taken after every finding that raises the red flag began ({began}), none of them recorded as "
                "progressing: it shows the deficit as it stands, and the red flag's other "
                "steps act on it (a deficit that changes may outrun it: record progressive: true and plan again)"
            )
        # a study that shows a compression of the canal reaching the roots of the red flag's findings (review R10,
        # r10-07): no word of excluding the red flag beside it
        shown = [f for _, s in paths for f in canal_compression_shown(reasoner, run, s, run.red_flags[flag])]
        review = (
            f"That study shows a compression of the central canal consistent with the findings that raise it "
            f"({'; '.join(f'{fact_text(idx, run.details.get(f, {}))} ({path(f)})' for f in shown)}): the red flag "
            "and its other steps stand"
            if shown
            else f"That study is the work-up to review: where it, with the rest of the work-up, excludes {label}, "
            f"record red_flags_excluded: [{name}] and plan again (the care the red flag holds back then resumes); "
            "where it does not, the red flag and its other steps stand"
        )
        out.append(
            Warning(
                "red_flag_imaging_on_file",
                f"{label} [{name}]: its imaging ({', '.join(sorted(recs))}) is not ordered again, because the case "
                f"records the study it asks for, done in this episode: {said}. {review}"
                f"{age_alone_imaging_words(run, flag)}",
                (name, *(p for p, _ in paths), *sorted(recs)),
            )
        )
    return out


def _dated_studies(run: CaseRun, failing: Iterable, params: Mapping[str, Mapping[str, list[str]]]) -> set[str]:
    """The studies a failing ``NoPriorImaging`` names that are older than its ``sk:maxWeeksAgo``: they count only
    because the case dates them after the red flag's stable triggers (``sk:orAfterStableTriggersOf``)."""
    out = set()
    for c in failing:
        given = params.get(c.condition, {})
        if given.get(str(SK.orAfterStableTriggersOf)):
            newest = min(float(v) for v in given.get(str(SK.maxWeeksAgo), ["inf"]))
            weeks = {f: run.details.get(f, {}).get(str(SK.weeksAgo), ()) for f in c.facts}
            out |= {f for f, ws in weeks.items() if any(float(w) > newest for w in ws)}
    return out


def early_review_flags(reasoner: Reasoner, run: CaseRun) -> list[str]:
    """The red flags the case records in ``red_flags_excluded`` that are confirmed findings assessed by a spine surgeon
    (``sk:careHeldUntil``: a progressive deficit), with no feature raising them again: the finding stands, and the
    ``red_flag_excluded`` warning asks for the neurology to be reassessed early (within 1-2 weeks), not at the
    routine interval of the plan's follow-up (spinekg's judgement; clinician's reviews R10 #3, R17 #3)."""
    kb = reasoner.kb
    return sorted(
        f
        for f in run.excluded_flags.keys() | run.reraised_flags.keys()
        if (URIRef(f), SK.careHeldUntil, None) in kb and not run.reraised_flags.get(f)
    )


def excluded_flag_warnings(reasoner: Reasoner, run: CaseRun, words: Words, path: Callable[[str], str]) -> list[Warning]:
    """A red flag the clinician worked up and excluded (``red_flags_excluded``): the features the exclusion covers are
    said, not raised; those it does not cover (begun or progressing after the latest study of this episode that could
    be the work-up, rule derive-excluded-red-flag-feature) are named as raising it again; and a covered feature the
    case gives no date for (a risk factor, a symptom without a duration; not an imaging finding, which its study
    dates) is named as read to be covered."""
    out, early = [], early_review_flags(reasoner, run)
    for flag in sorted(run.excluded_flags.keys() | run.reraised_flags.keys()):
        found = sorted(run.excluded_flags.get(flag, ()), key=lambda f: path_key(path(f)))
        again = sorted(run.reraised_flags.get(flag, ()), key=lambda f: path_key(path(f)))
        label = reasoner.index.label(flag)
        # a confirmed finding (its care held until a spine surgeon has assessed it) is not excluded by its entry in
        # red_flags_excluded: it has been assessed, and stands (clinician's review R10 #3: a progressive foot drop a
        # surgeon chose to manage without an operation read "excluded", with the routine 6-week review)
        assessed = (URIRef(flag), SK.careHeldUntil, None) in reasoner.kb
        message = (
            f"{label} is recorded as assessed by a spine surgeon (red_flags_excluded; a confirmed finding is "
            "assessed, not excluded)"
            if assessed
            else f"{label} is recorded as excluded (red_flags_excluded)"
        )
        if found:
            message += f", so {'; '.join(words.trigger(f)[1] for f in found)} no longer raises it"
        if again:
            study = "a lumbar MRI or CT" + (", or a radiograph" if flag == _FRACTURE else "")
            message += (
                f"{'; but' if found else ', but'} the exclusion does not cover "
                f"{'; '.join(words.trigger(f)[1] for f in again)}: each began (its duration shorter than the weeks "
                f"since) or is recorded progressive after the latest study of this episode that could be the work-up "
                f"({study}), which could not have seen it, so it raises the red flag again: its work-up is ordered "
                "again and the care it holds back waits"
            )
        elif flag in early:
            message += (
                ": the care it would hold back is in the plan. The finding stands: spinekg's judgement, which no "
                "source in its reference gives for every such finding, is to reassess the neurology early, "
                f"{EARLY_WITHIN}, not at the routine interval of the plan's follow-up, and to refer back at once if "
                "it worsens (for mild DCM, AO Spine 2017: \u201cIf initial nonoperative management is pursued, we "
                "recommend operative intervention if there is neurological deterioration\u201d, "
                "guideline_statements.csv aospine2017_r2_mild); if it worsens, remove it from red_flags_excluded and "
                "plan again"
            )
        else:
            message += (
                ": its work-up is not ordered again and the care it would hold back is in the plan; if the picture "
                "changes, remove it from red_flags_excluded"
            )
        undated = [
            f
            for f in found
            if _DURATION not in run.details.get(f, {}) and _IMAGING_FINDING not in run.fact_types.get(f, ())
        ]
        if undated and (URIRef(flag), SK.careHeldUntil, None) not in reasoner.kb:
            message += (
                f"; the case gives no date for {', '.join(path(f) for f in undated)} (a risk factor carries none), so "
                "the exclusion is read to cover each: where one began after the work-up, remove the red flag from "
                "red_flags_excluded and plan again"
            )
        # began in the week of the latest study that could be the work-up (its duration the study's weeks ago): read as
        # seen by it, but the case's weeks cannot tell before from after (review R5, r5-06c: saddle numbness of 1 week
        # beside an MRI 1 week ago)
        latest = min((ago for ago, _ in lumbar_studies(reasoner, run)), default=None)
        tied = [
            f
            for f in found
            if latest is not None and latest in {float(w) for w in run.details.get(f, {}).get(_DURATION, ())}
        ]
        if tied and (URIRef(flag), SK.careHeldUntil, None) not in reasoner.kb:
            weeks = f"{latest:g} week{'s' * (latest != 1)} ago"
            message += (
                f"; {', '.join(path(f) for f in tied)} began in the week of the latest lumbar study ({weeks}), read "
                "as seen by it: where it began after the study, remove the red flag from red_flags_excluded and plan "
                "again"
            )
        out.append(
            Warning(
                "red_flag_excluded",
                message,
                ("red_flags_excluded", local(flag), *sorted({path(f) for f in (*found, *again)})),
            )
        )
    return out
