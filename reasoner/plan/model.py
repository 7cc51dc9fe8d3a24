"""What a plan is made of (the design's JSON contract as frozen dataclasses) and the case field paths it names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace

from ..kb.index import local
from .jsontext import dumps

#: how soon a review a warning brings forward falls due: spinekg's judgement, which no source in its reference
#: gives (the sources give only the routine interval, article 000's "Reassess after 6 weeks"; clinician's review
#: R17 #3: "early", with "(in 6 weeks)" beside it, read aloud as 6 weeks)
EARLY_WITHIN = "within 1-2 weeks"
#: the words of a warning that asks for that review (reasoner.plan.followup brings the follow-up forward on them)
REVIEW_EARLY = f"review early, {EARLY_WITHIN}, not at the routine interval"


@dataclass(frozen=True)
class EvidenceOut:
    """The evidence of a step as the plan shows it (design contract: article, citation, quote, reference), under
    the recommendation it supports."""

    article: str
    citation: str
    quote: str
    reference: str | None
    citation_status: str
    section: str | None = None
    recommendation: str = ""  # the id of the recommendation this sentence supports


@dataclass(frozen=True)
class Trigger:
    """A case fact that decided a step, as its field path and in words."""

    path: str
    text: str


@dataclass(frozen=True)
class Step:
    """One step of the plan: do, consider or avoid an intervention in a phase, with its provenance."""

    id: str  # the intervention's stable id
    label: str
    phase: str
    stance: str
    recommendation: str  # IRI of the recommendation the step rests on first
    recommendations: tuple[str, ...]  # every recommendation that gives this step (same stance and phase)
    triggered_by: tuple[str, ...]  # case field paths of the findings that made it apply
    evidence: tuple[EvidenceOut, ...]
    after_weeks: float | None = None
    timing: str | None = None
    safety: bool = False  # added by spinekg's safety rules, not by a source article
    triggers: tuple[Trigger, ...] = ()  # the deciding facts, path and words
    parts: tuple[str, ...] = ()  # an umbrella step (conservative care): the ids of its parts' steps
    part_of: str | None = None  # a part: the id of its umbrella step
    covers: tuple[str, ...] = ()  # later recommendations of a related intervention this urgent step already gives
    conflicts: tuple[str, ...] = ()  # ids of the plan's conflicts this step is a side of
    number: str | None = None  # the number the plan shows it by and every command takes ("2", "2.1"; see step_numbers)

    @property
    def backed(self) -> tuple[str, ...]:
        """The covered recommendations whose sentences the step keeps beside its own (a covered "consider", an
        urgent recommendation a red flag's step gives); it is ``prov:wasDerivedFrom`` these too. The rest of
        :attr:`covers` are given by the step but argue nothing for it (article 000's routine "MRI as the next step"
        under the emergency MRI)."""
        kept = {e.recommendation for e in self.evidence}
        return tuple(r for r in self.covers if local(r) in kept)


def step_numbers(steps: Iterable[tuple[str, str | None]]) -> list[str]:
    """The number of each step of a plan, given as (id, part_of) in the plan's order: the one numbering that the text
    and HTML plans print and that ``explain``, ``graph``, ``why-not``, FHIR and JSON use.

    A step is numbered 1, 2, … in order; a part of an umbrella step is numbered under it, 2.1, 2.2, … (the plan
    lists the parts right after their umbrella). A part whose umbrella is not before it is numbered as a step.

    >>> step_numbers([("red_flag_screening", None), ("conservative_care", None), ("nsaid", "conservative_care"),
    ...               ("heat", "conservative_care"), ("bed_rest", None)])
    ['1', '2', '2.1', '2.2', '3']
    """
    out: list[str] = []
    top = 0
    umbrellas: dict[str, str] = {}  # id → the number of the latest step of that id that is not a part
    parts: dict[str, int] = {}  # the number of an umbrella step → how many parts stand under it so far
    for ident, part_of in steps:
        under = umbrellas.get(part_of) if part_of is not None else None
        if under is None:
            top += 1
            number = str(top)
            umbrellas[ident] = number
        else:
            parts[under] = parts.get(under, 0) + 1
            number = f"{under}.{parts[under]}"
        out.append(number)
    return out


@dataclass(frozen=True)
class RedFlagOut:
    id: str
    label: str
    triggered_by: tuple[str, ...]
    flagged_by_sources: tuple[str, ...]  # articles whose applicable recommendations act on this red flag
    reason: str = ""  # the triggering facts in words
    # until when the care it displaces waits, after its label: "is excluded" (a suspicion), or e.g. "has been
    # assessed by a spine surgeon" (a confirmed finding: severe myelopathy, instability, a progressive deficit)
    held_until: str = "is excluded"
    defers: tuple[str, ...] = ()  # the ids of the deferred steps it holds back (in the plan's deferred list)


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

    @property
    def standing(self) -> str:
        """How the side stands in this case: an external guideline is a side in its own name, not a recommendation
        that applies or not."""
        return "a guideline" if self.source == "external" else "applies" if self.applies else "does not apply"


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
    status: str  # fails | unknown | deferred | overridden | covered | already_tried | already_done | contraindicated
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
    preempted: tuple[NotApplicable, ...] = field(default_factory=tuple)  # status "deferred": why-not entries
    concordance: tuple = field(default_factory=tuple)  # DermatomeConcordance rows
    presentations: tuple[PresentationOut, ...] = field(default_factory=tuple)
    deferred: tuple[Step, ...] = field(default_factory=tuple)  # care that waits until the red flags are excluded
    summary: tuple[str, ...] = field(default_factory=tuple)  # the case as recorded, a line a fact

    def __post_init__(self) -> None:
        # every step carries its number (step_numbers), however the plan was made: the JSON shows it, and a plan
        # made with dataclasses.replace cannot keep numbers its new steps no longer have
        numbers = step_numbers((s.id, s.part_of) for s in self.steps)
        if any(s.number != n for s, n in zip(self.steps, numbers, strict=True)):
            numbered = zip(self.steps, numbers, strict=True)
            object.__setattr__(self, "steps", tuple(s if s.number == n else replace(s, number=n) for s, n in numbered))

    def confirmed_flags(self) -> frozenset[str]:
        """The ids of the red flags the case confirms (warning ``red_flag_confirmed``: a fracture seen on imaging)."""
        return frozenset(w.subjects[0] for w in self.warnings if w.id == "red_flag_confirmed" and w.subjects)

    def holding_flags(self) -> tuple[RedFlagOut, ...]:
        """The red flags the deferred care waits for: those the case does not confirm; where every red flag is
        confirmed, all of them (a confirmed one holds no care back, but a "do not" of imaging waits while it stands).
        """
        confirmed = self.confirmed_flags()
        # those that hold back some deferred step (an instability beside a suspected infection: manipulation only)
        deferring = tuple(f for f in self.red_flags if f.defers) or self.red_flags
        holding = tuple(f for f in deferring if f.id not in confirmed)
        return holding or (deferring if self.deferred else ())

    def waits_on(self, step: Step) -> tuple[RedFlagOut, ...]:
        """The holding red flags a deferred step waits on (:meth:`holding_flags`): those that defer it."""
        holding = self.holding_flags()
        return tuple(f for f in holding if step.id in f.defers) or holding

    def deferred_common(self) -> tuple[RedFlagOut, ...]:
        """The red flags most deferred steps wait on (the first such set in the list's order, on a tie): the
        deferred list's heading names them, and a step waiting on others says which (:meth:`waits_on`)."""
        sets = [self.waits_on(s) for s in self.deferred]
        return max(sets, key=sets.count) if sets else self.holding_flags()

    def waits_while_confirmed(self) -> bool:
        """Whether the deferred care waits only on red flags the case confirms: then it is advice against imaging,
        which waits while they stand (no work-up will exclude them)."""
        return bool(self.deferred) and self.confirmed_flags() >= {f.id for f in self.holding_flags()}

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        """``json.dumps(self.to_dict(), ensure_ascii=False)``, made faster for cohorts."""

        return dumps(self)

    def step(self, key: str) -> Step:
        """A step by its number as the plan shows it ("3", "2.1"), intervention id, or recommendation id or IRI; an
        intervention given in two phases is its first step. A number is never read as a position: "3" is the step
        shown as 3, whatever parts stand before it."""
        for s in self.steps:
            if s.number == key:
                return s
        for s in self.steps:
            if key == s.id or any(key in (r, local(r)) for r in s.recommendations):
                return s
        raise KeyError(key)
