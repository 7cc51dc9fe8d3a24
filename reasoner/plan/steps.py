"""A plan's steps from the recommendations that apply: one step per intervention, stance and phase, in reading order,
umbrella steps followed by their parts, each with the evidence of the recommendations it gives (see ``assemble``'s
docstring for the rules a clinician reads the plan by)."""

from __future__ import annotations

from collections import defaultdict
from operator import attrgetter

from rdflib import URIRef

from ..case.paths import path_key
from ..consts import SK, SK_IRI
from ..kb.index import KBIndex, RecInfo, local
from ..reasoning.conditions import HOLDS
from ..reasoning.engine import Reasoner
from . import parts as planparts
from .jsontext import share
from .model import EvidenceOut, Step, Trigger, step_numbers
from .parts import ANALGESIA
from .words import Words

RED_FLAG_SCREENING, SEVERE_PAIN, FINDING_TYPE = str(SK.red_flag_screening), str(SK.severe_pain), str(SK.findingType)
#: a step after failed care whose source gives no weeks: after the care still to do, before the options to consider
AFTER_CARE = "after_care"
# due now by its weeks alone, with no care recorded as failing: read with the options to consider, not before them
BY_WEEKS = "by_weeks"
#: the class whose sk:careStage is that of assessment and stratification (examinations, risk stratification)
ASSESSMENT = str(SK.Assessment)
#: the class whose sk:careStage is the first of escalation (injections), before referral and surgery
ESCALATION = str(SK.interventional_procedure)


def evidence_of(reasoner: Reasoner, info: RecInfo) -> tuple[EvidenceOut, ...]:
    """A recommendation's evidence as plans show it (made once per recommendation, shared by every plan)."""
    key = ("evidence", info.iri)
    if key not in reasoner.cache:
        out = tuple(
            EvidenceOut(
                e.source, e.citation, e.quote, "; ".join(e.references) or None, e.citation_status, e.section, info.id
            )
            for e in info.evidence
        )
        for e in out:
            share(e)
        reasoner.cache[key] = out
    return reasoner.cache[key]


def for_severe_pain(reasoner: Reasoner, applicability) -> bool:
    """Whether a recommendation applies because the case records severe pain (a ``FindingPresent`` condition of
    ``sk:severe_pain`` or narrower that holds): article 002's "judicious short-term opioids for severe pain"."""
    idx, params = reasoner.index, reasoner.condition_params
    return any(
        idx.is_a(t, SEVERE_PAIN)
        for c in applicability.conditions
        if c.kind == "FindingPresent" and c.status == HOLDS
        for t in params.get(c.condition, {}).get(FINDING_TYPE, ())
    )


