"""Dermatome–imaging concordance: which symptomatic dermatomes the imaging findings can explain, and how."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from ..case.paths import field_path
from ..consts import SK
from ..kb.index import local

if TYPE_CHECKING:
    from rdflib import Literal

    from ..reasoning.engine import CaseRun, Reasoner

VIA = {
    "exitingRoot": "foraminal (exiting root)",
    "traversingRoot": "paracentral or lateral recess (traversing root)",
    "centralCanalReaches": "central canal",
}
BOTH = ("left", "right")
IMAGING_ONLY = "imaging only: no symptom recorded in this dermatome"


@dataclass(frozen=True)
class Explanation:
    finding: str  # case field path
    type: str
    level: str
    root: str
    via: str
    side: str | None


@dataclass(frozen=True)
class DermatomeConcordance:
    """One symptomatic dermatome: on which sides it is symptomatic, and whether imaging explains it."""

    dermatome: str
    sides: tuple[str, ...]
    status: str  # explained | partly explained | not explained | imaging only: …
    explained_by: tuple[Explanation, ...]


def _sides(laterality: str | None) -> set[str]:
    name = local(laterality) if laterality else None
    return {name} if name in BOTH else set(BOTH)


def concordance(reasoner: Reasoner, run: CaseRun) -> list[DermatomeConcordance]:
    """Compare the symptomatic dermatomes (a body region counts as its dermatome set) with the roots imaging reaches.

    Foraminal findings reach the exiting root, paracentral and lateral recess findings the traversing root, and
    central canal stenosis the traversing root and every root below it, sacral included, on both sides.
    """

    kb, idx = reasoner.kb, reasoner.index
    symptomatic: dict[str, set[str]] = defaultdict(set)
    for _, derm, lat in run.symptom_dermatomes:
        symptomatic[derm] |= _sides(lat)

    def explain(finding: str, ftype: str, level: str, via: str, root: str, side: str | None) -> Explanation:
        return Explanation(
            field_path(run.case, finding),
            local(ftype),
            idx.notation(level),
            idx.notation(root),
            VIA[local(via)],
            local(side) if side else None,
        )

    out = []
    for derm in sorted(symptomatic, key=lambda d: int(cast("Literal | None", kb.value(SK[local(d)], SK.order)) or 0)):
        roots = reasoner.dermatome_roots.get(derm, set())
        covered: set[str] = set()
        explanations = []
        for finding, ftype, level, via, root, side in sorted(run.root_reach):
            if root not in roots:
                continue
            sides = set(BOTH) if local(via) == "centralCanalReaches" else _sides(side)
            if not sides & symptomatic[derm]:
                continue
            covered |= sides & symptomatic[derm]
            explanations.append(explain(finding, ftype, level, via, root, side))
        status = ("explained" if covered == symptomatic[derm] else "partly explained") if covered else "not explained"
        out.append(
            DermatomeConcordance(idx.notation(derm), tuple(sorted(symptomatic[derm])), status, tuple(explanations))
        )
    # roots that foraminal or recess findings reach but no symptom names: the radiologist's "pain along L3-L5?"
    reached: dict[str, list[Explanation]] = defaultdict(list)
    for finding, ftype, level, via, root, side in sorted(run.root_reach):
        if local(via) == "centralCanalReaches":
            continue
        for derm, roots in reasoner.dermatome_roots.items():
            if root in roots and derm not in symptomatic:
                reached[derm].append(explain(finding, ftype, level, via, root, side))
    for derm in sorted(reached, key=lambda d: int(cast("Literal | None", kb.value(SK[local(d)], SK.order)) or 0)):
        found_sides = sorted({s for e in reached[derm] for s in _sides(str(SK[e.side]) if e.side else None)})
        out.append(DermatomeConcordance(idx.notation(derm), tuple(found_sides), IMAGING_ONLY, tuple(reached[derm])))
    return out
