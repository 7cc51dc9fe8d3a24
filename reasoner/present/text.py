"""Plans as people read them: the staged text plan, and the explain / why-not chains."""

from __future__ import annotations

from collections.abc import Sequence

from ..kb.index import local
from ..plan.model import EvidenceOut, Plan, RedFlagOut, Step
from ..plan.words import until_excluded

PHASES = [
    ("emergency", "EMERGENCY"),
    ("urgent", "URGENT"),
    ("now", "NOW"),
    ("if_persistent", "IF PERSISTENT"),
    ("follow_up", "FOLLOW-UP"),
]
STANCE = {"do": "DO", "consider": "CONSIDER", "avoid": "DO NOT"}
#: how a "do not" step reads whose every recommendation only tempers the expectations of its intervention (warning
#: tempers_expectations, sk:tempersExpectations): its stance stays avoid (review R14, defect 8: article 002's "do not
#: assume efficacy of neuropathic pain medications" printed "DO NOT" beside NICE's "do not" of gabapentinoids)
TEMPERED = "TEMPER EXPECTATIONS OF"
#: the warnings that temper the stance a step is shown with, and the stance each tempers (its last subject is the
#: step's id): a "do not" that only tempers expectations, and a "do" spinekg judges may be unsuitable for the patient
#: (warning may_be_unsuitable, sk:mayBeUnsuitableFor), shown "CONSIDER" while its stance stays do, as its sources
#: give it (review R18, finding 3: "DO NSAIDs" for a 76-year-old on apixaban with kidney and heart disease)
TEMPERING = {"tempers_expectations": "avoid", "may_be_unsuitable": "do"}


def tempered(plan: Plan) -> frozenset[tuple[str, str]]:
    """The (id, stance) of the plan's steps shown with a tempered stance (:data:`TEMPERING`): the "do not" steps that
    only temper expectations, the "do" steps that may be unsuitable for the patient."""
    return frozenset((w.subjects[-1], TEMPERING[w.id]) for w in plan.warnings if w.id in TEMPERING and w.subjects)


def stance_word(s: Step, tempered_ids: frozenset[tuple[str, str]] | set[tuple[str, str]] = frozenset()) -> str:
    """The words a step's stance is printed with: "DO", "CONSIDER", "DO NOT"; for a step in ``tempered_ids``
    (:func:`tempered`), :data:`TEMPERED` for a "do not", "CONSIDER" for a "do"."""
    if (s.id, s.stance) not in tempered_ids:
        return STANCE[s.stance]
    return TEMPERED if s.stance == "avoid" else STANCE["consider"]


def waits_apart(plan: Plan, s: Step, common: tuple[RedFlagOut, ...]) -> str:
    """Until when a deferred step waits, where it waits on other red flags than ``common``
    (:meth:`Plan.deferred_common`, which the deferred list's heading names); "" where it waits on those."""
    waits = plan.waits_on(s)
    return until_excluded([(f.label, f.held_until) for f in waits]) if waits != common else ""


def cite(e: EvidenceOut) -> str:
    """How a quote is attributed: article and marker(s) with status, or the reference-table cell."""
    if e.citation_status == "reference-table":
        return f"{e.article} ({e.citation}); rests on {e.reference}"
    marker = f" [{e.citation}]" if e.citation else " (no citation marker)"
    status = "" if e.citation_status in ("resolved", "uncited") else f", citation {e.citation_status}"
    ref = f" → {e.reference}" if e.reference else ""
    return f"article {e.article}{marker}{status}{ref}"