def plan_steps(
    reasoner: Reasoner,
    items: list,
    words: Words,
    covered: dict,
    backs: dict,
    given=None,
    numbered: bool = True,
    analgesia_tried: bool = True,
    backs_facts: dict | None = None,
) -> list[Step]:
    """One step per intervention, stance and phase, in reading order, umbrella steps followed by their parts; a
    step's evidence ends with that of the recommendations it covers (``backs``), and it stands where the earliest of
    the steps it gives in their place would (``given``: the MRI without contrast due now, covered by the one without
    and with contrast). In a phase with an escalation to consider that failed care made due, what the phase says to
    do, and the pain relief where the case records none tried (``analgesia_tried`` false) or that is for the severe
    pain it records, stand before it. ``backs_facts``: the findings of another red flag a step acts on too (its routine
    referral, covered by this urgent one), among the step's triggers."""
    idx = reasoner.index
    grouped: dict[tuple[str, str, str], list] = defaultdict(list)
    for a, info, _driven, phase, timing, due_now in items:
        grouped[(info.intervention, info.stance, phase)].append((a, info, timing, due_now))
    escalating = {
        phase
        for (_, stance, phase), members in grouped.items()
        if stance == "consider" and any(m[3] is True for m in members)
    }

    escalation_stage = idx.care_stage(ESCALATION)

    def sort_key(item):
        (interv, stance, phase), members = item
        gives = (given or {}).get((interv, phase), ()) if stance == "do" else ()  # where what it covers would stand
        # the care still to do before an escalation to consider (the correlation it rests on, conservative care), and
        # pain relief whatever its stance where the case records none tried, or where it is for the severe pain the
        # case records (clinician's review R8 #3: a severe sciatica's short-term opioids, after a failed NSAID, read
        # after decompression, as if pain relief could wait for it)
        first_line = phase in escalating and (
            stance == "do"
            or (
                stance == "consider"
                and idx.is_a(interv, ANALGESIA)
                and (not analgesia_tried or any(for_severe_pain(reasoner, m[0]) for m in members))
            )
        )
        # an escalation not due itself stands with the one due (the referral, the gate to the operation due, before it)
        escalation = phase in escalating and stance != "avoid" and idx.care_stage(interv) >= escalation_stage
        members_due = [(m[1], m[3]) for m in members] + [(g[1], g[5]) for g in gives]
        marked = interv in first_choice
        return reading_key(idx, interv, stance, phase, members_due, first_line, escalation, marked)

    first_choice = planparts.by_class(reasoner, SK.firstLineEvidence)
    keys = {group: sort_key((group, members)) for group, members in grouped.items()}
    steps: list[dict] = []  # each step's fields: a Step is made once, below, with its place among the umbrellas
    for (interv, stance, phase), members in sorted(grouped.items(), key=lambda i: in_package(reasoner, keys, i[0])):
        members.sort(key=lambda m: (not m[1].safety, m[1].order, m[1].id))
        first = members[0][1]
        also = (backs_facts or {}).get((interv, phase), ()) if stance != "avoid" else ()
        facts = sorted(
            {f for a, *_ in members for f in a.triggered_by} | set(also), key=lambda f: path_key(words.trigger(f)[0])
        )
        triggers = tuple(Trigger(*words.trigger(f)) for f in facts)
        named = qualified(reasoner, [m[1] for m in members])
        heading = idx.label(interv) + (f" ({named.qualifier})" if named.qualifier else "")
        steps.append(
            {
                "id": local(interv),
                "label": heading,
                "phase": phase,
                "stance": stance,
                "recommendation": first.iri,
                "recommendations": tuple(m[1].iri for m in members),
                "triggered_by": tuple(t.path for t in triggers),
                "evidence": tuple(e for m in members for e in evidence_of(reasoner, m[1]))
                + tuple(
                    e
                    for i in sorted(backs.get((interv, phase), ()) if stance != "avoid" else (), key=attrgetter("iri"))
                    for e in evidence_of(reasoner, i)
                ),
                "after_weeks": first.after_weeks if phase == "if_persistent" else None,
                "timing": members[0][2],
                "safety": first.safety,
                "triggers": triggers,
                "covers": tuple(sorted(covered.get((interv, phase), ()))) if stance != "avoid" else (),
            }
        )

    # an umbrella step (do or consider) lists the steps of the same phase and stance that are its parts, each step
    # given once: a part (its parts' parts too) stands under its outermost umbrella, and the umbrella with its parts
    # takes the place of the first of them in reading order (a red flag's urgent MRI stays first under "MRI")
    # (a part and its umbrella share phase and stance, not "do not": each such kind of step is looked at alone)
    kinds: dict[tuple[str, str], list[int]] = defaultdict(list)
    for n, s in enumerate(steps):
        if s["stance"] != "avoid":
            kinds[(s["phase"], s["stance"])].append(n)
    outer = [True] * len(steps)
    umbrella: dict[int, int] = {}  # a part → the first outermost umbrella, in reading order, it stands under
    for members in kinds.values():
        if len(members) < 2:
            continue
        iris = {n: SK_IRI + steps[n]["id"] for n in members}
        above = {n: idx.above(iris[n]) for n in members}
        for m in members:  # m is a part of n: m != n and iris[n] in above[m]
            outer[m] = not any(m != n and iris[n] in above[m] for n in members)
        for n in members:
            if outer[n]:
                for m in members:
                    if m not in umbrella and not outer[m] and m != n and iris[n] in above[m]:
                        umbrella[m] = n
    groups = []
    for n in range(len(steps)):
        if outer[n]:
            parts = [m for m in range(len(steps)) if umbrella.get(m) == n]
            groups.append((min([n, *parts]), n, parts))
    # in reading order, each with its parts and, for the plan's steps, the number it is shown by (step_numbers)
    placed = [(i, up) for _, n, ms in sorted(groups) for i, up in [(n, None), *((m, steps[n]["id"]) for m in ms)]]
    numbers = step_numbers((steps[i]["id"], part_of) for i, part_of in placed) if numbered else [None] * len(placed)
    parts_of = {n: tuple(steps[m]["id"] for m in parts) for _, n, parts in groups}
    return [
        Step(**steps[i], parts=parts_of.get(i, ()), part_of=part_of, number=number)
        for (i, part_of), number in zip(placed, numbers, strict=True)
    ]


