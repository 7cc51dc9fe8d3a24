"""Warnings for what the case's own records leave open: a leg weakness recorded without a side, grade or course
(:mod:`reasoner.plan.weakness`), two records of one symptom whose durations put the case in different duration
phases, a myelopathy graded on examination that its mJOA score puts in another grade, a prior treatment with no
outcome that the plan offers again, care of a previous episode and care that failed before an operation
(:mod:`reasoner.plan.history`).

Each is a warning, never a step, and never a red flag of its own: it names what the records leave undecided and the
fields that would decide it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rdflib import BNode, Literal

from ..case.episode import episode_length, episode_rank
from ..case.paths import path_key
from ..consts import OWL, RDF, RDFS, SK, SK_IRI, XSD
from ..kb.index import KBIndex, local
from ..reasoning.engine import CaseRun, Reasoner
from .drugs import tempers_only
from .history import care_before_operation, helping_care, previous_care, previous_episode_care
from .model import Step, Warning
from .parts import ANALGESIA, offered_again, pain_above_l1, phase_recommendations
from .weakness import weakness_grade_not_recorded, weakness_side_not_recorded
from .words import fact_text, steps_named

_SYMPTOM = str(SK.Symptom)
_LAT, _DERM, _REGION = str(SK.laterality), str(SK.inDermatome), str(SK.inBodyRegion)
_WEEKS, _TYPE = str(SK.durationWeeks), str(RDF.type)


def records(reasoner: Reasoner, run: CaseRun, steps: list[Step], path: Callable[[str], str]) -> list[Warning]:
    """Every warning of this module for one plan, in this order."""
    return (
        weakness_side_not_recorded(reasoner, run, steps, path)
        + weakness_grade_not_recorded(reasoner, run, path)
        + durations_disagree(reasoner, run, steps, path)
        + myelopathy_grade_disagrees(reasoner, run, path)
        + myelopathy_suspected(reasoner, run, path)
        + study_misses_the_pain(reasoner, run, steps, path)
        + outcome_not_recorded(reasoner, run, steps, path)
        + previous_episode_care(reasoner, run, steps, path)
        + care_before_operation(reasoner, run, steps, path)
        + care_helping(reasoner, run, steps, path)
    )


_TREATMENT, _OUTCOME = str(SK.treatmentType), str(SK.outcome)


def outcome_not_recorded(
    reasoner: Reasoner, run: CaseRun, steps: Iterable[Step], path: Callable[[str], str]
) -> list[Warning]:
    """A prior treatment recorded without an outcome, where the plan offers it (or what it is part of, or, for a drug
    class, a drug in it) again: the same record would take those steps off had it not helped (unchanged, worse,
    failed, not tolerated), and keeps them had it helped. spinekg reads a course with no outcome as not failed (so
    the plan offers it as if new) while counting its weeks as care given: the outcome decides which, and only the
    clinician knows it (review R1, r1-07: physiotherapy and an NSAID for 8 weeks, "outcome not stated")."""
    idx, steps = reasoner.index, list(steps)
    out = []
    # a previous episode's course: its outcome decides none of this episode's steps (warning previous_episode_care)
    previous = previous_care(reasoner, run)
    open_courses = [
        f for f, d in run.details.items() if d.get(_TREATMENT) and not d.get(_OUTCOME) and f not in previous
    ]
    for fact in sorted(open_courses, key=lambda f: path_key(path(f))):  # only the few open courses are sorted
        again = offered_again(idx, steps, run.details[fact][_TREATMENT])
        if not again:
            continue
        at = path(fact)
        out.append(
            Warning(
                "outcome_not_recorded",
                f"{fact_text(idx, run.details[fact])} ({at}) has no outcome recorded, and the plan offers "
                f"{steps_named(again)} as if it had not been tried: had the course not helped (unchanged, worse, "
                f"failed or not tolerated), {'that step' if len(again) == 1 else 'those steps'} would not be offered "
                f"again; had it helped, {'it stands' if len(again) == 1 else 'they stand'}. Record {at}.outcome and "
                "plan again",
                (f"{at}.outcome", *(s.id for s in again)),
            )
        )
    return out


def care_helping(reasoner: Reasoner, run: CaseRun, steps: Iterable[Step], path: Callable[[str], str]) -> list[Warning]:
    """A course of this episode recorded as having helped (improved, partly improved), where the plan offers it (or
    what it is part of, or, for a drug class, a drug in it) as a step to do or consider: the step is that care, to go
    on with or resume, not a new treatment to begin (clinician's probe of the second visit: NSAIDs and physiotherapy
    that helped read "consider NSAIDs" as if never given). An operation that helped is the plan's own reading
    (:func:`reasoner.plan.history.helped_operations`); care of a previous episode or before the latest operation is
    history (warnings previous_episode_care, care_before_operation)."""
    idx, steps = reasoner.index, list(steps)
    # a "do not" of the drug itself (not one that only tempers expectations): the plan advises against it, and a
    # broader step it is part of ("consider pain management") is not that care to go on with (clinician's review R20
    # #6: long-term morphine that partly helped, "to go on with", beside "DO NOT opioids" and a taper warning)
    against = [SK_IRI + s.id for s in steps if s.stance == "avoid" and not tempers_only(reasoner, s)]
    out = []
    for fact in helping_care(reasoner, run):
        d = run.details[fact]
        if any(idx.is_a(t, a) for t in d[_TREATMENT] for a in against):
            continue
        again = offered_again(idx, steps, d[_TREATMENT])
        if not again:
            out += _helping_not_offered(idx, steps, fact, d, path)
            continue
        one = len(again) == 1
        out.append(
            Warning(
                "care_helping",
                f"{fact_text(idx, d)} ({path(fact)}): care of this episode that helped; "
                f"{steps_named(again)} {'is' if one else 'are'} that care, to go on with or resume rather than "
                "begin as new (spinekg's reading of the record)",
                (path(fact), *(s.id for s in again)),
            )
        )
    return out


def _helping_not_offered(
    idx: KBIndex, steps: list[Step], fact: str, d: dict[str, set[str]], path: Callable[[str], str]
) -> list[Warning]:
    """Pain relief of this episode that helped, which no step of the plan names (no source's recommendation for this
    patient offers it, and none advises against it: paracetamol in pregnancy, NICE's 'not alone' standing down where it
    helped): the plan says to go on with it rather than fall silent (clinician's review R19 #4)."""
    drugs = [t for t in d[_TREATMENT] if idx.is_a(t, ANALGESIA)]
    if not drugs or any(idx.is_a(SK_IRI + s.id, t) or idx.is_a(t, SK_IRI + s.id) for s in steps for t in drugs):
        return []
    return [
        Warning(
            "care_helping",
            f"{fact_text(idx, d)} ({path(fact)}): pain relief of this episode that helped, which no step of this plan "
            "gives (no source's recommendation for this patient offers it): it is not stopped for that; go on with it "
            "at the dose that helped, and review it at the follow-up (spinekg's reading of the record: pain relief is "
            "not withheld)",
            (path(fact),),
        )
    ]


_LUMBAR_STUDY, _WHOLE_SPINE = str(SK.lumbar_spine_imaging), str(SK.mri_entire_spine)


def study_misses_the_pain(
    reasoner: Reasoner, run: CaseRun, steps: Iterable[Step], path: Callable[[str], str]
) -> list[Warning]:
    """A red flag's imaging step that images the lumbar spine, in a case whose back pain is recorded only above L1 (a
    T11-T12 pain in a patient with cancer): the sources name lumbar studies, since they are about low back pain, and
    the study they name does not show the level of this pain. Said unless the plan images the whole spine.
    """
    idx, steps = reasoner.index, list(steps)
    # the plan's steps first: most plans have no red flag's study, and the pain is found by reading every fact
    studies = [s for s in steps if s.stance == "do" and s.safety and idx.is_a(SK_IRI + s.id, _LUMBAR_STUDY)]
    if not studies or any(s.stance == "do" and SK_IRI + s.id == _WHOLE_SPINE for s in steps):
        return []
    above = pain_above_l1(run)
    if not above:
        return []
    paths = sorted((path(f) for f in above), key=path_key)
    levels = sorted(
        {idx.notation(d) for f, d, _ in run.symptom_dermatomes if f in above}, key=lambda d: (d[0], len(d), d)
    )
    where = f" ({', '.join(levels)})" if levels else ""
    message = (
        f"{steps_named(studies)} images the lumbar spine, as the red flag's sources say for low back pain; the pain "
        f"({', '.join(paths)}) is recorded above L1{where}, so that study does not show its level. Image the level of "
        "the pain (spinekg's judgement: its sources are about low back pain and name no study for it)"
    )
    return [Warning("study_misses_the_pain", message, (*paths, *(s.id for s in studies)))]


def _bounds(reasoner: Reasoner) -> list[tuple[str, float, bool, float, bool]]:
    """Each duration phase (``sk:DurationPhase``) with its bounds on the episode's weeks, read from its class
    definition: (phase, lowest, lowest included, highest, highest included), once per reasoner."""
    key = ("phase_bounds",)
    if key not in reasoner.cache:
        kb, out = reasoner.kb, []
        for phase in kb.subjects(RDFS.subClassOf, SK.DurationPhase):
            low, low_in, high, high_in = float("-inf"), False, float("inf"), False
            todo = list(kb.objects(phase, OWL.equivalentClass))
            seen = set(todo)
            while todo:
                for p, o in kb.predicate_objects(todo.pop()):
                    if isinstance(o, Literal) and p in (XSD.minInclusive, XSD.minExclusive):
                        low, low_in = float(o), p == XSD.minInclusive
                    elif isinstance(o, Literal) and p in (XSD.maxInclusive, XSD.maxExclusive):
                        high, high_in = float(o), p == XSD.maxInclusive
                    elif isinstance(o, BNode) and o not in seen:
                        seen.add(o)
                        todo.append(o)
            if (low, high) != (float("-inf"), float("inf")):  # a phase by the episode's weeks
                out.append((str(phase), low, low_in, high, high_in))
        reasoner.cache[key] = sorted(out, key=lambda b: b[1])
    return reasoner.cache[key]


def _phase(reasoner: Reasoner, weeks: float) -> str | None:
    for phase, low, low_in, high, high_in in _bounds(reasoner):
        if (low < weeks or (low_in and low == weeks)) and (weeks < high or (high_in and high == weeks)):
            return phase
    return None


def _weeks(values: Iterable[str]) -> float | None:
    found = [float(v) for v in values]
    return max(found) if found else None


def durations_disagree(
    reasoner: Reasoner, run: CaseRun, steps: Iterable[Step], path: Callable[[str], str]
) -> list[Warning]:
    """Two or more records of one symptom (the same type, side, dermatomes and body regions) whose durations put the
    case in different duration phases: spinekg measures the episode by the longest (as it does for any symptoms), and
    says which records disagree, the duration it used, the phase that gives, and the plan's steps the phase decides
    (a phase condition, a symptom duration condition or a step due after some weeks). Not a rejection: two notes can
    disagree, and the clinician confirms which is right."""
    symptoms = [f for f, types in run.fact_types.items() if _SYMPTOM in types and path(f).startswith("symptoms[")]
    groups: dict[tuple, list[tuple[str, float]]] = {}
    dated: dict[str, tuple[float, int]] = {}  # every present symptom with a duration: (weeks, episode rank)
    for f in symptoms:
        rec = run.details.get(f, {})
        weeks = _weeks(rec.get(_WEEKS, ()))
        if weeks is None:
            continue
        dated[f] = (weeks, episode_rank(run.fact_types[f], rec.get(_DERM, set()) | rec.get(_REGION, set())))
        key = tuple(frozenset(rec.get(p, ())) for p in (_TYPE, _LAT, _DERM, _REGION))
        groups.setdefault(key, []).append((f, weeks))
    idx, steps, out = reasoner.index, list(steps), []
    for members in groups.values():
        if len({w for _, w in members}) < 2:
            continue
        ours = {f for f, _ in members}
        # the episode, and its phase, were the symptom recorded at each of its durations (the others as they are)
        taken = {
            w: episode_length((w if f in ours else v, rank) for f, (v, rank) in dated.items())
            for w in sorted({w for _, w in members})
        }
        phases = {w: _phase(reasoner, e) for w, e in taken.items() if e is not None}
        if len(set(phases.values())) < 2 or run.episode_weeks is None:
            continue
        here = _phase(reasoner, run.episode_weeks)
        members.sort(key=lambda fw: path_key(path(fw[0])))
        said = ", ".join(f"{path(f)} at {w:g} weeks" for f, w in members)
        others = "; ".join(
            f"at {w:g} weeks it would be in the {idx.label(p)}" for w, p in phases.items() if p != here and p
        )
        decided = _phase_steps(reasoner, run, steps)
        listing = (
            "; in this plan, " + steps_named(decided) + (" rest on it" if len(decided) > 1 else " rests on it")
            if decided
            else ""
        )
        what = _fact_label(idx, run.details.get(members[0][0], {}))
        out.append(
            Warning(
                "durations_disagree",
                f"the same {what} is recorded with durations in different phases ({said}): spinekg measures the "
                f"episode by the longest, {run.episode_weeks:g} weeks, so this case is in the "
                f"{idx.label(here) if here else 'phase of that duration'}; {others}. The phase decides which "
                f"recommendations apply and when steps are due{listing}. Confirm the duration with the patient, "
                "record it once, and plan again",
                (*(path(f) + ".duration_weeks" for f, _ in members), *(local(p) for p in (here,) if p)),
            )
        )
    return out


def _fact_label(idx: KBIndex, details: dict[str, set[str]]) -> str:
    """A symptom in a few words: its type, side and dermatomes (``left L5 radicular pain``)."""
    kinds = sorted(idx.label(t) for t in details.get(_TYPE, ()) if t.startswith(SK_IRI))
    side = sorted(local(s) for s in details.get(_LAT, ()))
    derm = sorted(idx.notation(d) for d in details.get(_DERM, ()))
    return " ".join([*side, *derm, *(kinds or ["symptom"])])


def _phase_steps(reasoner: Reasoner, run: CaseRun, steps: list[Step]) -> list[Step]:
    """The plan's steps a duration phase decides: one of its recommendations has a condition on a phase or on a
    symptom's duration, or is due after some weeks (``sk:afterWeeks``, counted from the episode)."""
    timed = set(phase_recommendations(reasoner)) | {
        a.recommendation
        for a in run.applicability
        if a.status == "applies" and any(c.kind.startswith("SymptomDuration") for c in a.conditions)
    }
    recs = reasoner.index.recommendations
    return [
        s
        for s in steps
        if not timed.isdisjoint(s.recommendations) or any(recs[r].after_weeks is not None for r in s.recommendations)
    ]


_GRADED, _MJOA, _SCORE = str(SK.graded_myelopathy), str(SK.mjoa_score), str(SK.scoreValue)


def _grades(reasoner: Reasoner) -> tuple[dict[str, str], tuple[str, ...]]:
    """A grade of myelopathy on examination → the mJOA band of the same grade (``sk:mjoaBand``), and the graded
    presentations of degenerative myelopathy (``sk:within``), read from the KB once per reasoner."""
    key = ("myelopathy_grades",)
    if key not in reasoner.cache:
        kb = reasoner.kb
        bands = {str(g): str(b) for g, b in kb.subject_objects(SK.mjoaBand)}
        graded = tuple(sorted(str(p) for p in kb.subjects(SK.within, SK.degenerative_myelopathy)))
        reasoner.cache[key] = (bands, graded)
    return reasoner.cache[key]


def myelopathy_grade_disagrees(reasoner: Reasoner, run: CaseRun, path: Callable[[str], str]) -> list[Warning]:
    """A myelopathy graded on examination (mild, moderate or severe) in a case whose mJOA score is in another AO Spine
    band, or in none (18): the score grades the degenerative myelopathy, as the guideline's bands do (the examiner's
    grade stands for a band only where no score is recorded, ``sk:examination_graded_myelopathy``). spinekg does not
    choose silently: the warning names both records, the grade the plan follows, and a red flag the examination's
    grade raises, which stands (safety first)."""
    scores = [f for f, types in run.fact_types.items() if _MJOA in types]
    graded = [f for f, types in run.fact_types.items() if _GRADED in types]
    if not scores or not graded:
        return []
    bands, presentations = _grades(reasoner)
    idx = reasoner.index
    scored = {b for f in scores for b in run.fact_types[f] if b in bands.values()}
    where = sorted(scores, key=lambda f: path_key(path(f)))
    values = ", ".join(f"{path(f)} ({v})" for f in where for v in sorted(run.details.get(f, {}).get(_SCORE, ())))
    band = (
        f"in the {', '.join(idx.label(b) for b in sorted(scored))}"
        if scored
        else f"in none of the myelopathy bands ({', '.join(idx.label(b) for b in sorted(set(bands.values())))})"
    )
    grade = [p for p in presentations if p in run.presentations]
    followed = (
        f"spinekg grades the degenerative myelopathy by the score ({', '.join(idx.label(p) for p in grade)}), and the "
        "recommendations for that grade apply"
        if grade
        else "spinekg grades the degenerative myelopathy by the score, which gives it no AO Spine grade, so no "
        "grade's recommendations apply"
    )
    out = []
    for f in sorted(graded, key=lambda f: path_key(path(f))):
        given = sorted(g for g in bands if g in run.fact_types[f])
        if not given or {bands[g] for g in given} <= scored:
            continue
        flags = sorted(flag for flag, facts in run.red_flags.items() if f in facts)
        kept = (
            f"; the examination's grade still raises the {', '.join(idx.label(x) for x in flags)} red flag, which "
            "stands and acts first"
            if flags
            else ""
        )
        out.append(
            Warning(
                "myelopathy_grade_disagrees",
                f"{path(f)} records a {', '.join(idx.label(g) for g in given)} on examination, while {values} is "
                f"{band} of AO Spine / CSRS 2017: {followed}{kept}. Re-examine or re-score, record the grade the "
                "two agree on, and plan again",
                (path(f), *(path(s) for s in where), *(local(p) for p in grade)),
            )
        )
    return out


_SIGNS, _MYELOPATHY = str(SK.myelopathic_hand_and_gait_signs), str(SK.degenerative_myelopathy)


def myelopathy_suspected(reasoner: Reasoner, run: CaseRun, path: Callable[[str], str]) -> list[Warning]:
    """Myelopathic signs of the hands and gait in a case that records no myelopathy, no mJOA score and no imaged cord
    compression (not yet ``degenerative_myelopathy``): the cord is suspected, not excluded. The plan's urgent MRI of the
    cervical spine images it (rec_safety_myelopathy_signs_mri); the warning quotes presentations.csv's case findings and
    exclusions and asks for the grade that decides the surgical referral (review R18 #1)."""
    if _SIGNS not in run.presentations or _MYELOPATHY in run.presentations:
        return []
    kb = reasoner.kb
    definition, exclusions = (
        str(kb.value(SK[f"ev_ref_presentation_degenerative_cervical_myelopathy_{cell}"], SK.referenceText))
        for cell in ("definition", "exclusions")
    )
    findings = definition[definition.index("Case findings:") :]
    facts = sorted(run.presentations[_SIGNS], key=lambda f: path_key(path(f)))
    said = "; ".join(f"{fact_text(reasoner.index, run.details.get(f, {}))} — {path(f)}" for f in facts)
    return [
        Warning(
            "myelopathy_suspected",
            f"{said}: hands and gait disturbed together, the case findings of degenerative cervical myelopathy in "
            f"presentations.csv (“{findings}”), and “{exclusions}” (its exclusions). No myelopathy, mJOA score or "
            "imaged cord compression is recorded: the cord is suspected, not excluded, and the plan orders an MRI of "
            "the cervical spine. Grade it with the mJOA score (scores.mjoa; AO Spine / CSRS 2017: mild 15-17, moderate "
            "12-14, severe 0-11), record a cord compression the MRI shows, and plan again: the grade decides the "
            "surgical referral. Before any lumbar operation, the spine surgeon clears the cervical cord (spinekg's "
            "judgement: a tandem stenosis)",
            tuple(path(f) for f in facts),
        )
    ]