#: the warnings that speak of a step beside a finding of the patient, and the stances of the steps they name: shown
#: on the step too, where a clinician reading it acts (review R4, r4-07: "DO NSAIDs" at 24 weeks of pregnancy, the
#: caution only at the top of the plan)
STEP_WARNINGS = {
    "caution_recorded": ("do", "consider"),
    "judgement_caution": ("do", "consider"),
    "sources_silent_for_finding": ("do", "consider", "avoid"),
    "long_term_opioid": ("avoid",),
    "current_drug_advised_against": ("avoid",),
    # the warnings that bring the follow-up forward name its step (reasoner.plan.followup; review R12 #5)
    "ces_safety_net": ("do",),
    "red_flag_excluded": ("do",),
    "tried_and_advised_against": ("avoid",),
    "sedatives_combined": ("do", "consider"),
    "step_reading": ("do", "consider"),
    "may_be_unsuitable": ("do", "consider"),
    "drug_line_left": ("do", "consider"),
    "imaging_opposite_side": ("do", "consider"),  # an injection or operation guided by that imaging (review R19 #4)
    # the steps that rest on a study from before an operation, the new study and the operation (review R20 #2)
    "study_before_operation": ("do", "consider", "avoid"),
    "previous_episode_study": ("do", "consider"),  # an injection or operation resting on it, the new study (R20 #7)
}


def step_warnings(plan: Plan) -> dict[tuple[str, str], list[str]]:
    """(step id, stance) → the ids of the warnings (:data:`STEP_WARNINGS`) that name it, in the plan's order."""
    out: dict[tuple[str, str], list[str]] = {}
    for w in plan.warnings:
        for stance in STEP_WARNINGS.get(w.id, ()):
            for sid in w.subjects:
                said = out.setdefault((sid, stance), [])
                if w.id not in said:
                    said.append(w.id)
    return out


def step_lines(
    s: Step,
    indent: str = "  ",
    warned: Sequence[str] = (),
    mild: frozenset[tuple[str, str]] | set[tuple[str, str]] = frozenset(),
) -> list[str]:
    """A step as the text plan shows it, under its number (``Plan.step`` takes the same number back); ``warned``:
    the warnings that name it beside a finding of the patient; ``mild``: the (id, stance) of the plan's steps shown
    with a tempered stance (:func:`tempered`)."""
    n = s.number
    extra = f" — {s.timing}" if s.timing else ""
    pad = indent + " " * (len(str(n)) + 2)
    lines = [f"{indent}{n}. {stance_word(s, mild)} {s.label}{extra}"]
    if s.parts:
        lines.append(f"{pad}comprising the steps below it: {', '.join(s.parts)}")
    shown = [t.text for t in s.triggers[:4]]
    if len(s.triggers) > 4:
        shown.append(f"and {len(s.triggers) - 4} more")
    if shown:
        lines.append(f"{pad}because: " + "; ".join(shown))
    if s.covers:
        lines.append(f"{pad}also recommended by: {', '.join(local(r) for r in s.covers)} (covered by this step)")
    if s.conflicts:
        lines.append(f"{pad}sources disagree: {', '.join(s.conflicts)} (see below)")
    if warned:
        lines.append(f"{pad}read with the warning{'s' * (len(warned) > 1)}: {', '.join(warned)} (see WARNINGS above)")
    by_rec: dict[str, list] = {}
    for e in s.evidence:
        by_rec.setdefault(e.recommendation, []).append(e)
    for recs, said in _said_once([local(r) for r in s.recommendations], by_rec):
        lines.append(f"{pad}{', '.join(recs)}:")
        lines += [f"{pad}  {line}" for line in said]
    # a recommendation this step gives (to consider it, or to do a study it includes): its words stay
    for recs, said in _said_once([local(r) for r in s.covers if local(r) in by_rec], by_rec):
        lines.append(f"{pad}{', '.join(recs)} (covered by this step):")
        lines += [f"{pad}  {line}" for line in said]
    return lines


def _said_once(recs: Sequence[str], by_rec: dict[str, list]) -> list[tuple[list[str], tuple[str, ...]]]:
    """The recommendations in order, those resting on the very same sentences put together under one heading, so a
    sentence is printed once on a step (review R7: ACR variant 3's sentence twice, for the injection and the surgery
    candidate); a recommendation with no sentence of its own keeps its own heading."""
    groups: list[tuple[list[str], tuple[str, ...]]] = []
    for rec in recs:
        said = tuple(f"“{e.quote}” — {cite(e)}" for e in by_rec.get(rec, []))
        same = next((g for g in groups if said and g[1] == said), None)
        if same is None:
            groups.append(([rec], said))
        else:
            same[0].append(rec)
    return groups


