"""Red flags raised only by triggers of a narrower class that says what it holds back (a fracture on age alone, an
instability), and whether a recorded screen with none found is contradicted by the red flags it does not know."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import URIRef

from ..consts import SK
from ..kb.index import local
from ..reasoning.conditions import HOLDS, Applicability
from ..reasoning.engine import CaseRun, Reasoner
from .model import NotApplicable, RedFlagOut, Warning

PHASES = ("emergency", "urgent", "now")


@dataclass(frozen=True)
class Narrowed:
    """What a red flag holds back and how soon its own steps are due when every finding that raised it is of a
    narrower red-flag class with its own ``sk:preempts`` (back pain at 70 or over, not cleared by imaging: the
    red flag then pre-empts only spinal manipulation, its imaging is routine, and a screen that found none is not
    contradicted, for the screen knew the patient's age; a segmental instability, beyond the screen and sent for a
    routine surgical opinion, holds back only spinal manipulation, and the plan says so with the red flag)."""

    classes: tuple[str, ...]  # the narrower trigger classes
    preempts: tuple[str, ...]
    spares: tuple[str, ...]
    phase: str | None  # the phase its urgent steps take (sk:redFlagPhase), None to keep theirs
    screen_knows: bool  # sk:screenKnows: a recorded screen with none found weighed these triggers
    note: str = ""  # sk:narrowedNote: what the plan says of the red flag after its reason


def narrowed_flags(reasoner: Reasoner, run: CaseRun) -> dict[str, Narrowed]:
    """The case's red flags raised only by triggers of narrower classes that name what they pre-empt.

    A trigger with any class under the red flag that names no pre-emption of its own (osteoporosis, trauma, new
    height loss beside the age) keeps the red flag whole."""
    idx, kb = reasoner.index, reasoner.kb
    out = {}
    for flag, facts in run.red_flags.items():
        classes: set[str] = set()
        for f in facts:
            under = [t for t in run.fact_types.get(f, ()) if t != flag and idx.is_a(t, flag)]
            own = [t for t in under if (URIRef(t), SK.preempts, None) in kb]
            if not under or len(own) != len(under):
                classes = set()
                break
            classes.update(own)
        if not classes:
            continue

        def values(prop: URIRef, classes: set[str] = classes) -> tuple[str, ...]:
            return tuple(sorted({str(o) for c in classes for o in kb.objects(URIRef(c), prop)}))

        # the phase its urgent steps take: only where every narrower class names one (the most urgent of them)
        phases = [str(next(kb.objects(URIRef(c), SK.redFlagPhase), "")).rsplit("/", 1)[-1] for c in classes]
        phase = min(phases, key=PHASES.index) if all(p in PHASES for p in phases) else None
        knows = all(any(str(o).lower() == "true" for o in kb.objects(URIRef(c), SK.screenKnows)) for c in classes)
        note = "; ".join(values(SK.narrowedNote))
        out[flag] = Narrowed(tuple(sorted(classes)), values(SK.preempts), values(SK.spares), phase, knows, note)
    return out


def routine_phase(reasoner: Reasoner, run: CaseRun, a: Applicability, narrowed: dict[str, Narrowed]) -> str | None:
    """The phase a red flag's own urgent step takes where every red flag it acts on is narrowed to a later phase
    (``sk:redFlagPhase``): a fracture suspected on age alone is imaged routinely, not urgently (ACR variant 6 and
    red_flags.csv give no urgency)."""
    acted = {
        f
        for c in a.conditions
        if c.kind == "RedFlagPresent" and c.status == HOLDS
        for f in run.fact_types_of(c.facts)
        if f in run.red_flags
    }
    phases = [narrowed[f].phase for f in acted if f in narrowed]
    if not acted or len(phases) != len(acted) or None in phases:
        return None
    return min((p for p in phases if p is not None), key=PHASES.index)


def routine_why(reasoner: Reasoner, flags: dict[str, Narrowed]) -> str:
    """The timing said on such a step: which red flag, raised only on what."""
    idx = reasoner.index
    return "routine, not urgent: " + "; ".join(
        f"{idx.label(f)} is raised only on {', '.join(idx.label(c) for c in n.classes)}" for f, n in flags.items()
    )


def beyond_screen(reasoner: Reasoner, flag: str) -> bool:
    """Whether a red-flag screen recorded with none found does not cover the red flag (``sk:beyondRedFlagScreen``:
    a spinal instability, which red_flags.csv has no row for)."""
    return reasoner.kb.value(URIRef(flag), SK.beyondRedFlagScreen) is not None


def screen_contradicted(
    reasoner: Reasoner,
    flags: list[str],
    red_flags: list[RedFlagOut],
    narrowed: dict[str, Narrowed],
    screened: bool,
) -> list[Warning]:
    """``red_flag_screen_contradicted``: a screen recorded with none found beside red flags it would have found; not
    one it does not cover (a spinal instability), nor one narrowed to a trigger it knows (back pain at 70 or over)."""
    if not screened:  # most plans: no screen recorded with none found, nothing to read in the KB
        return []
    unknown_to_screen = [
        r
        for f, r in zip(flags, red_flags, strict=True)
        if not (f in narrowed and narrowed[f].screen_knows) and not beyond_screen(reasoner, f)
    ]
    if not unknown_to_screen:
        return []
    return [
        Warning(
            "red_flag_screen_contradicted",
            "the case records a red-flag screen with none found, but the recorded findings raise "
            + ", ".join(f"{r.label} ({r.reason})" for r in unknown_to_screen)
            + ": the red flags stand; check the screen",
            ("red_flag_screen", *(r.id for r in unknown_to_screen)),
        )
    ]


#: the missing field of rule no-red-flag-screen-found-unknown: a screen that found a red flag the case does not name
SCREEN_FOUND_UNNAMED = "which red flag red_flag_screen found"


def screen_found_unnamed(not_applicable: list[NotApplicable]) -> list[Warning]:
    """``red_flag_screen_found_unnamed``: a red-flag screen recorded as having found one, in a case none of whose
    findings is one (clinician's review R20 #1: the screen's result alone raised nothing and changed nothing but the
    screening step, while the plan still said not to image "without red flags" and considered spinal manipulation).
    The advice resting on there being no red flag is unknown (rule no-red-flag-screen-found-unknown); the warning asks
    for what was found and leaves what a red flag holds back to the clinician until it is named."""
    named = [n for n in not_applicable if SCREEN_FOUND_UNNAMED in n.missing]  # every NoRedFlag recommendation's
    if not named:
        return []
    waiting = sorted(local(n.recommendation) for n in named if n.status == "unknown")  # and not failing apart
    held = f"does not give the advice that rests on there being no red flag ({', '.join(waiting)}), " if waiting else ""
    return [
        Warning(
            "red_flag_screen_found_unnamed",
            "the red-flag screen (red_flag_screen) found a red flag, but the case records no finding that is one: "
            "record what it found (the symptom, risk factor, vital sign or laboratory value) so that spinekg raises "
            f"the red flag and acts on it. Until then this plan has no red-flag step, {held}and leaves to the "
            "clinician the care a red flag would hold back until it is excluded (conservative care, spinal injections "
            "and procedures, systemic corticosteroids; pain relief is not withheld): spinekg's judgement",
            ("red_flag_screen", *waiting),
        )
    ]