def in_package(reasoner: Reasoner, keys: dict[tuple[str, str, str], tuple], group: tuple[str, str, str]) -> tuple:
    """The reading key of a step (``keys``: each step's :func:`reading_key`), moved to just after the step of what a
    source gives it only beside (``sk:onlyInPackageWith``: NICE NG59's manual therapy "only as part of a treatment
    package including exercise") where it would read before it: in its phase, done or considered, the package's
    other part (or a class the KB says is the same course of it) first, then what is added to it (clinician's review
    R13, defect 7: massage and manipulation read before exercise)."""
    interv, stance, phase = group
    if stance == "avoid":
        return (keys[group], 0)
    needs = _package_needs(reasoner, interv)
    if not needs:
        return (keys[group], 0)
    own = keys[group]
    idx = reasoner.index
    after = [
        key
        for (other, other_stance, other_phase), key in keys.items()
        if other_phase == phase and other_stance != "avoid" and key > own
        and any(idx.same_course_is_a(other, o) for o in needs)
    ]  # fmt: skip
    return (min(after), 1, own) if after else (own, 0)


def _package_needs(reasoner: Reasoner, interv: str) -> frozenset[str]:
    """What a step of ``interv`` is given only beside (``sk:onlyInPackageWith`` of it or a class above it), made once
    per reasoner and intervention."""
    made = reasoner.cache.setdefault("package_needs", {})
    found = made.get(interv)
    if found is None:
        package = planparts.by_class(reasoner, SK.onlyInPackageWith)
        idx = reasoner.index
        found = made[interv] = frozenset(o for c, others in package.items() if idx.is_a(interv, c) for o in others)
    return found


