"""What the case records as ruled out for the patient (``sk:contraindicates``): the steps not offered, and the warning.

A contraindication is the clinician's record (``risk_factors: [nsaid_contraindication]``), never inferred from the
cautions a source names (renal impairment is a caution for NSAIDs, not a contraindication). It rules out the
intervention it names and every narrower one, in every phase, and a pain-relief umbrella only where every drug under
it is ruled out: ACP's "consider drug treatment", whose quoted clause names no drug, stands beside a contraindicated
NSAID (clinician's review R11: its disagreements with NICE on the other drugs are live exactly then). Where no pain
relief is left, ``no_pain_relief_left`` names it. What a source offers only where an intervention cannot be given (NICE
NG59's weak opioids "only if an NSAID is contraindicated") is a recommendation conditioned on the finding.

A contraindication to a kind of step that some sources replace and others do not (``sk:reviewStepKind``: an MRI
contraindication, every MRI) removes nothing here: the knowledge gives the other step where a source names one (CT
for suspected cauda equina), and a step no source replaces stays, named by ``contraindicated_step`` (an MRI for an
infection work-up must not vanish).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from rdflib import URIRef

from ..case.paths import path_key
from ..consts import SK, SK_IRI
from ..kb.index import KBIndex, local
from ..reasoning.engine import CaseRun, Reasoner
from .model import Step, Warning
from .parts import by_class, recorded

#: a recorded contraindication: the case's fact and its class that has ``sk:contraindicates``
Recorded = tuple[str, str]


def contraindicated(reasoner: Reasoner, run: CaseRun, path: Callable[[str], str]) -> dict[str, list[Recorded]]:
    """Intervention IRI → the case's facts (with their class) that rule it out, in the case's field order; empty for
    most cases.

    >>> from reasoner.api import recommend
    >>> plan = recommend({"id": "doc-nsaid-contraindicated", "risk_factors": ["nsaid_contraindication"], "symptoms": [
    ...     {"type": "axial_pain", "body_regions": ["lower_back"], "duration_weeks": 1}]})
    >>> [s.id for s in plan.steps if s.id in ("nsaid", "weak_opioid")]
    ['weak_opioid']
    """
    ruling = by_class(reasoner, SK.contraindicates)
    out: dict[str, list[Recorded]] = {}
    for fact, classes in recorded(run, path, ruling):
        for cls in classes:
            for interv in ruling[cls]:
                out.setdefault(interv, []).append((fact, cls))
    return out


def ruled_out(idx: KBIndex, interv: str, contra: Mapping[str, list[Recorded]], relief: bool) -> list[Recorded]:
    """The recorded contraindications that hold a step back: its intervention, or a broader one, is contraindicated;
    for pain relief (``relief``), also an umbrella every drug under which is contraindicated. An umbrella with a drug
    left under it stands: a contraindicated NSAID leaves ACP 2017's "consider drug treatment", whose quoted clause
    names no drug, and its disagreements with NICE NG59 on the other drugs, for the clinician (review R11)."""
    ruled = [r for c, found in contra.items() if idx.is_a(interv, c) for r in found]
    if ruled or not relief:
        return ruled
    under = [c for c in contra if idx.is_a(c, interv)]
    if not under:
        return []
    # an umbrella is held back only where every drug under it is contraindicated: one that still has another
    # (ACP 2017's "consider drug treatment" with an NSAID contraindicated) stands (clinician's review R11, defect 5)
    members = [m for m, up in idx.ancestors.items() if interv in up and m != interv]
    if not all(any(idx.is_a(m, c) for c in under) for m in members):
        return []
    return [r for c in under for r in contra[c]]


def why_not(
    idx: KBIndex, interv: str, contra: Mapping[str, list[Recorded]], ruled: list[Recorded], path: Callable[[str], str]
) -> str:
    """A held-back step's why-not: the contraindications recorded (``ruled``), and for an umbrella above a
    contraindicated analgesic, the analgesic."""
    said = ", ".join(f"{path(f)}: {idx.label(c)}" for f, c in ruled)
    if any(idx.is_a(interv, i) for i in contra):
        return f"contraindicated ({said}): not offered"
    under = ", ".join(idx.label(i) for i in sorted(contra) if idx.is_a(i, interv))
    return f"{under}, under it, contraindicated ({said}): not offered, as after an analgesic tried without success"


def contraindication_recorded(
    idx: KBIndex, held: Mapping[Recorded, list[str]], path: Callable[[str], str]
) -> list[Warning]:
    """One warning per recorded contraindication that held recommendations back (``held``: the recorded
    contraindication → those recommendations), naming what it rules out and the recommendations not offered."""
    out = []
    for fact, cls in sorted(held, key=lambda fc: (path_key(path(fc[0])), fc[1])):
        recs = sorted(set(held[fact, cls]), key=local)
        ruled = sorted({idx.recommendations[r].intervention for r in recs}, key=idx.label)
        out.append(
            Warning(
                "contraindication_recorded",
                f"{idx.label(cls)} ({path(fact)}), as the clinician recorded it: so not offered: "
                f"{', '.join(idx.label(i) for i in ruled)} ({', '.join(local(r) for r in recs)}); what the sources "
                "offer where it cannot be given stays in the plan",
                (path(fact), local(cls), *(local(i) for i in ruled), *(local(r) for r in recs)),
            )
        )
    return out


def contraindicated_step(
    reasoner: Reasoner, run: CaseRun, steps: Iterable[Step], path: Callable[[str], str]
) -> list[Warning]:
    """A finding that contraindicates some kinds of step (``sk:reviewStepKind``: an MRI contraindication, every MRI),
    recorded in a case whose plan still does or considers a step of those kinds: named, with the KB's note on where the
    sources give another step instead (``sk:contraindicationNote``, and the note on a named step's intervention where it
    has one), for the clinician to decide. Where a source names
    the other step, the knowledge gives it in place of the contraindicated one (a condition on the finding); what is
    left here is a step no source replaces, and it stands as its sources give it."""
    kinds_of = by_class(reasoner, SK.reviewStepKind)
    idx, steps, out = reasoner.index, list(steps), []
    for fact, classes in recorded(run, path, kinds_of):
        for cls in classes:
            given = [s for s in steps if s.stance != "avoid" and any(idx.is_a(SK_IRI + s.id, k) for k in kinds_of[cls])]
            if not given:
                continue
            named = ", ".join(
                f"{s.stance} {idx.label(SK_IRI + s.id)} ({s.phase}: {', '.join(local(r) for r in s.recommendations)})"
                for s in given
            )
            note = str(next(iter(reasoner.kb.objects(URIRef(cls), SK.contraindicationNote)), ""))
            # what the sources say of one such step where it is contraindicated (the whole-spine MRI: no source names
            # another study of the whole spine), once for each intervention named
            for interv in dict.fromkeys(SK_IRI + s.id for s in given):
                note += "".join(f" {n}" for n in reasoner.kb.objects(URIRef(interv), SK.contraindicationNote))
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
