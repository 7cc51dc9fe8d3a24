"""A warning for a step the case records a contraindication to (an MRI step for a patient with an MRI contraindication)
that still stands because no source names another step for its patients."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rdflib import URIRef

from ..case.paths import path_key
from ..consts import SK, SK_IRI
from ..kb.index import local
from ..reasoning.engine import CaseRun, Reasoner
from .model import Step, Warning


def contraindicated_step(
    reasoner: Reasoner, run: CaseRun, steps: Iterable[Step], path: Callable[[str], str]
) -> list[Warning]:
    """A finding that contraindicates some kinds of step (``sk:reviewStepKind``: an MRI contraindication, every MRI),
    recorded in a case whose plan still does or considers a step of those kinds: named, with the KB's note on where the
    sources give another step instead (``sk:contraindicationNote``), for the clinician to decide. Where a source names
    the other step, the knowledge gives it in place of the contraindicated one (a condition on the finding); what is
    left here is a step no source replaces, and it stands as its sources give it."""
    key = ("review_step_kind",)
    if key not in reasoner.cache:
        made: dict[str, list[str]] = {}
        for finding, kind in reasoner.kb.subject_objects(SK.reviewStepKind):
            made.setdefault(str(finding), []).append(str(kind))
        reasoner.cache[key] = made
    kinds_of: dict[str, list[str]] = reasoner.cache[key]
    idx, steps, out = reasoner.index, list(steps), []
    found = sorted(
        ((fact, sorted(c for c in types if c in kinds_of)) for fact, types in run.fact_types.items()),
        key=lambda fc: path_key(path(fc[0])),
    )
    for fact, classes in found:
        for cls in classes:
            given = [s for s in steps if s.stance != "avoid" and any(idx.is_a(SK_IRI + s.id, k) for k in kinds_of[cls])]
            if not given:
                continue
            named = ", ".join(
                f"{s.stance} {idx.label(SK_IRI + s.id)} ({s.phase}: {', '.join(local(r) for r in s.recommendations)})"
                for s in given
            )
            note = next(iter(reasoner.kb.objects(URIRef(cls), SK.contraindicationNote)), "")
            out.append(
                Warning(
                    "contraindicated_step",
                    f"{idx.label(cls)} ({path(fact)}) is recorded, and this plan still says to {named}. {note} "
                    "The step stands as its sources give it (spinekg adds no study its sources do not name): the "
                    "clinician decides how to image this patient",
                    (path(fact), local(cls), *dict.fromkeys(s.id for s in given)),
                )
            )
    return out
