"""The parts of a plan around its steps: the presentations, the warnings, and where the sources disagree."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace

from rdflib import URIRef

from ..case.paths import field_path, path_key
from ..consts import RDFS, SK, SK_IRI
from ..kb.index import KBIndex, RecInfo, local
from ..reasoning.conditions import FAILS, HOLDS, UNKNOWN, Applicability, at_defaults
from ..reasoning.engine import CaseRun, Reasoner
from .jsontext import share
from .model import ConflictOut, ConflictSide, NotApplicable, PresentationOut, Step, Warning


def presentations(reasoner: Reasoner, run: CaseRun) -> tuple[PresentationOut, ...]:
    """The case's clinical presentations, most specific first within the KB's order of definition."""
    idx = reasoner.index
    case = run.case
    named = run.presentations
    out = []
    for p in sorted(named, key=lambda p: local(p)):
        triggers = tuple(sorted({field_path(case, f) for f in named[p]}, key=path_key))
        if not triggers and run.episode_weeks is not None and local(p).endswith("_phase"):
            triggers = (f"{run.episode_weeks:g} weeks (symptoms[].duration_weeks)",)
        elif not triggers and run.sciatica_weeks is not None and p in sciatica_phases(reasoner):
            triggers = (f"{run.sciatica_weeks:g} weeks (symptoms[].duration_weeks)",)
        out.append(PresentationOut(local(p), idx.label(p), triggers))
    return tuple(out)


_HEIGHT_LOSS = str(SK.vertebral_height_loss)
ADVICE = str(SK.Advice)
# the outcomes the plan reads as tried without success
FAILED_OUTCOMES = frozenset(str(SK[o]) for o in ("unchanged", "worse", "failed", "not_tolerated"))
#: axial pain, and the axial pain that is low back pain (rule derive-low-back-axial-pain: not only above L1)
_AXIAL, _LOW_BACK_AXIAL = str(SK.axial_pain), str(SK.low_back_axial_pain)


#: NICE NG59 is for people over 16 ("Low back pain and sciatica in over 16s"); the ACR and ACP guidelines are for
#: adults: under this age, a plan is outside its sources' population.
ADULT_AGE = 16
ACUTE_WEEKS = 6  # the acute phase's upper bound (sk:acute_phase: an episode under 6 weeks)
ACP_ACUTE = 4  # ACP 2017's: acute under 4 weeks, subacute 4 to 12
_AGE = str(SK.age)
_CANDIDACY = str(SK.candidacy)
#: pain relief: the analgesics and what gives them (sk:pain_management and narrower)
ANALGESIA = str(SK.pain_management)


def fact_warnings(reasoner: Reasoner, run: CaseRun, not_applicable: list[NotApplicable]) -> list[Warning]:
    out = []
    waiting: dict[str, list[str]] = defaultdict(list)
    for n in not_applicable:
        if n.status == "unknown":
            for m in n.missing:
                waiting[m].append(local(n.recommendation))
    for fieldname, rec_ids in sorted(waiting.items()):
        message = f"the case does not record {fieldname}: {len(rec_ids)} recommendation(s) cannot be decided without it"
        if fieldname == "imaging":  # not a prompt to image: the plan's imaging steps say whether imaging is due
            message += " (not in itself a reason to image: see the plan's imaging steps)"
        out.append(Warning("missing_fact", message, (fieldname, *sorted(rec_ids))))
    ages = [float(a) for a in run.details.get(run.case + "/patient", {}).get(_AGE, ())]
    if ages and (age := min(ages)) < ADULT_AGE:
        out.append(
            Warning(
                "outside_adult_guidelines",
                f"age {age:g}: the guidelines and articles this plan rests on are for adults (NICE NG59 is for people "
                f"over {ADULT_AGE}); back pain in a child or young adolescent is not adult low back pain, and its "
                "causes and red flags differ: read this plan as out of its sources' scope (spinekg's judgement)",
                ("age",),
            )
        )
    above = pain_above_l1(run)
    if above:
        paths = tuple(sorted((field_path(run.case, f) for f in above), key=path_key))
        out.append(
            Warning(
                "outside_low_back_sources",
                f"axial pain recorded only in dermatomes above L1 ({', '.join(paths)}): mid-back or neck pain, not low "
                "back pain. The guidelines and articles this plan rests on are about low back pain and sciatica (NICE "
                "NG59, ACP 2017, ACR Appropriateness Criteria Low Back Pain 2021: pain in the lumbar region), so their "
                "low back pain advice is not given for it: read this plan as out of its sources' scope for that pain "
                "(spinekg's judgement)",
                paths,
            )
        )
    height_loss = [f for f, types in run.fact_types.items() if _HEIGHT_LOSS in types]
    if height_loss and str(SK.fracture_suspected) not in run.red_flags:
        path = ", ".join(sorted(field_path(run.case, f) for f in height_loss))
        out.append(
            Warning(
                "fracture_not_excluded",
                f"vertebral height loss ({path}) without a fracture red flag: a fracture is only suspected from it "
                "when it is new in a patient aged 65 or over; check the age, whether the height loss is new, and "
                "the fracture risk factors (osteoporosis, trauma, prolonged corticosteroid use)",
                tuple(sorted(field_path(run.case, f) for f in height_loss)),
            )
        )
    return out


def pain_above_l1(run: CaseRun) -> list[str]:
    """The case's axial pains recorded only in dermatomes above L1 (mid-back or neck pain): axial pain that is not
    low back pain (rule derive-low-back-axial-pain)."""
    return [f for f, types in run.fact_types.items() if _AXIAL in types and _LOW_BACK_AXIAL not in types]


def sciatica_phases(reasoner: Reasoner) -> frozenset[str]:
    """The phases of a sciatica dated apart from its episode (``sk:SciaticaPhase``: acute, subacute, chronic sciatica,
    which the recommendations about sciatica read through ``sk:sciaticaPhase``), once per reasoner."""
    key = ("sciatica_phases",)
    if key not in reasoner.cache:
        reasoner.cache[key] = frozenset(str(p) for p in reasoner.kb.subjects(RDFS.subClassOf, SK.SciaticaPhase))
    return reasoner.cache[key]


def sciatica_timed(reasoner: Reasoner) -> frozenset[str]:
    """The recommendations about sciatica, whose timing ("if symptoms persist after N weeks", "due now") counts from the
    sciatica where the case dates it apart from a longer episode (``sk:sciaticaWeeks``), once per reasoner: those
    whose population (a ``PresentationPresent`` condition) is the lumbosacral radicular syndrome or a narrower
    presentation, or that read a phase of the sciatica (``sk:sciaticaPhase``), unless a population of theirs is low
    back pain itself (``low_back_pain_presentation``, with or without sciatica: ACR variant 3 counts from the episode).
    """
    key = ("sciatica_timed",)
    if key not in reasoner.cache:
        idx, radicular, lbp = reasoner.index, str(SK.lumbosacral_radicular_syndrome), str(SK.low_back_pain_presentation)
        params, found = reasoner.condition_params, set()
        for rec, conds in reasoner.conditions.items():
            populations = {
                p
                for c, kind in conds
                if kind == "PresentationPresent"
                for p in params.get(c, {}).get(str(SK.presentation), ())
            }
            reads_phase = any(params.get(c, {}).get(str(SK.sciaticaPhase)) for c, _ in conds)
            if lbp not in populations and (reads_phase or any(idx.is_a(p, radicular) for p in populations)):
                found.add(rec)
        reasoner.cache[key] = frozenset(found)
    return reasoner.cache[key]


def phase_recommendations(reasoner: Reasoner) -> frozenset[str]:
    """The recommendations with a condition on a duration phase (acute, subacute, chronic), once per reasoner."""
    key = ("phase_recs",)
    if key not in reasoner.cache:
        kb, phases = reasoner.kb, {str(SK.acute_phase), str(SK.subacute_phase), str(SK.chronic_phase)}
        reasoner.cache[key] = frozenset(
            str(rec)
            for rec, cond in kb.subject_objects(SK.hasCondition)
            if str(kb.value(cond, SK.presentation)) in phases
        )
    return reasoner.cache[key]


def candidacy(reasoner: Reasoner, run: CaseRun) -> tuple[str, ...]:
    """What the case records the patient as a candidate for, as far as a condition asks (a ``CandidateFor`` that
    holds, a ``NotCandidateFor`` that fails: the case itself is their fact). A condition naming several candidacies
    holds on any one of them, so only those naming one say which the case records (the KB has one for each)."""
    said = {
        c
        for a in run.applicability
        for r in a.conditions
        if (r.kind, r.status) in (("CandidateFor", HOLDS), ("NotCandidateFor", FAILS))
        for cs in [reasoner.condition_params.get(r.condition, {}).get(_CANDIDACY, ())]
        if len(cs) == 1
        for c in cs
    }
    return tuple(sorted(said))


def population_warnings(reasoner: Reasoner, run: CaseRun, applying: list[RecInfo]) -> list[Warning]:
    """A step resting on evidence from another population; the phase cut-offs the sources disagree on."""
    kb = reasoner.kb
    key = ("evidence_population",)
    if key not in reasoner.cache:
        reasoner.cache[key] = {str(r): str(p) for r, p in kb.subject_objects(SK.evidencePopulation)}
    populations = reasoner.cache[key]
    out = []
    for info in applying:
        pop = populations.get(info.iri)
        if pop and pop not in run.presentations:
            out.append(
                Warning(
                    "evidence_from_other_population",
                    f"{local(info.iri)} ({info.label}) rests on evidence gathered in {reasoner.index.label(pop)}, "
                    "which this case is not classified in: weigh it accordingly",
                    (local(info.iri), local(pop)),
                )
            )
    phases = sorted(local(p) for p in run.presentations if local(p).endswith("_phase"))
    by_phase = sorted(local(i.iri) for i in applying if i.iri in phase_recommendations(reasoner))
    mine = sorted(local(p) for p in run.presentations if p in sciatica_phases(reasoner))
    apart = bool(mine) and run.sciatica_weeks is not None
    # the cut-offs differ only from 4 to under 6 weeks (ACP's subacute, spinekg's acute); past 12 both say chronic,
    # and NICE has no phases to differ on: said there, or where a sciatica dated apart has a phase of its own (review
    # R5: the warning stood on 68 of 90 plans)
    disputed = any(w is not None and ACP_ACUTE <= w < ACUTE_WEEKS for w in (run.episode_weeks, run.sciatica_weeks))
    if phases and by_phase and (disputed or apart):
        weeks = f"{run.episode_weeks:g} weeks" if run.episode_weeks is not None else "its duration"
        if apart:  # a sciatica dated apart: the recommendations about it read its own
            weeks += f" (its sciatica, dated apart, in the {mine[0].replace('_', ' ')} at {run.sciatica_weeks:g} weeks)"
        out.append(
            Warning(
                "phase_cutoffs_differ",
                f"this case is in the {phases[0].replace('_', ' ')} at {weeks}, with spinekg's cut-offs (acute under 6 "
                "weeks, subacute 6 to 12, chronic over 12); sources disagree: ACP 2017 counts acute as under 4 weeks "
                "and subacute as 4 to 12, NICE NG59 uses no duration phases",
                (phases[0], *by_phase),
            )
        )
    return out


def confirmed_flags(reasoner: Reasoner, run: CaseRun) -> dict[str, list[str]]:
    """The case's red flags that a presentation of the case confirms (``sk:confirmedBy``: a suspected vertebral
    fracture with new vertebral height loss on imaging), each with those presentations: they defer no care."""
    idx = reasoner.index
    out = {}
    for flag in run.red_flags:
        hit = sorted(p for p in run.presentations for c in idx.confirmed_by(flag) if idx.is_a(p, c))
        if hit:
            out[flag] = hit
    return out


def held_back(reasoner: Reasoner, run: CaseRun, flag: str) -> set[str]:
    """What a red flag holds back although it spares it elsewhere, because a finding that raised it says so
    (``sk:holdsBack``: a suspected fracture after significant trauma holds advice to stay active back)."""
    kb = reasoner.kb
    return {
        str(c)
        for f in run.red_flags[flag]
        for t in run.fact_types.get(f, ())
        for c in kb.objects(URIRef(t), SK.holdsBack)
    }


def advice_against(reasoner: Reasoner, intervention: str) -> tuple[str, ...]:
    """What a recommendation against ``intervention`` advises in other words (``sk:adviceAgainstIs``): "do not
    prescribe bed rest" is advice to stay active, and is deferred wherever a red flag holds that advice back.

    >>> from reasoner.api import default_reasoner
    >>> advice_against(default_reasoner(), str(SK.bed_rest))
    ('https://w3id.org/spinekg/stay_active_advice',)
    """
    return reasoner.index.advised.get(intervention, ())  # read from the KB once, not per case


def overridden(reasoner: Reasoner, run: CaseRun, applying: list[RecInfo]) -> dict[str, NotApplicable]:
    """The applying recommendations a conflict is resolved against for this case (``sk:resolvedAgainst``: the case
    is in a presentation the conflict is resolved for, ``sk:resolvedFor``, or a narrower one, and in none it is not
    resolved in, ``sk:resolvedUnless``, and the conflict is live for the case as :func:`conflicts` shows it: a member
    on the other side applies too, or is an external guideline), each with its why-not: not a step, the conflict
    still shown."""
    idx = reasoner.index
    resolutions = idx.resolutions
    holding = {info.iri for info in applying}
    out = {}
    for info in applying:
        for conflict, where, unless, text in resolutions.get(info.iri, ()):
            members = idx.conflicts[conflict][2] if conflict in idx.conflicts else ()
            if not any((m in holding or m not in idx.recommendations) and idx.opposes(info.iri, m) for m in members):
                continue  # the other side is silent for this case: nothing to resolve
            hit = sorted(p for p in run.presentations if any(idx.is_a(p, w) for w in where))
            if hit and not any(idx.is_a(p, u) for p in run.presentations for u in unless):
                where_now = ", ".join(map(local, hit))
                why = f"overridden where sources disagree ({local(conflict)}; the case is in {where_now})"
                why += f": {text}" if text else ""
                out[info.iri] = NotApplicable(info.iri, info.label, "overridden", (why,))
                break
    return out


def live(reasoner: Reasoner, conflict: str, members: tuple[str, ...], applying: set[str]) -> bool:
    """Whether a conflict's sources disagree on this patient: two members on different sides (``KBIndex.opposes``)
    both bear on the case, each a recommendation that applies (deferred by a red flag or overridden by a resolution
    included: ``applying`` is taken before either) or an external guideline (which never "applies": it speaks for
    itself). A side whose recommendations do not apply here leaves nothing to disagree with. An external guideline
    whose disagreement is its scope (NICE NG59 considers an epidural only in acute and severe sciatica) does not
    disagree where its own recommendation applies (``sk:notLiveWhere``)."""
    idx = reasoner.index
    if idx.moot_where.get(conflict, frozenset()) & applying:
        return False
    standing = [m for m in members if m in applying or m not in idx.recommendations]
    return any(idx.opposes(a, b) for i, a in enumerate(standing) for b in standing[i + 1 :])


def conflicts(reasoner: Reasoner, applying: set[str], steps: list[Step]) -> list[ConflictOut]:
    """The conflicts live for this case (:func:`live`: the plan's conflicts[] and its "where sources disagree" list
    no disagreement only one side of which bears on the patient), then a "do not" beside a "do" or "consider" of the
    same intervention that no such conflict names."""
    idx = reasoner.index
    out = []
    for iri, (label, description, members) in sorted(idx.conflicts.items()):
        if not live(reasoner, iri, members, applying):
            continue
        sides = tuple(
            ConflictSide(
                m,
                idx.label(m),
                idx.recommendations[m].source if m in idx.recommendations else "external",
                m in applying,
            )
            for m in members
        )
        out.append(ConflictOut(local(iri), label, description, sides))
    # a do/consider and an avoid of related interventions in the same plan, unless a conflict of the KB shown above
    # already names both (the sources' disagreement, said once, in its own words), or the plan orders them: an avoid
    # for the acute phase only (under 6 weeks) and the step due if symptoms persist after 6 weeks or more
    named = [{side.member for side in c.sides if side.applies} for c in out]
    others = [(s, idx.above(SK_IRI + s.id)) for s in steps if s.stance != "avoid"]  # idx.is_a(o, a): a in above(o)
    for avoid in (s for s in steps if s.stance == "avoid"):
        a = SK_IRI + avoid.id
        for other, above in others:
            if a not in above:  # doing what the avoid covers (avoiding a subtype of what is done is no conflict)
                continue
            if any(set(avoid.recommendations) & m and set(other.recommendations) & m for m in named):
                continue
            if not _sequenced(reasoner, avoid, other):
                sides = (
                    ConflictSide(
                        avoid.recommendation,
                        idx.label(avoid.recommendation),
                        idx.recommendations[avoid.recommendation].source,
                        True,
                    ),
                    ConflictSide(
                        other.recommendation,
                        idx.label(other.recommendation),
                        idx.recommendations[other.recommendation].source,
                        True,
                    ),
                )
                out.append(
                    ConflictOut(
                        f"stance_{avoid.id}_{other.id}",
                        f"avoid {avoid.label} vs {other.stance} {other.label}",
                        f"One applicable recommendation says to avoid {avoid.label}; another says to {other.stance} "
                        f"{other.label}. Both are in the plan: decide with the patient.",
                        sides,
                    )
                )
    return out


def tag_steps(reasoner: Reasoner, conflicts: list[ConflictOut], steps: list[Step]) -> list[Step]:
    """Each step with the plan's conflicts it is a side of: a conflict of the KB where one of the step's
    recommendations is a member and the step's intervention is one the conflict is about (``sk:conflictAbout``), a
    narrower or a broader one (NICE's sentence against gabapentinoids, oral corticosteroids and benzodiazepines for
    sciatica is a side of the disagreement about muscle relaxants; its step of gabapentinoids is not); a stance clash
    this plan found (``stance_…``) on its two steps."""
    idx = reasoner.index
    sides = []
    for c in conflicts:
        about = idx.conflict_subjects.get(SK_IRI + c.id)
        sides.append((c.id, frozenset(x.member for x in c.sides), about))
    out = []
    for s in steps:
        above = idx.above(SK_IRI + s.id)
        ids = tuple(
            cid
            for cid, members, about in sides
            if not members.isdisjoint(s.recommendations)
            and (about is None or any(a in above or idx.is_a(a, SK_IRI + s.id) for a in about))
        )
        out.append(replace(s, conflicts=ids) if ids else s)
    return out


def _sequenced(reasoner: Reasoner, avoid: Step, other: Step) -> bool:
    """Whether an avoid and a step of a related intervention follow one another in time: every recommendation of the
    avoid is for the acute phase only (under 6 weeks: article 002's "not before 6 weeks of conservative therapy"), and
    the other step waits until symptoms persist after 6 weeks or more (article 000's epidural after 6 weeks)."""
    if other.phase != "if_persistent" or (other.after_weeks or 0) < ACUTE_WEEKS:
        return False
    acute = str(SK.acute_phase)
    return all(
        any(
            kind == "PresentationPresent"
            and acute in reasoner.condition_params.get(cond, {}).get(str(SK.presentation), ())
            for cond, kind in reasoner.conditions.get(rec, ())
        )
        for rec in avoid.recommendations
    )


def not_applicable(reasoner: Reasoner, info: RecInfo, a: Applicability, path) -> NotApplicable:
    """A recommendation's why-not: each condition that fails (with the facts recorded) or is unknown (with the
    fields the case does not record)."""
    why: list[str] = []
    missing: list[str] = []
    for c in a.conditions:
        text = reasoner.describe_condition(c.condition, c.kind)
        if c.status == FAILS:
            extra = f": recorded {', '.join(path(f) for f in c.facts)}" if c.facts else ""
            why.append(f"{text} does not hold{extra}")
        elif c.status == UNKNOWN:
            why.append(f"{text} is unknown: the case does not record {', '.join(c.missing)}")
            missing += c.missing
    return NotApplicable(info.iri, info.label, a.status, tuple(why), tuple(sorted(set(missing))))


def default_not_applicable(reasoner: Reasoner) -> dict[str, NotApplicable]:
    """Recommendation → its not-applicable entry for a case none of whose facts speak to it (kept per reasoner)."""
    if "default_not_applicable" not in reasoner.cache:
        out = {}
        for rec, conditions in reasoner.conditions.items():
            a = at_defaults("", rec, conditions)
            if a.status != "applies":
                out[rec] = not_applicable(reasoner, reasoner.index.recommendations[rec], a, None)
                share(out[rec])
        reasoner.cache["default_not_applicable"] = out
    return reasoner.cache["default_not_applicable"]


def tried_as(idx: KBIndex, interv: str, failed: str, initial: bool, pain_relief: bool) -> bool:
    """Whether a failed treatment means ``interv`` is not offered again: initial care that is part of a failed
    umbrella; else what the failed one is part of, and, for pain relief, the drugs in a failed drug class (a failed
    opioid: short-term and weak opioids), never by the analgesia umbrella itself ("pain management" failed)."""
    is_a = idx.same_course_is_a
    if initial and not pain_relief:
        return is_a(interv, failed)
    drug_class = pain_relief and failed != ANALGESIA and idx.is_a(failed, ANALGESIA)
    return is_a(failed, interv) or (drug_class and idx.is_a(interv, failed))


def offered_again(idx: KBIndex, steps: Iterable[Step], treatments: Iterable[str]) -> list[Step]:
    """The steps to do or consider (not a red flag's) that a course of these treatment types would take off had it
    failed (:func:`tried_as`): what the plan offers again of a course whose outcome it does not read (none recorded;
    a previous episode's). Advice is not a course that fails: it stays whatever the outcome."""
    treatments = list(treatments)
    return [
        s
        for s in steps
        if s.stance in ("do", "consider")
        and not s.safety
        and not idx.is_a(SK_IRI + s.id, ADVICE)
        and any(
            tried_as(idx, SK_IRI + s.id, t, s.phase == "now", idx.is_a(SK_IRI + s.id, ANALGESIA)) for t in treatments
        )
    ]


def unique(items: Iterable[str]) -> list[str]:
    """The items once each, in their first order."""
    return list(dict.fromkeys(items))


def by_class(reasoner: Reasoner, prop: URIRef, inverse: bool = False) -> dict[str, list[str]]:
    """Finding class → the terms the KB relates it to by ``prop`` (its subjects, with ``inverse``), made once per
    reasoner."""
    key = ("by_class", str(prop), inverse)
    if key not in reasoner.cache:
        made: dict[str, list[str]] = {}
        for a, b in reasoner.kb.subject_objects(prop):
            made.setdefault(str(b if inverse else a), []).append(str(a if inverse else b))
        reasoner.cache[key] = made
    return reasoner.cache[key]


def recorded(run: CaseRun, path: Callable[[str], str], by_class: dict[str, list[str]]) -> list[tuple[str, list[str]]]:
    """The case's facts of a class ``by_class`` names (:func:`by_class`), in the case's field order, each with those
    classes, sorted: only the facts found are sorted, most plans have none."""
    found = [
        (fact, sorted(c for c in types if c in by_class))
        for fact, types in run.fact_types.items()
        if not by_class.keys().isdisjoint(types)
    ]
    return sorted(found, key=lambda fc: path_key(path(fc[0])))


def other_listed_triggers(
    reasoner: Reasoner, run: CaseRun, flag: str, path: Callable[[str], str]
) -> list[tuple[str, list[str]]]:
    """The case's findings ``red_flags.csv`` lists among a raised red flag's triggers that do not raise it alone
    (``sk:listedTriggerOf``, ``sk:accompanyingTriggerOf``: night pain beside a cancer history), other than those that
    raised it, in field order, each with the classes that make it one: its "because" names every trigger recorded."""
    raising = run.red_flags.get(flag, ())
    listed, also = by_class(reasoner, SK.listedTriggerOf), by_class(reasoner, SK.accompanyingTriggerOf)
    found = recorded(run, path, {c: [flag] for c, fs in (*listed.items(), *also.items()) if flag in fs})
    return [(fact, classes) for fact, classes in found if fact not in raising]
