"""A step a source gives only as part of a treatment package, standing in a plan without the rest of the package.

NICE NG59 considers manual therapy (manipulation, mobilisation, massage) "only as part of a treatment package including
exercise"; ACP 2017 names spinal manipulation and massage as options of their own. Where a plan does or considers
such an intervention (``sk:onlyInPackageWith`` on its class names what the package needs, ``sk:onlyInPackageEvidence``
the sentence) and no step does or considers the other (nor a class the KB says is the same course of it: physical
therapy for exercise therapy), typically because exercise was tried without success and is not offered again, the
plan quotes the source's sentence beside the step (warning ``outside_its_package``). The step stays, as its sources
give it: a warning, never a step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from rdflib import URIRef

from ..case.paths import path_key
from ..consts import SK, SK_IRI
from ..kb.index import local
from ..reasoning.engine import CaseRun, Reasoner
from .model import Step, Warning
from .parts import by_class


def outside_its_package(
    reasoner: Reasoner,
    run: CaseRun,
    steps: Iterable[Step],
    failed: Mapping[str, list[str]],
    path: Callable[[str], str],
) -> list[Warning]:
    """Each step (do or consider) of an intervention a source gives only beside another, in a plan with no step of
    that other: named once per step, with the source's sentence and what the case records of the other (tried
    without success).

    >>> from reasoner.api import recommend
    >>> plan = recommend({"id": "doc-manipulation-no-exercise", "symptoms": [
    ...     {"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": 20}],
    ...     "prior_treatments": [{"type": "exercise_therapy", "weeks": 8, "outcome": "failed"}]})
    >>> [w.subjects for w in plan.warnings if w.id == "outside_its_package"]
    [('spinal_manipulation', 'exercise_therapy', 'prior_treatments[0]')]
    """
    package = by_class(reasoner, SK.onlyInPackageWith)  # intervention class → what it is given only beside
    if not package:
        return []
    idx = reasoner.index
    steps = list(steps)
    given = [s for s in steps if s.stance != "avoid"]
    out = []
    for step in given:
        interv = SK_IRI + step.id
        for cls in sorted(c for c in package if idx.is_a(interv, c)):
            for other in sorted(package[cls]):
                if any(idx.same_course_is_a(SK_IRI + s.id, other) for s in given):
                    continue
                tried = sorted(
                    (f for t, fs in failed.items() if idx.same_course_is_a(t, other) for f in fs),
                    key=lambda f: path_key(path(f)),
                )
                evidence = sorted(reasoner.kb.objects(URIRef(cls), SK.onlyInPackageEvidence), key=str)
                said = "; ".join(
                    f"\u201c{e.quote}\u201d ({e.source}, {e.citation})" for e in map(idx.evidence, evidence)
                )
                why = (
                    f" ({', '.join(path(f) for f in tried)}: tried without success, not offered again)" if tried else ""
                )
                number = f" (step {step.number})" if step.number else ""
                out.append(
                    Warning(
                        "outside_its_package",
                        f"{step.label}{number} stands in this plan without {idx.label(other)}{why}: {said}. The step "
                        f"stands as its sources give it; by this sentence it goes with {idx.label(other)}, not in "
                        "place of it: weigh it for this patient",
                        (step.id, local(other), *(path(f) for f in tried)),
                    )
                )
    return out