def reading_key(
    idx: KBIndex,
    interv: str,
    stance: str,
    phase: str,
    members: list[tuple[RecInfo, object]],
    first_line: bool = False,
    escalation: bool = False,
    first_choice: bool = False,
) -> tuple:
    """Where the step of ``interv`` with ``stance`` in ``phase`` stands in reading order, from the recommendations it
    gives, each with whether it is due now (``True``, ``False``, ``AFTER_CARE`` or ``BY_WEEKS``), whether it is
    first-line care still to give before an escalation due now, and whether it is an escalation in a phase where one
    is due (``rank``); of the drugs to consider of one rank, the first choice (``first_choice``: a drug the KB marks
    with sk:firstLineEvidence, the NSAID ACP 2017 names first and NICE NG59 alone) reads first."""
    first = min((m for m, _ in members), key=lambda m: (not m.safety, m.order, m.id))
    due_now = any(d is True for _, d in members)
    after_care = any(d == AFTER_CARE for _, d in members)
    # in the acute phase an escalation whose source gives no weeks waits for the referral due at 6 weeks
    late = planparts.ACUTE_WEEKS + 0.5 if phase == "if_persistent" else 0
    after = min(m.after_weeks if m.after_weeks is not None else late for m, _ in members)
    # the guideline statements (NICE, ACP, …) have no reading order of their own (their ids are alphabetical): among
    # them, what to do before what to consider (ACP 2017: heat first, drugs "if pharmacologic treatment is desired"),
    # and of what to consider, non-drug treatment before drugs (ACP 2017 R2 and R3: drugs after an inadequate
    # response to non-drug therapy)
    weaker = stance == "consider" and not first.source.isdigit() and not after_care
    drug = weaker and idx.is_a(interv, ANALGESIA)
    # of one rank, the order a clinician reads aloud (sk:careStage): assessment and stratification, first-line care,
    # escalation, referral, surgery, follow-up (clinicians' reviews R6, R7: NICE's risk stratification "at first point
    # of contact" after massage, the epidural before exercise, decompression before the referral that leads to it);
    # a red flag's own steps keep their sk:order, and the "do not" steps their sources' order
    stage = 0 if first.safety or stance == "avoid" else idx.care_stage(interv)
    placed = rank(interv, stance, first.safety, due_now, first_line, stage == idx.care_stage(ASSESSMENT), escalation)
    return (idx.phase_order[phase], stance == "avoid", placed, stage, after, first.order, weaker, drug,
            not (drug and first_choice), first.id)  # fmt: skip


def qualified(reasoner: Reasoner, members: list[RecInfo]) -> RecInfo:
    """Of the recommendations one step gives (in reading order), the one whose qualifier the step's heading keeps: the
    first, unless another of a different qualifier is for a narrower situation (its conditions are the first's and
    more): with suspected infection, cauda equina's emergency CT "without or with IV contrast", not only "without"."""
    first = members[0]
    if all(m.qualifier == first.qualifier for m in members):
        return first

    def conditions(info: RecInfo) -> frozenset:
        return frozenset(reasoner.kb.objects(URIRef(info.iri), SK.hasCondition))

    mine = conditions(first)
    narrower = [(len(c), m) for m in members[1:] if m.qualifier != first.qualifier and (c := conditions(m)) > mine]
    return max(narrower, key=lambda n: n[0])[1] if narrower else first


def rank(
    interv: str,
    stance: str,
    safety: bool,
    due_now: bool,
    first_line: bool = False,
    assessment: bool = False,
    escalation: bool = False,
) -> int:
    """Where a step stands among the steps of its phase that share its "do not" or not: a red flag's own management
    first; then the screen for red flags (red flags come first: NICE NG59 1.1.1 asks to exclude specific causes,
    and a plan that lists it after the treatments reads as if it could wait); then the escalations whose time has
    come to do (the MRI due now before the injection it would guide); then the other assessments (``assessment``,
    ``sk:careStage`` 1: NICE NG59 1.1.2's risk stratification "at first point of contact", the clinical-radiological
    correlation, an examination), which inform the care after them; then, where an escalation to consider is due,
    the first-line care still offered (``first_line``: what the phase says to do, as the clinical-radiological
    correlation article 000's "interventional options based on clinical-radiological correlation" rest on, and pain
    relief never tried: article 004's conservative management is "physical therapy, pain management, and activity
    modification" before surgery is considered) before it, and it, with the phase's other escalations
    (``escalation``: an injection, referral or operation, ``sk:careStage`` 3 or later, the referral that is the gate
    to an operation due), before the options only to consider (a surgical candidate whose drug and physiotherapy
    failed is not told to consider acupuncture before decompression); then
    the rest in their sources' order (an article's steps in the article's order).

    >>> rank("x", "consider", False, True), rank("x", "do", False, False, True), rank("x", "do", False, True)
    (5, 4, 2)
    >>> rank("risk_stratification", "consider", False, False, False, True)
    3
    """
    if safety:
        return 0
    if interv == RED_FLAG_SCREENING:
        return 1
    if due_now and stance != "consider":
        return 2
    if assessment:
        return 3
    if due_now or escalation:
        return 5
    if first_line:
        return 4
    return 6