def text(plan: Plan) -> str:
    """The plan as a clinical note: the case as recorded, its presentations, red flags with their reasons,
    warnings, the steps by phase (each with the facts that decided it and its sentences), what waits for the red
    flags to be excluded, where sources disagree, and the concordance."""
    out = [f"Management plan for case {plan.case} (knowledge base {plan.kb_version})", ""]
    warned = step_warnings(plan)
    mild = tempered(plan)
    if plan.summary:
        out.append("THE CASE AS RECORDED")
        out += [f"  {line}" for line in plan.summary]
        out.append("")
    if plan.presentations:
        out.append("PRESENTATIONS")
        for p in plan.presentations:
            out.append(f"  {p.label} [{p.id}]" + (f" from {', '.join(p.triggered_by)}" if p.triggered_by else ""))
        out.append("")
    if plan.red_flags:
        out.append("RED FLAGS")
        for f in plan.red_flags:
            by = (
                f"flagged by article(s) {', '.join(f.flagged_by_sources)}"
                if f.flagged_by_sources
                else ("not flagged by the source articles")
            )
            out.append(f"  ! {f.label} [{f.id}] because: {f.reason or ', '.join(f.triggered_by)} — {by}")
        out.append("")
    if plan.warnings:
        out.append("WARNINGS")
        out += [f"  - [{w.id}] {w.message}" for w in plan.warnings]
        out.append("")
    for phase, title in PHASES:
        steps = [s for s in plan.steps if s.phase == phase]
        if not steps:
            continue
        out.append(title)
        for s in steps:
            indent = "     " if s.number and "." in s.number else "  "
            out += step_lines(s, indent, warned.get((s.id, s.stance), ()), mild)
        out.append("")
    if plan.deferred:
        holding = plan.holding_flags()
        common = plan.deferred_common()  # the heading names what most of the deferred care waits on
        flags = [(f.label, f.held_until) for f in common]
        ids = ", ".join(f.id for f in holding)
        them = "them" if len(holding) > 1 else "it"
        if plan.waits_while_confirmed():  # a confirmed finding is not excluded: what waits on it is not care
            labels = " AND ".join(f.label.upper() for f in holding)
            out.append(f"DEFERRED WHILE {labels} STAND{'S' * (them == 'it')} (confirmed)")
            out.append(
                f"  (not excluded by a work-up: advice against imaging, for a presentation without a specific cause, "
                f"does not stand beside {them})"
            )
        else:
            out.append(f"DEFERRED {until_excluded(flags).upper()} (then resume)")
            # a red flag raised again beside its exclusion: a feature began after the study that excluded it
            again = {w.subjects[1] for w in plan.warnings if w.id == "red_flag_excluded"} & {f.id for f in holding}
            if again:
                out.append(
                    f"  ({', '.join(sorted(again))} is already in red_flags_excluded, and a feature began or is "
                    "progressing after the study that excluded it: once a new work-up has excluded it, record that "
                    "study (weeks_ago 0) and plan again)"
                )
            elif all(f.held_until == "is excluded" for f in holding):
                out.append(
                    f"  (once the work-up has excluded {them}, record red_flags_excluded: [{ids}] and plan again)"
                )
            else:  # a confirmed finding is not excluded: the surgeon's assessment clears the care it holds back
                out.append(
                    f"  (once that is done and this care cleared, record red_flags_excluded: [{ids}], plan again)"
                )
        for s in plan.deferred:
            extra = f" [{s.phase.replace('_', ' ')}]"
            if apart := waits_apart(plan, s, common):
                extra += f" ({apart})"
            said = ", ".join(local(r) for r in s.recommendations)
            out.append(f"  - {stance_word(s, mild)} {s.label}{extra}: {said}")
        out.append("")
    others = [p for p in plan.preempted if p.status not in ("deferred", "overridden")]
    if others:
        ruled = any(p.status == "contraindicated" for p in others)
        out.append("GIVEN ELSEWHERE, ALREADY TRIED OR CONTRAINDICATED" if ruled else "GIVEN ELSEWHERE OR ALREADY TRIED")
        out += [f"  - {local(p.recommendation)}: {p.why[0]}" for p in others]
        out.append("")
    overridden = [p for p in plan.preempted if p.status == "overridden"]
    if overridden:
        out.append("NOT GIVEN: WHERE SOURCES DISAGREE, RESOLVED FOR THE PATIENT")
        out += [f"  - {local(p.recommendation)} ({p.label}): {p.why[0]}" for p in overridden]
        out.append("")
    if plan.conflicts:
        out.append("WHERE SOURCES DISAGREE")
        # what the list holds, as decided after review K3: disagreements live for this patient only
        out.append("  (sources on different sides both bear on this patient; a step shows a disagreement about its own")
        out.append("  intervention; a disagreement only one side of which applies here is not listed)")
        for c in plan.conflicts:
            out.append(f"  * {c.label}: {c.description}")
            for side in c.sides:
                here = side.standing if side.source == "external" else f"{side.standing} here"
                if side.member in {p.recommendation for p in overridden}:
                    here += ", overridden: not given"
                out.append(f"      - {local(side.member)} ({side.source}, {here}): {side.label}")
        out.append("")
    if plan.concordance:
        out.append("DERMATOME–IMAGING CONCORDANCE")
        for d in plan.concordance:
            how = "; ".join(f"{e.finding} {e.type} {e.level} → {e.root} root ({e.via})" for e in d.explained_by)
            out.append(f"  {d.dermatome:<5} {'/'.join(d.sides):<11} {d.status}{': ' + how if how else ''}")
        out.append("")
    out.append(
        f"{len(plan.not_applicable)} recommendation(s) did not apply: `spinekg why-not CASE RECOMMENDATION` says why."
    )
    return "\n".join(out)


