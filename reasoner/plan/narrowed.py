"""Red flags raised only by triggers of a narrower class that says what it holds back (a fracture on age alone)."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import URIRef

from ..consts import SK
from ..reasoning.conditions import HOLDS, Applicability
from ..reasoning.engine import CaseRun, Reasoner

PHASES = ("emergency", "urgent", "now")


@dataclass(frozen=True)
class Narrowed:
    """What a red flag holds back and how soon its own steps are due when every finding that raised it is of a
    narrower red-flag class with its own ``sk:preempts`` (back pain at 70 or over, not cleared by imaging: the
    red flag then pre-empts only spinal manipulation, its imaging is routine, and a screen that found none is not
    contradicted, for the screen knew the patient's age)."""

    classes: tuple[str, ...]  # the narrower trigger classes
    preempts: tuple[str, ...]
    spares: tuple[str, ...]
    phase: str | None  # the phase its urgent steps take (sk:redFlagPhase), None to keep theirs
    screen_knows: bool  # sk:screenKnows: a recorded screen with none found weighed these triggers


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
        out[flag] = Narrowed(tuple(sorted(classes)), values(SK.preempts), values(SK.spares), phase, knows)
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
