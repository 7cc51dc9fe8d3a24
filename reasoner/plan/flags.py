"""The plan's red flags in words, and the warning where the source articles that apply to a case do not flag one.

Each red flag the case raises is given with the findings that raised it (the class that made each one a trigger,
where it is not the recorded type), the table's other triggers the case records, which do not raise it alone, and
the source articles whose applicable recommendations act on it; an article whose recommendations apply but that
does not flag it is named in ``source_missed_red_flag`` (seed 000's saddle-pattern deficit).
"""

from __future__ import annotations

from collections.abc import Callable

from ..case.paths import path_key
from ..consts import RDF
from ..kb.index import local
from ..reasoning.conditions import HOLDS
from ..reasoning.engine import CaseRun, Reasoner
from . import parts as planparts
from .model import RedFlagOut, Warning
from .narrowed import beyond_screen
from .words import Words


def red_flag_outputs(
    reasoner: Reasoner,
    run: CaseRun,
    flags: list[str],
    applying: list,
    narrowed: dict,
    words: Words,
    path: Callable[[str], str],
) -> tuple[list[RedFlagOut], list[Warning]]:
    """The plan's red flags (in the order of ``flags``) and the ``source_missed_red_flag`` warnings; ``applying``
    are the (applicability, info, driven) items of the recommendations that apply, ``narrowed`` the red flags raised
    only by narrower triggers (:func:`reasoner.plan.narrowed.narrowed_flags`)."""
    idx = reasoner.index
    red_flags: list[RedFlagOut] = []
    warnings: list[Warning] = []
    applying_articles = sorted({info.source for _, info, _ in applying if not info.safety})
    for flag in flags:
        flagged_by = sorted(
            {
                info.source
                for a, info, _ in applying
                if not info.safety or info.source.isdigit()
                for c in a.conditions
                if c.kind == "RedFlagPresent" and c.status == HOLDS and flag in run.fact_types_of(c.facts)
            }
        )
        facts = sorted(run.red_flags[flag], key=lambda f: path_key(path(f)))
        triggered = tuple(path(f) for f in facts)

        def because(f: str, flag: str = flag) -> str:
            # the finding class that made it a red flag, where it is not the recorded type itself
            why = sorted(
                idx.label(t)
                for t in run.fact_types.get(f, ())
                if t != flag and idx.is_a(t, flag) and t not in run.details.get(f, {}).get(str(RDF.type), ())
            )
            return words.trigger(f)[1] + (f" ({', '.join(why)})" if why else "")

        reason = "; ".join(because(f) for f in facts)
        # the table's other triggers the case records, which do not raise it alone (night pain beside a cancer
        # history): named too, apart, so the reason is every trigger recorded (clinician's review R2, r2-10)
        others = planparts.other_listed_triggers(reasoner, run, flag, path)

        def listed(f: str, cs: list[str]) -> str:  # the classes that make it a trigger, where not its recorded type
            why = [idx.label(c) for c in cs if c not in run.details.get(f, {}).get(str(RDF.type), ())]
            return words.trigger(f)[1] + (f" ({', '.join(why)})" if why else "")

        if others:
            reason += (
                "; and, listed among its triggers in red_flags.csv though spinekg does not raise it on them alone: "
            )
            reason += "; ".join(listed(f, cs) for f, cs in others)
        if flag in narrowed and narrowed[flag].note:  # what it is and holds back (an instability: beyond the screen)
            reason += f"; {narrowed[flag].note}"
        red_flags.append(
            RedFlagOut(local(flag), idx.label(flag), triggered, tuple(flagged_by), reason, idx.held_until(flag))
        )
        # an article silent on a red flag beyond the screen (instability) that others act on missed no red flag
        missed = [art for art in applying_articles if art.isdigit() and art not in flagged_by]
        missed = [] if flagged_by and beyond_screen(reasoner, flag) else missed
        if missed or not flagged_by:
            if missed:
                msg = (
                    f"{idx.label(flag)} ({', '.join(triggered)}): the source article(s) "
                    f"{', '.join(missed)} whose recommendations apply to this case do not flag it"
                    + (f" (article(s) {', '.join(flagged_by)} do)" if flagged_by else "")
                    + "; spinekg raises it and acts on it first with its safety rules (see the steps' evidence)"
                )
            else:
                msg = (
                    f"{idx.label(flag)} ({', '.join(triggered)}): no source article recommendation addresses it; "
                    "spinekg acts on it with its safety rules (see the steps' evidence)"
                )
            warnings.append(Warning("source_missed_red_flag", msg, (local(flag), *missed)))
    return red_flags, warnings