def explain(plan: Plan, key: str) -> str:
    """The chain of one step: step ← recommendation ← evidence (article, marker, sentence) ← reference, ← findings."""
    s = plan.step(key)
    out = [
        f"step {s.number}: {stance_word(s, tempered(plan))} {s.label} ({s.phase}{', ' + s.timing if s.timing else ''})"
    ]
    deciding = (
        "; ".join(t.text for t in s.triggers) or "(no case finding: the recommendation's conditions hold by absence)"
    )
    out.append(f"  ← decided by: {deciding}")
    for rec in s.recommendations:
        out.append(f"  ← recommendation {local(rec)} <{rec}>")
    backed = s.backed
    for rec in s.covers:
        said = (
            "its sentences, below, are kept with this step's"
            if rec in backed
            else "its sentences are not evidence here"
        )
        out.append(f"  (also recommended by {local(rec)}: covered by this step, {said})")
    for e in s.evidence:
        out.append(f"      ← evidence: “{e.quote}”")
        out.append(f"          {cite(e)}" + (f"; section “{e.section}”" if e.section else ""))
    return "\n".join(out)


def why_not(plan: Plan, key: str) -> str:
    """Why a recommendation is not in the plan: failed conditions, missing facts, or the red flag that pre-empted it."""
    for n in plan.not_applicable + plan.preempted:
        if key in (n.recommendation, local(n.recommendation)):
            return "\n".join(
                [f"{local(n.recommendation)} ({n.label}) is not in the plan: {n.status}"] + [f"  - {w}" for w in n.why]
            )
    for s in plan.steps:
        if any(key in (r, local(r)) for r in s.recommendations):
            return f"{key} applies: it gives step {s.number} ({stance_word(s, tempered(plan))} {s.label}, {s.phase})"
    raise KeyError(key)
