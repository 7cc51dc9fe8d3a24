"""Assemble a staged management plan from one case's reasoning results: steps, red flags, warnings, why not.

The rules a clinician reads the plan by:

- one step per intervention, stance and phase: recommendations merge only with the same stance and phase, and
  every evidence sentence stays under the recommendation it supports;
- red flags come first; the care they displace is *deferred* until they are excluded (listed, with the
  follow-ups that wait on it), never deleted; pain relief, assessments, "do not" advice, what the red flag spares
  (``sk:spares``: a suspected fracture keeps advice to stay active and heat) and the red flag's own management
  are never deferred, except the "do not" of imaging, of a later phase and of a pain-relief drug (NICE's "do not
  offer opioids" is for pain without a specific cause, which a red flag may be), and a "do not" that is advice the
  red flag holds back in other words (``sk:adviceAgainstIs``: "do not prescribe bed rest" waits with advice to stay
  active after significant trauma), and a "do not" of the very intervention a red flag defers in the same plan (NICE's
  no epidural for claudication waits with article 000's epidural); a red flag raised only by narrower triggers that
  name what they pre-empt (a fracture on age alone: :mod:`.narrowed`) holds back only that, and its urgent steps
  take their phase; a red flag the case confirms (a fracture seen on imaging) holds no care back, but a "do not" of
  imaging waits while it stands too (article 002's
  "no role in initial evaluation" is not said beside its own urgent MRI or CT); a later recommendation of an
  intervention an urgent red-flag step already gives is *covered* by that step; an urgent one's sentences stay with
  the step under its id (AO Spine's "We recommend surgical intervention for patients with moderate and severe DCM"
  under the myelopathy's urgent surgical referral), a routine or later one's are not its evidence (article 000's
  "MRI ... as the next diagnostic step" and its CT-versus-MRI caveats argue nothing for an emergency MRI);
- a recommendation a conflict is resolved against for the patient (``sk:resolvedAgainst`` in a presentation of
  ``sk:resolvedFor``: no oral or high-dose corticosteroids for sciatica) is *overridden*: not a step, its
  why-not names the conflict and its resolution, and the conflict is still shown;
- a treatment the case records as tried and failed is not offered again as initial care (advice to stay active and
  education are not courses that fail: they stay); one it records as contraindicated (``sk:contraindicates``) never;
  a lumbar operation it records as having helped, with when it was done, is not offered again as if never done while
  no symptom is new or progressing after it (the symptoms are residual: *already done*);
- within a phase: a red flag's own management first, then the screen for red flags, then what is due now
  (to do before to consider), then the rest; of each, the order a clinician reads aloud (``sk:careStage``:
  assessment and stratification, first-line care, escalation, referral, surgery, follow-up), and of one stage
  their sources' order (an article's steps in the article's order; of the guideline statements, which have none,
  what to do before what to consider, and non-drug options before drugs), "do not" last in their sources' order;
  an umbrella step (conservative care) lists the steps that are its parts, each step is given once (under
  its outermost umbrella), and the umbrella with its parts stands where the first of them would (a red
  flag's urgent MRI stays first).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from rdflib import URIRef

from ..case.paths import field_path, path_key
from ..consts import SK
from ..kb.index import local
from ..kb.mappings import code_side_warnings, unmapped_code_warnings
from ..reasoning.conditions import HOLDS, at_defaults
from ..reasoning.engine import CaseRun, Reasoner
from . import ahead, caveats, cleared, lines
from . import parts as planparts
from .adults import adult_sources_only
from .cautions import named_as_shown
from .clock import clock
from .concordance import (
    concordance,
    imaging_not_concordant,
    imaging_opposite_side,
    level_not_recorded,
    zone_not_recorded,
)
from .contraindications import contraindicated, contraindication_recorded, ruled_out, why_not
from .cover import covered_by_steps, urgent_steps
from .flags import red_flag_outputs
from .followup import early_review
from .history import failed_treatments, helped_operations, improving_care, previous_care
from .labs import tests_on_file
from .model import NotApplicable, Plan, Warning
from .narrowed import narrowed_flags, routine_phase, routine_why, screen_contradicted, screen_found_unnamed
from .parts import ADVICE, ANALGESIA, FAILED_OUTCOMES
from .steps import AFTER_CARE, ASSESSMENT, BY_WEEKS, plan_steps
from .superseded import superseded_studies
from .unanswered import candidacy_unanswered
from .words import Words, deferred_why

IMAGING = str(SK.ImagingIntervention)
OUTCOME, TREATMENT_TYPE, SCREEN_RESULT, NONE_FOUND = (
    str(SK[n]) for n in ("outcome", "treatmentType", "screenResult", "none_found")
)
URGENT = ("emergency", "urgent")
SPINE_SURGERY, AFTER_SURGERY = str(SK.spine_surgery), str(SK.new_or_progressing_after_lumbar_surgery)
PROGRESSING_ON_CARE = str(SK.condition_FindingPresent_candidate_pain_progressing_on_care)
CARE_FAILED = FAILED_OUTCOMES - {str(SK.not_tolerated)}


def assemble(reasoner: Reasoner, run: CaseRun) -> Plan:
    """Turn one case's reasoning results into its plan."""
    idx = reasoner.index
    recs = idx.recommendations
    case = run.case
    words = Words(idx, case, run.details, lambda: planparts.candidacy(reasoner, run))
    paths: dict[str, str] = {}

    def path(iri: str) -> str:
        known = paths.get(iri)
        if known is None:
            known = paths[iri] = field_path(case, iri)
        return known

    flags = sorted(run.red_flags)
    # a red flag the case confirms (a fracture seen on imaging) defers nothing: no exclusion will come
    confirmed = planparts.confirmed_flags(reasoner, run)
    holds_back = [f for f in flags if f not in confirmed]
    # a red flag raised only by narrower triggers that name what they pre-empt (a fracture on age alone) holds back
    # only that, defers no "do not" of a drug or a later phase, is worked up routinely and contradicts no screen
    narrowed = narrowed_flags(reasoner, run)
    wide = [f for f in holds_back if f not in narrowed]

    applying, not_applicable = [], []
    explicit = {a.recommendation: a for a in run.applicability}
    defaults = planparts.default_not_applicable(reasoner)
    ahead_of_time, failing = ahead.candidates(reasoner), {}
    for rec, conditions in reasoner.conditions.items():
        a = explicit.get(rec)
        if a is None:
            if rec in defaults:  # no case fact speaks to it: the same answer for every such case
                not_applicable.append(defaults[rec])
                if rec in ahead_of_time and defaults[rec].status == "fails":
                    failing[rec] = at_defaults(case, rec, conditions)
                continue
            a = at_defaults(case, rec, conditions)
        info = recs[a.recommendation]
        if a.status != "applies":
            not_applicable.append(planparts.not_applicable(reasoner, info, a, path))
            if rec in ahead_of_time and a.status == "fails":
                failing[rec] = a
            continue
        driven_by_flag = info.safety or any(c.kind == "RedFlagPresent" and c.status == HOLDS for c in a.conditions)
        applying.append((a, info, driven_by_flag))
    # the next rung ahead of time: a step after failed care while that care is under way (the plan begins it now, or
    # the case records it not failed yet), if symptoms persist; the care the plan begins is that of what it gives
    overridden = planparts.overridden(reasoner, run, [info for _, info, _ in applying])
    offered = [item for item in applying if item[1].iri not in overridden]
    shown_ahead, ahead_timing = ahead.add_pending(reasoner, run, failing, offered, not_applicable, path)
    applying += shown_ahead
    # a conflict resolved for the patient: the side it is resolved against is not given (the conflict is still shown)
    holding = {info.iri for _, info, _ in applying}
    overridden = planparts.overridden(reasoner, run, [info for _, info, _ in applying])
    applying = [item for item in applying if item[1].iri not in overridden]

    # red flags, and whether the applicable source recommendations act on them (a safety rule whose source is an
    # article's sentence, 003's surgical consultation for instability, is that article acting on it)
    red_flags, warnings = red_flag_outputs(reasoner, run, flags, applying, narrowed, words, path)

    warnings += cleared.excluded_flag_warnings(reasoner, run, words, path)
    screened = any(NONE_FOUND in d.get(SCREEN_RESULT, ()) for d in run.details.values())
    warnings += screen_contradicted(reasoner, flags, red_flags, narrowed, screened)
    warnings += screen_found_unnamed(not_applicable)  # found, but the case names no red flag

    # effective phase and timing of every applying recommendation; one about sciatica counts from the sciatica where
    # the case dates it apart from a longer episode (a course of care longer than the sciatica began before it), one
    # the KB times by a symptom of its own (sk:timedBy: a fracture's back pain) from that symptom (reasoner.plan.clock)
    timed = []
    failed = failed_treatments(reasoner, run)
    # care recorded as failing in this episode (unchanged, worse, failed; a drug not tolerated is no failed course):
    # without it, an option to consider whose weeks have come is due by the calendar alone, and waits in reading order
    # behind the first-line care (clinician's review R8 #3: an epidural "due now" above heat and exercise for a
    # sciatica of 7 weeks improving on an NSAID)
    care_failed = any(run.details[f].get(OUTCOME, set()) & CARE_FAILED for facts in failed.values() for f in facts)
    # and care recorded as having improved the patient, with none failing: an option to consider is not due by the
    # calendar while it helps (review R9 #6: an injection "due now" at 6 weeks for a mild S1 sciatica improved by
    # physiotherapy and an NSAID, once an MRI and candidacy were on file), but if symptoms stop improving
    improving = [] if care_failed else improving_care(reasoner, run)
    for a, info, driven in applying:
        due_now: bool | str = False  # True, False, AFTER_CARE or BY_WEEKS
        phase, timing = info.phase, None
        elapsed, of, since = clock(reasoner, run, info)
        if info.iri in ahead_timing:  # pending: the care it waits for has not failed yet, so never due now
            timing = ahead_timing[info.iri]
        elif info.phase == "if_persistent":
            if info.after_weeks is None:
                # no weeks in its source: due now that what it waits for failed, past the acute phase (002: "at least
                # 6 weeks" of conservative care first); in it, if symptoms persist, after the 6 weeks' referral; with
                # no duration recorded, now, after the care the plan still offers
                timing = "after failed treatment (recorded); its source gives no number of weeks"
                if elapsed is None or elapsed >= planparts.ACUTE_WEEKS:
                    phase, due_now = "now", True if elapsed is not None else AFTER_CARE
                else:
                    timing = timing.replace("; ", f", once symptoms persist past {planparts.ACUTE_WEEKS:g} weeks; ")
                    timing += since
            elif elapsed is not None and elapsed >= info.after_weeks and info.stance == "consider" and improving:
                timing = (
                    f"if symptoms persist or stop improving ({elapsed:g} weeks of {of} ≥ {info.after_weeks:g} weeks; "
                    f"care recorded as improving: {', '.join(path(f) for f in improving)})"
                )
            elif elapsed is not None and elapsed >= info.after_weeks:
                phase, due_now = "now", True if info.stance != "consider" or care_failed else BY_WEEKS
                timing = f"due now: {elapsed:g} weeks of {of} ≥ {info.after_weeks:g} weeks"
            else:
                timing = f"if symptoms persist after {info.after_weeks:g} weeks{since}"
        elif info.phase == "now" and any(
            c.status == HOLDS and (c.kind == "FailedTreatment" or c.condition == PROGRESSING_ON_CARE)
            for c in a.conditions
        ):
            # a procedure failed care makes due before untried options (a drug after a failed one: after non-drug care),
            # as care the symptoms progress on does (article 000's surgical consultation for such a candidate)
            due_now = not reasoner.index.is_a(info.intervention, ANALGESIA)
        elif info.phase == "follow_up" and info.interval_weeks:
            lo, hi = info.interval_weeks
            timing = f"in {lo:g} weeks" if lo == hi else f"every {lo:g}-{hi:g} weeks"
        if driven and phase in URGENT and (later_phase := routine_phase(reasoner, run, a, narrowed)):
            phase, timing = later_phase, (routine_why(reasoner, narrowed) if info.stance != "avoid" else timing)
        timed.append((a, info, driven, phase, timing, due_now))

    # what the red flags' own urgent steps already give or advise against; what waits until they are excluded; what
    # was tried
    urgent_do, urgent_avoid = urgent_steps(timed, "do", URGENT), urgent_steps(timed, "avoid", URGENT)
    urgent_consider = urgent_steps(timed, "consider", URGENT)
    urgent_order = sorted(urgent_do)
    done = helped_operations(reasoner, run)
    contra = contraindicated(reasoner, run, path)  # what the clinician recorded as ruled out: NSAIDs
    held: dict[tuple[str, str], list[str]] = defaultdict(list)
    # what the red flags displace: the classes they pre-empt in the KB (conservative care, injections, systemic
    # steroids); referrals, surgery and imaging from the sources are escalations a red flag does not hold back
    # (and what a red flag spares of them: a suspected fracture keeps advice to stay active and heat)
    displacing = [
        (
            [str(c) for c in reasoner.kb.objects(URIRef(f), SK.preempts)],
            [
                str(c)
                for c in reasoner.kb.objects(URIRef(f), SK.spares)
                if str(c) not in planparts.held_back(reasoner, run, f)
            ],
        )
        if f not in narrowed
        else (list(narrowed[f].preempts), list(narrowed[f].spares))
        for f in holds_back
    ]
    active, waiting, covered, preempted = [], [], defaultdict(list), list(overridden.values())
    parked: dict[str, tuple[str, str, list[str]]] = {}  # a deferred intervention to do or consider: why, until when,
    # the red flags it waits on
    defers: dict[str, list[str]] = defaultdict(list)  # red flag -> the interventions it defers
    flag_backs: dict[tuple[str, str], list] = defaultdict(list)  # covered by a red flag's step: its sentences stay
    flag_facts: dict[tuple[str, str], list[str]] = defaultdict(list)  # and another red flag's findings it acts on too
    tried: dict[str, list[str]] = defaultdict(list)
    tried_later: dict[str, list[str]] = defaultdict(list)
    avoids = [(info.iri, info.intervention) for _, info, *_ in timed if info.stance == "avoid"]
    for item in timed:
        a, info, driven, phase, timing, due_now = item
        interv, stance = info.intervention, info.stance
        pain_relief, assessment = idx.is_a(interv, ANALGESIA), idx.is_a(interv, ASSESSMENT)
        if driven:
            # a red flag's step another red flag gives (it, a narrower one: an MRI for "imaging", or one that includes
            # it: the same-day referral a within-days one) in a more urgent phase (cauda equina's emergency MRI,
            # infection's urgent one) is given once, by the more urgent step; a
            # "consider" also by a more urgent one to consider (one CT is ordered, not an emergency and an urgent one);
            # a red flag's routine step (an instability's surgical opinion) by another's urgent one (one referral)
            sooner = None
            if stance in ("do", "consider") and phase in (*URGENT, "now"):
                rank = URGENT.index(phase) if phase in URGENT else len(URGENT)
                sooner = next(
                    (
                        (u, given[u])
                        for given in ((urgent_do, urgent_consider) if stance == "consider" else (urgent_do,))
                        for u in sorted(given)
                        if URGENT.index(given[u]) < rank and (idx.is_a(u, interv) or idx.includes(u, interv))
                    ),
                    None,
                )
            if sooner is not None:
                covered[sooner].append(info.iri)
                flag_backs[sooner].append(info)
                flag_facts[sooner] += a.triggered_by
                why = (f"covered by the {sooner[1]} red-flag step {local(sooner[0])}, which already gives it",)
                preempted.append(NotApplicable(info.iri, info.label, "covered", why))
                continue
            active.append(item)
            continue
        if stance == "avoid" and interv in urgent_avoid:  # a red flag's urgent step says it: one step, both sources
            active.append((a, info, driven, urgent_avoid[interv], timing, due_now))
            continue
        related = next(
            (u for u in urgent_order if idx.is_a(interv, u) or idx.is_a(u, interv) or idx.includes(u, interv)),
            None,
        )
        if related is not None and stance in ("do", "consider"):
            covered[(related, urgent_do[related])].append(info.iri)
            if phase in URGENT:  # an urgent one's sentences stay; the routine "MRI as the next step" (000) argues
                flag_backs[(related, urgent_do[related])].append(info)  # nothing for an emergency (issue 12)
            why = (f"covered by the urgent red-flag step {local(related)}, which already gives it",)
            preempted.append(NotApplicable(info.iri, info.label, "covered", why))
            continue
        # ruled out for the patient (sk:contraindicates, it or a broader intervention): not offered, in any phase
        if stance in ("do", "consider") and (ruled := ruled_out(idx, interv, contra, pain_relief)):
            for r in ruled:
                held[r].append(info.iri)
            not_offered = why_not(idx, interv, contra, ruled, path)
            preempted.append(NotApplicable(info.iri, info.label, "contraindicated", (not_offered,)))
            continue
        # what was tried is not offered again, now or once a red flag is excluded (so it is not among the care that
        # waits for the exclusion either): a part of a failed umbrella (physiotherapy when "conservative care"
        # failed); pain relief only where that analgesic (or a narrower one) failed; a later step (an injection after
        # 6 weeks) where that intervention (or a narrower one) failed; advice is not a course that fails: it stays; a
        # failed course counts for the classes the KB says are the same course (sk:sameCourseAs: physio and exercise)
        initial = info.phase == "now"
        tried_as = [fs for t, fs in failed.items() if planparts.tried_as(idx, interv, t, initial, pain_relief)]
        if tried_as and lines.stays(reasoner, info.iri, failed, contra, avoids):  # a drug line is left (sk:drugLine)
            tried_as = []
        was_tried = [f for fs in tried_as for f in fs]
        if was_tried and stance in ("do", "consider") and not idx.is_a(interv, ADVICE):
            was_tried.sort(key=lambda f: path_key(path(f)))
            (tried if initial else tried_later)[interv].extend(was_tried)
            why = (f"already tried without success ({', '.join(path(f) for f in was_tried)}): not offered again",)
            preempted.append(NotApplicable(info.iri, info.label, "already_tried", why))
            continue
        # an operation done and recorded as having helped, the symptoms residual (none new or progressing after it):
        # not offered again as if never done (the operation, a narrower one, or the surgery it is a kind of)
        did = sorted(
            (f for t, fs in done.items() if idx.is_a(interv, t) or idx.is_a(t, interv) for f in fs),
            key=lambda f: path_key(path(f)),
        )
        if did and stance in ("do", "consider") and idx.is_a(interv, SPINE_SURGERY):
            why = (
                f"already done and it helped ({'; '.join(words.trigger(f)[1] for f in did)}): "
                "the symptoms began before it and none is new or progressing after it (residual), so it is not "
                "offered again as if never done; a symptom new after it (shorter than the weeks since), a "
                "progressive symptom or a new deficit would reopen it",
            )
            preempted.append(NotApplicable(info.iri, info.label, "already_done", why))
            continue
        # a "do not" that advises another intervention in other words (sk:adviceAgainstIs: "do not prescribe bed
        # rest" is advice to stay active) is displaced as that advice is: after significant trauma it waits with it
        advised = planparts.advice_against(reasoner, interv) if stance == "avoid" else ()
        # the red flags that displace it (each by its own sk:preempts and sk:spares: an instability only manipulation)
        displacers = [
            f
            for f, (preempts, spares) in zip(holds_back, displacing, strict=True)
            if any(
                any(idx.is_a(i, c) for c in preempts) and not any(idx.is_a(i, c) for c in spares)
                for i in advised or (interv,)
            )
        ]
        displaced = bool(displacers)
        # an assessment is not held back (red flag screening, correlating imaging), unless a red flag names it among
        # what it displaces (risk stratification for stratified care of non-specific pain); nor is pain relief, but
        # a "do not" of a pain-relief drug (NICE's opioids, paracetamol alone...) is for pain without a specific
        # cause: it waits while a red flag suspects one (the pain may be its; see sk:preempts' note in the KB)
        # a "do not" of imaging (article 002's no CT in initial evaluation) is advice for a presentation without a
        # specific cause: it waits while any red flag stands, one the case confirms too (its own imaging comes first)
        imaging_avoid = stance == "avoid" and idx.is_a(interv, IMAGING)
        waits_on = flags if imaging_avoid else holds_back
        if waits_on and (not pain_relief or stance == "avoid") and (not assessment or displaced):
            later = phase in ("if_persistent", "follow_up")
            # what every red flag spares is not held back in a later phase either (a confirmed fracture's
            # augmentation does not wait until the suspected fracture is excluded)
            # (and a narrowed red flag holds back no later step but what it pre-empts)
            later_by = [
                f
                for f, (preempts, spares) in zip(holds_back, displacing, strict=True)
                if later
                and not any(idx.is_a(interv, c) for c in spares)
                and (f not in narrowed or any(idx.is_a(interv, c) for c in preempts))
            ]
            later = bool(later_by)
            if (
                imaging_avoid
                or (stance in ("do", "consider") and (displaced or later))
                or (stance == "avoid" and ((wide and (pain_relief or later)) or (bool(advised) and displaced)))
            ):
                # it waits on the red flags that hold it back, not on every one the case raises (an instability
                # beside a suspected infection holds back manipulation, not the rest of conservative care: R17 #6)
                if not imaging_avoid:
                    holders = set(displacers) | set(later_by)
                    if stance == "avoid" and (pain_relief or later):
                        holders |= set(wide)
                    waits_on = [f for f in holds_back if f in holders] or waits_on
                for f in waits_on:
                    defers[f].append(interv)
                reason, waits = deferred_why(idx, waits_on, confirmed)
                preempted.append(NotApplicable(info.iri, info.label, "deferred", (reason,)))
                waiting.append((a, info, driven, phase, waits, False))
                if stance != "avoid":
                    parked[interv] = (reason, waits, waits_on)
                continue
        active.append(item)
    # a "do not" of what a red flag defers in this plan (NICE's no epidural for claudication beside article 000's
    # epidural, held back by an instability) waits with it: one disagreement, its two sides resumed together (R14 #5)
    # (that intervention itself: a "do not" of acupuncture does not wait with conservative care as a whole)
    for item in [i for i in active if i[1].stance == "avoid" and not i[2] and i[1].intervention in parked]:
        active.remove(item)
        reason, waits, waits_on = parked[item[1].intervention]
        for f in waits_on:
            defers[f].append(item[1].intervention)
        reason += "; it waits with the step it advises against, deferred by the same red flag"
        preempted.append(NotApplicable(item[1].iri, item[1].label, "deferred", (reason,)))
        waiting.append((item[0], item[1], False, item[3], waits, False))

    # a "consider" of what another recommendation says to do in the same phase, and what a step's study includes (an
    # MRI without contrast where one without and with contrast is done), are given by that step
    active, backs, given, covering = covered_by_steps(idx, active, covered)
    for by, infos in flag_backs.items():  # every recommendation a step rests on keeps its sentences on it
        backs[by] = [*backs.get(by, ()), *infos]
    preempted += covering
    # pain relief the case records as tried at all (any outcome): where none was, the analgesia the plan offers stands
    # before an escalation to consider that failed care made due (physiotherapy alone is not all first-line care)
    # in this episode (care of a previous episode is history)
    previous = previous_care(reasoner, run)
    analgesia_tried = any(
        idx.is_a(t, ANALGESIA) for f, d in run.details.items() if f not in previous for t in d.get(TREATMENT_TYPE, ())
    )
    steps = plan_steps(
        reasoner, active, words, covered, backs, given, analgesia_tried=analgesia_tried, backs_facts=flag_facts
    )
    steps = tests_on_file(reasoner, run, steps, path)  # a work-up's tests the case records are named on it
    deferred = plan_steps(reasoner, waiting, words, {}, {}, numbered=False)  # deferred care is not numbered
    # each red flag names the deferred steps it holds back (in the deferred list's order)
    held_ids = {local(f): {local(i) for i in ivs} for f, ivs in defers.items()}
    red_flags = [
        replace(f, defers=tuple(dict.fromkeys(s.id for s in deferred if s.id in held_ids.get(f.id, ()))))
        for f in red_flags
    ]
    by_fact: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for side, given in enumerate((tried, tried_later)):
        for interv, facts in given.items():
            for f in facts:
                by_fact[f][side].add(interv)
    for fact in sorted(by_fact, key=lambda f: path_key(path(f))):
        as_initial, as_later = (", ".join(sorted(idx.label(i) for i in side)) for side in by_fact[fact])
        said = []
        if as_initial:
            said.append(f"so not offered again as initial care: {as_initial}; the plan's later steps (if persistent, "
                        "after failed care) are the next ones")  # fmt: skip
        if as_later:
            said.append(f"so not offered again as a later step: {as_later}")
        # a drug stopped for its side effects is not a trial that failed (review R11, defect 10: "tried without
        # success" read as "try another of the class")
        how = "tried without success"
        if str(SK.not_tolerated) in run.details.get(fact, {}).get(OUTCOME, ()):
            how = "not tolerated (stopped for its side effects)"
        warnings.append(
            Warning(
                "already_tried",
                f"{words.trigger(fact)[1]}: {how}, {'; and '.join(said)}",
                (path(fact), *sorted(local(i) for i in set().union(*by_fact[fact]))),
            )
        )
    warnings += contraindication_recorded(idx, held, path)
    conflicts = planparts.conflicts(reasoner, holding, steps)
    if conflicts:  # on each step that is a side of one, about what the conflict is about
        steps = planparts.tag_steps(reasoner, conflicts, steps)
    warnings += planparts.fact_warnings(reasoner, run, not_applicable)
    warnings += candidacy_unanswered(reasoner, run, steps, deferred, not_applicable)
    warnings += adult_sources_only(reasoner, run, steps)
    warnings += planparts.population_warnings(reasoner, run, [info for _, info, *_ in active])
    # what the plan leaves to the clinician: no pain relief left, the age the sources disagree on, a listed red-flag
    # trigger spinekg does not act on alone, a presentation a finding suggests that the case does not establish
    warnings += caveats.caveats(reasoner, run, steps, failed, path, contra, deferred)
    warnings += zone_not_recorded(reasoner, run) + level_not_recorded(reasoner, run)  # no zone or level: what decides
    matched = concordance(reasoner, run)
    warnings += imaging_not_concordant(reasoner, run, matched)  # imaging that explains none of a root's symptoms
    warnings += imaging_opposite_side(reasoner, run, matched, steps)  # … but reaches their root on the other side
    # a study from before an operation, or before this episode, read as today's anatomy (review R20 #2, #7)
    warnings += superseded_studies(reasoner, run, matched, steps, path)
    # issue 5: a finding the case gave as an external code that maps to no spinekg term (unmapped_codes: warn)
    warnings += [Warning(*w) for w in unmapped_code_warnings(run.case, run.fact_types)]
    # a code whose display names a side, on a finding recorded without one: the side is not taken from the display
    warnings += [Warning(*w) for w in code_side_warnings(run.case, run.fact_types, run.details)]
    # a warning asking for an early review brings the follow-up forward, and names it (review R12 #5)
    steps, warnings = early_review(reasoner, run, steps, warnings)
    warnings = named_as_shown(steps, warnings)  # a "do" shown to consider is named so
    return Plan(
        case=case.rsplit("/", 1)[-1],
        kb_version=reasoner.kb_version,
        red_flags=tuple(red_flags),
        steps=tuple(steps),
        warnings=tuple(warnings),
        conflicts=tuple(conflicts),
        not_applicable=tuple(sorted(not_applicable, key=lambda n: n.recommendation)),
        preempted=tuple(sorted(preempted, key=lambda n: n.recommendation)),
        concordance=tuple(matched),
        presentations=planparts.presentations(reasoner, run),
        deferred=tuple(deferred),
        summary=words.summary(),
    )
