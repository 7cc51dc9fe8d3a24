"""A blood work-up step whose tests the case already records: the step says which are on file.

A work-up names the laboratory results it measures (``sk:includesTest``: the infection work-up an ESR, a CRP and a
white cell count, besides blood cultures; the malignancy work-up an ESR and a CRP). Where the case records some of
them (``labs``), the step's timing names them with their values, so the clinician orders the rest and does not
repeat what is on file for the same question (clinician's review R18 #7: ESR 48 and CRP 8 on file, both ordered
again). Which results are current enough is the clinician's: the case format does not date its labs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..consts import SK, SK_IRI
from ..reasoning.engine import CaseRun, Reasoner
from .model import Step
from .parts import by_class, recorded
from .words import fact_text


def tests_on_file(reasoner: Reasoner, run: CaseRun, steps: list[Step], path: Callable[[str], str]) -> list[Step]:
    """``steps``, each work-up step (do or consider) whose tests the case records (some or all) timed with them."""
    measured = by_class(reasoner, SK.includesTest, inverse=True)  # laboratory result class → the work-ups
    labs = recorded(run, path, measured)
    if not labs:
        return steps
    includes = by_class(reasoner, SK.includesTest)  # work-up → the laboratory result classes it measures
    idx = reasoner.index
    out = []
    for s in steps:
        tests = includes.get(SK_IRI + s.id, ())
        have = [f for f, classes in labs if s.stance in ("do", "consider") and not set(classes).isdisjoint(tests)]
        if not have:
            out.append(s)
            continue
        said = ", ".join(f"{fact_text(idx, run.details.get(f, {}))} ({path(f)})" for f in have)
        done = {c for f, classes in labs if f in have for c in classes}
        rest = [idx.label(t) for t in sorted(tests) if t not in done]
        note = (
            f"on file: {said}; order the rest of it ({', '.join(rest)}, and the rest the step names), not these again"
            if rest
            else f"its tests are on file: {said}; read them rather than order them again"
        ) + " (spinekg's judgement: a result the case records is not repeated for the same question)"
        out.append(replace(s, timing=f"{s.timing}; {note}" if s.timing else note))
    return out
