"""Which clock a step's timing counts from: the episode, a sciatica dated apart, or the symptom it is about.

A step "if symptoms persist after N weeks" is due now once the time elapsed reaches N weeks. The time elapsed is the
episode's, or the failed care's where that is longer (rule elapsed); a recommendation about sciatica counts from the
sciatica where the case dates it apart from a longer episode (``sk:sciaticaWeeks``, :func:`parts.sciatica_timed`);
and a recommendation the KB times by a symptom of its own (``sk:timedBy``: article 003's augmentation of a confirmed
fracture by the back pain, the fracture's own pain) counts from that symptom where the case dates it apart from a
longer episode. A 3-week fracture pain beside a 14-week sciatica is not 14 weeks of fracture pain (clinician's review
R12 #4: the augmentation "due now" on the sciatica's weeks).
"""

from __future__ import annotations

from typing import NamedTuple

from ..consts import SK
from ..kb.index import RecInfo
from ..reasoning.engine import CaseRun, Reasoner
from . import parts as planparts

_WEEKS = str(SK.durationWeeks)


class Clock(NamedTuple):
    """The weeks a step's timing counts (None: not recorded), what they are of, and the note its pending timing
    carries ("" where it counts the episode)."""

    weeks: float | None
    of: str
    since: str


def own_weeks(reasoner: Reasoner, run: CaseRun, classes: tuple[str, ...]) -> float | None:
    """The longest recorded duration of the case's present symptoms of any of ``classes`` (None: none dated)."""
    idx = reasoner.index
    return max(
        (
            float(w)
            for f, types in run.fact_types.items()
            if any(idx.is_a(t, c) for t in types for c in classes)
            for w in run.details.get(f, {}).get(_WEEKS, ())
        ),
        default=None,
    )


def clock(reasoner: Reasoner, run: CaseRun, info: RecInfo) -> Clock:
    """The clock of one applying recommendation's step (see the module's docstring)."""
    if info.timed_by:
        weeks = own_weeks(reasoner, run, info.timed_by)
        if weeks is not None and run.episode_weeks is not None and weeks < run.episode_weeks:
            what = " or ".join(reasoner.index.label(c) for c in info.timed_by)
            return Clock(
                weeks,
                f"{what} (dated apart from the episode)",
                f" (the {what}, dated apart from the episode, has lasted {weeks:g} weeks)",
            )
    if run.sciatica_weeks is not None and info.iri in planparts.sciatica_timed(reasoner):
        weeks = run.sciatica_weeks
        return Clock(
            weeks,
            "sciatica (dated apart from the episode)",
            f" (the sciatica, dated apart from the episode, has lasted {weeks:g} weeks)",
        )
    return Clock(run.elapsed_weeks, "symptoms or failed care", "")
