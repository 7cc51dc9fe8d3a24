"""Assemble a staged management plan from one case's reasoning results: steps, red flags, warnings, why not."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace

from .apply import FAILS, HOLDS, UNKNOWN, Applicability, at_defaults
from .concordance import DermatomeConcordance, concordance
from .consts import SK
from .engine import CaseRun, Reasoner
from .kbindex import RecInfo, local
from .planjson import share

CONSERVATIVE = str(SK.conservative_care)
IMAGING = str(SK.ImagingIntervention)


@dataclass(frozen=True)
class EvidenceOut:
    """The evidence of a step as the plan shows it (design contract: article, citation, quote, reference)."""

    article: str
    citation: str
    quote: str
    reference: str | None
    citation_status: str
    section: str | None = None


@dataclass(frozen=True)
class Step:
    """One step of the plan: do, consider or avoid an intervention in a phase, with its provenance."""

    id: str  # the intervention's stable id
    label: str
    phase: str
    stance: str
    recommendation: str  # IRI of the recommendation the step rests on first
    recommendations: tuple[str, ...]  # every recommendation that gives this step
    triggered_by: tuple[str, ...]  # case field paths of the findings that made it apply
    evidence: tuple[EvidenceOut, ...]
    after_weeks: float | None = None
    timing: str | None = None
    safety: bool = False  # added by spinekg's safety rules, not by a source article


@dataclass(frozen=True)
class RedFlagOut:
    id: str
    label: str
    triggered_by: tuple[str, ...]
    flagged_by_sources: tuple[str, ...]  # articles whose applicable recommendations act on this red flag


@dataclass(frozen=True)
class PresentationOut:
    """A clinical presentation the case is classified in, with the findings that established it."""

    id: str
    label: str
    triggered_by: tuple[str, ...]


@dataclass(frozen=True)
class Warning:
    id: str
    message: str
    subjects: tuple[str, ...]


@dataclass(frozen=True)
class ConflictSide:
    member: str
    label: str
    source: str
    applies: bool


@dataclass(frozen=True)
class ConflictOut:
    id: str
    label: str
    description: str
    sides: tuple[ConflictSide, ...]


@dataclass(frozen=True)
class NotApplicable:
    recommendation: str
    label: str
    status: str  # fails | unknown | preempted | overridden
    why: tuple[str, ...]
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """A staged management plan for one case; ``to_dict`` gives the design's JSON contract."""

    case: str
    kb_version: str
    red_flags: tuple[RedFlagOut, ...]
    steps: tuple[Step, ...]
    warnings: tuple[Warning, ...]
    conflicts: tuple[ConflictOut, ...]
    not_applicable: tuple[NotApplicable, ...]
    preempted: tuple[NotApplicable, ...] = field(default_factory=tuple)
    concordance: tuple[DermatomeConcordance, ...] = field(default_factory=tuple)
    presentations: tuple[PresentationOut, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        """``json.dumps(self.to_dict(), ensure_ascii=False)``, made faster for cohorts."""
        from .planjson import dumps

        return dumps(self)

    def step(self, key: str) -> Step:
        """A step by intervention id, recommendation id or IRI, or 1-based position."""
        for n, s in enumerate(self.steps, 1):
            if key in (s.id, str(n)) or any(key in (r, local(r)) for r in s.recommendations):
                return s
        raise KeyError(key)


PATHS = [
    (re.compile(r"/symptom/(\d+)$"), "symptoms[{0}]"),
    (re.compile(r"/imaging/(\d+)/finding/(\d+)$"), "imaging[{0}].findings[{1}]"),
    (re.compile(r"/imaging/(\d+)$"), "imaging[{0}]"),
    (re.compile(r"/risk/(\d+)$"), "risk_factors[{0}]"),
    (re.compile(r"/treatment/(\d+)$"), "prior_treatments[{0}]"),
    (re.compile(r"/score/(\w+)$"), "scores.{0}"),
    (re.compile(r"/patient$"), "age"),
    (re.compile(r"/vital/(\w+)$"), "vitals.{0}"),
    (re.compile(r"/lab/(\w+)$"), "labs.{0}"),
    (re.compile(r"/red_flag_screen$"), "red_flag_screen"),
]


def path_key(path: str) -> tuple:
    """Sort key that puts ``findings[2]`` before ``findings[10]``."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path))


def field_path(case_iri: str, iri: str) -> str:
    """The case field a resource of the case graph stands for (``…/symptom/0`` → ``symptoms[0]``).

    >>> field_path("https://w3id.org/spinekg/case/x", "https://w3id.org/spinekg/case/x/imaging/0/finding/2")
    'imaging[0].findings[2]'
    """
    if iri == case_iri:
        return "candidate_for"
    for pattern, template in PATHS:
        m = pattern.search(iri)
        if m and iri.startswith(case_iri + "/"):
            return template.format(*m.groups())
    return iri


def _evidence(reasoner: Reasoner, info: RecInfo) -> tuple[EvidenceOut, ...]:
    """A recommendation's evidence as plans show it (made once per recommendation, shared by every plan)."""
    key = ("evidence", info.iri)
    if key not in reasoner.cache:
        out = tuple(
            EvidenceOut(e.source, e.citation, e.quote, "; ".join(e.references) or None, e.citation_status, e.section)
            for e in info.evidence
        )
        for e in out:
            share(e)
        reasoner.cache[key] = out
    return reasoner.cache[key]


def assemble(reasoner: Reasoner, run: CaseRun) -> Plan:
    """Turn one case's reasoning results into its plan."""
    idx = reasoner.index
    recs = idx.recommendations
    case = run.case
    path = lambda iri: field_path(case, iri)  # noqa: E731
    flags = sorted(run.red_flags)
    flag_names = [local(f) for f in flags]

    applying, not_applicable, preempted = [], [], []
    explicit = {a.recommendation: a for a in run.applicability}
    defaults = _defaults(reasoner)
    for rec, conditions in reasoner.conditions.items():
        a = explicit.get(rec)
        if a is None:
            if rec in defaults:  # no case fact speaks to it: the same answer for every such case
                not_applicable.append(defaults[rec])
                continue
            a = at_defaults(case, rec, conditions)
        info = recs[a.recommendation]
        if a.status != "applies":
            not_applicable.append(_not_applicable(reasoner, info, a, path))
            continue
        driven_by_flag = info.safety or any(c.kind == "RedFlagPresent" and c.status == HOLDS for c in a.conditions)
        interv = info.intervention
        conservative_path = info.stance in ("do", "consider") and idx.is_a(interv, CONSERVATIVE)
        deferring_imaging = info.stance == "avoid" and idx.is_a(interv, IMAGING)
        if flags and not driven_by_flag and (conservative_path or deferring_imaging):
            why = (
                f"pre-empted by red flag {', '.join(flag_names)}: "
                + ("a conservative-only path" if conservative_path else "deferring imaging")
                + " does not apply",
            )
            preempted.append(NotApplicable(info.iri, info.label, "preempted", why))
            continue
        applying.append((a, info, driven_by_flag))

    # red flags, and whether the applicable source recommendations act on them
    red_flags, warnings = [], []
    applying_articles = sorted({info.source for _, info, _ in applying if not info.safety})
    for flag in flags:
        flagged_by = sorted(
            {
                info.source
                for a, info, _ in applying
                if not info.safety
                for c in a.conditions
                if c.kind == "RedFlagPresent" and c.status == HOLDS and flag in run.fact_types_of(c.facts)
            }
        )
        triggered = tuple(sorted((path(f) for f in run.red_flags[flag]), key=path_key))
        red_flags.append(RedFlagOut(local(flag), idx.label(flag), triggered, tuple(flagged_by)))
        if not flagged_by:
            if applying_articles:
                msg = (
                    f"{idx.label(flag)} ({', '.join(triggered)}): the source article(s) "
                    f"{', '.join(applying_articles)} whose recommendations apply to this case do not flag it; "
                    "spinekg raises it and acts on it first with its safety rules (see the steps' evidence)"
                )
            else:
                msg = (
                    f"{idx.label(flag)} ({', '.join(triggered)}): no source article recommendation addresses it; "
                    "spinekg acts on it with its safety rules (see the steps' evidence)"
                )
            warnings.append(Warning("source_missed_red_flag", msg, (local(flag), *applying_articles)))

    # steps: effective phase, then one step per intervention, stance and phase
    grouped: dict[tuple[str, str, str], list] = defaultdict(list)
    for a, info, _ in applying:
        phase, timing = info.phase, None
        if info.phase == "if_persistent":
            if info.after_weeks is None:
                phase, timing = "now", "due now: the failed treatment it waits for is recorded"
            elif run.elapsed_weeks is not None and run.elapsed_weeks >= info.after_weeks:
                phase = "now"
                timing = f"due now: {run.elapsed_weeks:g} weeks of symptoms or failed care ≥ {info.after_weeks:g} weeks"
            else:
                timing = f"if symptoms persist after {info.after_weeks:g} weeks"
        elif info.phase == "follow_up" and info.interval_weeks:
            lo, hi = info.interval_weeks
            timing = f"in {lo:g} weeks" if lo == hi else f"every {lo:g}-{hi:g} weeks"
        kind = "avoid" if info.stance == "avoid" else "do"  # do and consider of one intervention are one step
        grouped[(info.intervention, kind, phase)].append((a, info, timing))
    order = idx.phase_order

    def sort_key(item):
        (interv, stance, phase), members = item
        first = min(members, key=lambda m: (not m[1].safety, m[1].order, m[1].id))[1]
        after = min((m[1].after_weeks or 0) for m in members)
        return (order[phase], after, not first.safety, first.order, first.id)

    steps = []
    for (interv, stance, phase), members in sorted(grouped.items(), key=sort_key):
        members.sort(key=lambda m: (not m[1].safety, m[1].order, m[1].id))
        first = members[0][1]
        triggers = sorted({path(f) for a, _, _ in members for f in a.triggered_by}, key=path_key)
        stance = "avoid" if stance == "avoid" else ("do" if any(m[1].stance == "do" for m in members) else "consider")
        steps.append(
            Step(
                id=local(interv),
                label=idx.label(interv),
                phase=phase,
                stance=stance,
                recommendation=first.iri,
                recommendations=tuple(m[1].iri for m in members),
                triggered_by=tuple(triggers),
                evidence=tuple(e for m in members for e in _evidence(reasoner, m[1])),
                after_weeks=first.after_weeks if phase == "if_persistent" else None,
                timing=members[0][2],
                safety=first.safety,
            )
        )

    steps = _merge_into_red_flag_steps(reasoner, steps)
    conflicts = _conflicts(reasoner, {info.iri for _, info, _ in applying}, steps)
    warnings += _fact_warnings(reasoner, run, not_applicable)
    warnings += _population_warnings(reasoner, run, [info for _, info, _ in applying])
    # issue 5: a finding the case gave as an external code that maps to no spinekg term (unmapped_codes: warn)
    from .mappings import unmapped_code_warnings

    warnings += [Warning(*w) for w in unmapped_code_warnings(run.case, run.fact_types)]
    return Plan(
        case=case.rsplit("/", 1)[-1],
        kb_version=reasoner.kb_version,
        red_flags=tuple(red_flags),
        steps=tuple(steps),
        warnings=tuple(warnings),
        conflicts=tuple(conflicts),
        not_applicable=tuple(sorted(not_applicable, key=lambda n: n.recommendation)),
        preempted=tuple(sorted(preempted, key=lambda n: n.recommendation)),
        concordance=tuple(concordance(reasoner, run)),
        presentations=_presentations(reasoner, run),
    )


def _presentations(reasoner: Reasoner, run: CaseRun) -> tuple[PresentationOut, ...]:
    """The case's clinical presentations, most specific first within the KB's order of definition."""
    idx = reasoner.index
    case = run.case
    named = run.presentations
    out = []
    for p in sorted(named, key=lambda p: local(p)):
        triggers = tuple(sorted({field_path(case, f) for f in named[p]}, key=path_key))
        if not triggers and run.episode_weeks is not None and local(p).endswith("_phase"):
            triggers = (f"{run.episode_weeks:g} weeks (symptoms[].duration_weeks)",)
        out.append(PresentationOut(local(p), idx.label(p), triggers))
    return tuple(out)


def _population_warnings(reasoner: Reasoner, run: CaseRun, applying: list[RecInfo]) -> list[Warning]:
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
    phase_key = ("phase_recs",)
    if phase_key not in reasoner.cache:
        phase_iris = {str(SK.acute_phase), str(SK.subacute_phase), str(SK.chronic_phase)}
        reasoner.cache[phase_key] = {
            str(rec)
            for rec, cond in kb.subject_objects(SK.hasCondition)
            if str(kb.value(cond, SK.presentation)) in phase_iris
        }
    by_phase = sorted(local(i.iri) for i in applying if i.iri in reasoner.cache[phase_key])
    if phases and by_phase:
        weeks = f"{run.episode_weeks:g} weeks" if run.episode_weeks is not None else "its duration"
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


def _not_applicable(reasoner: Reasoner, info: RecInfo, a: Applicability, path) -> NotApplicable:
    why, missing = [], []
    for c in a.conditions:
        text = reasoner.describe_condition(c.condition, c.kind)
        if c.status == FAILS:
            extra = f": recorded {', '.join(path(f) for f in c.facts)}" if c.facts else ""
            why.append(f"{text} does not hold{extra}")
        elif c.status == UNKNOWN:
            why.append(f"{text} is unknown: the case does not record {', '.join(c.missing)}")
            missing += c.missing
    return NotApplicable(info.iri, info.label, a.status, tuple(why), tuple(sorted(set(missing))))


def _defaults(reasoner: Reasoner) -> dict[str, NotApplicable]:
    """Recommendation → its not-applicable entry for a case none of whose facts speak to it (kept per reasoner)."""
    if "default_not_applicable" not in reasoner.cache:
        out = {}
        for rec, conditions in reasoner.conditions.items():
            a = at_defaults("", rec, conditions)
            if a.status != "applies":
                out[rec] = _not_applicable(reasoner, reasoner.index.recommendations[rec], a, None)
                share(out[rec])
        reasoner.cache["default_not_applicable"] = out
    return reasoner.cache["default_not_applicable"]


def _merge_into_red_flag_steps(reasoner: Reasoner, steps: list[Step]) -> list[Step]:
    """A later step an emergency or urgent step already covers joins it (do/consider of a related intervention,
    or avoid of the same or a narrower one).

    (Seed 000's "MRI as the next step" is the emergency MRI of its cauda equina red flag, not a second MRI.)
    """
    idx = reasoner.index
    out: list[Step] = []
    for step in steps:
        target = next(
            (
                n
                for n, s in enumerate(out)
                if s.phase in ("emergency", "urgent")
                and step.phase not in ("emergency", "urgent")
                and (
                    (
                        s.stance == "do"
                        and step.stance in ("do", "consider")
                        and (idx.is_a(str(SK[step.id]), str(SK[s.id])) or idx.is_a(str(SK[s.id]), str(SK[step.id])))
                    )
                    or (s.stance == step.stance == "avoid" and idx.is_a(str(SK[step.id]), str(SK[s.id])))
                )
            ),
            None,
        )
        if target is None:
            out.append(step)
            continue
        s = out[target]
        out[target] = replace(
            s,
            recommendations=s.recommendations + step.recommendations,
            triggered_by=tuple(sorted(set(s.triggered_by) | set(step.triggered_by), key=path_key)),
            evidence=s.evidence + step.evidence,
        )
    return out


def _conflicts(reasoner: Reasoner, applying: set[str], steps: list[Step]) -> list[ConflictOut]:
    idx = reasoner.index
    out = []
    for iri, (label, description, members) in sorted(idx.conflicts.items()):
        if not applying & set(members):
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
    # a do/consider and an avoid of related interventions in the same plan
    for avoid in (s for s in steps if s.stance == "avoid"):
        for other in (s for s in steps if s.stance != "avoid"):
            a, o = str(SK[avoid.id]), str(SK[other.id])
            if idx.is_a(o, a):  # doing what the avoid covers (avoiding a subtype of what is done is no conflict)
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


def _fact_warnings(reasoner: Reasoner, run: CaseRun, not_applicable: list[NotApplicable]) -> list[Warning]:
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
    height_loss = [f for f, types in run.fact_types.items() if str(SK.vertebral_height_loss) in types]
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
