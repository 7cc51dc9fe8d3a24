"""What a plan is made of (the design's JSON contract as frozen dataclasses) and the case field paths it names."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..kb.index import local
from .jsontext import dumps


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


@dataclass(frozen=True)
class RedFlagOut:
    id: str
    label: str
    triggered_by: tuple[str, ...]
    flagged_by_sources: tuple[str, ...]  # articles whose applicable recommendations act on this red flag
    reason: str = ""  # the triggering facts in words


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
    status: str  # fails | unknown | deferred | overridden
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

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        """``json.dumps(self.to_dict(), ensure_ascii=False)``, made faster for cohorts."""

        return dumps(self)

    def step(self, key: str) -> Step:
        """A step by intervention id, recommendation id or IRI, or 1-based position."""
        for n, s in enumerate(self.steps, 1):
            if key in (s.id, str(n)) or any(key in (r, local(r)) for r in s.recommendations):
                return s
        raise KeyError(key)
