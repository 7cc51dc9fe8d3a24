"""Dermatome–imaging concordance: which symptomatic dermatomes the imaging findings can explain, and how."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from ..case.paths import field_path
from ..consts import SK
from ..kb.index import local
from .model import Warning
from .words import fact_text

if TYPE_CHECKING:
    from rdflib import Literal

    from ..reasoning.engine import CaseRun, Reasoner

VIA = {
    "exitingRoot": "foraminal (exiting root)",
    "traversingRoot": "paracentral or lateral recess (traversing root)",
    "centralCanalReaches": "central canal",
}
#: How a herniation recorded without a zone may reach a root (``sk:possible_root_compression``): not known to.
POSSIBLY = "only if foraminal or far lateral (exiting root): the zone on the imaging report decides"
BOTH = ("left", "right")
IMAGING_ONLY = "imaging only: no symptom recorded in this dermatome"
#: A dermatome only a herniation without a zone could explain: the zone on the imaging report decides it.
ZONE_UNKNOWN = "unknown: the zone is not recorded"
_POSSIBLE = "possible_root_compression"


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
    status: str  # explained | partly explained | not explained | unknown: the zone … | imaging only: …
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
    # a possible compression is shown as the finding it is (its herniation type), reaching a root only possibly
    typed = {f: t for f, t, *_ in run.root_reach if local(t) != _POSSIBLE}

    def explain(finding: str, ftype: str, level: str, via: str, root: str, side: str | None) -> Explanation:
        possible = local(ftype) == _POSSIBLE
        return Explanation(
            field_path(run.case, finding),
            local(typed.get(finding, ftype)) if possible else local(ftype),
            idx.notation(level),
            idx.notation(root),
            POSSIBLY if possible else VIA[local(via)],
            local(side) if side else None,
        )

    out = []
    for derm in sorted(symptomatic, key=lambda d: int(cast("Literal | None", kb.value(SK[local(d)], SK.order)) or 0)):
        roots = reasoner.dermatome_roots.get(derm, set())
        covered: set[str] = set()
        maybe: set[str] = set()  # sides only a herniation without a zone may explain
        explanations = []
        for finding, ftype, level, via, root, side in sorted(run.root_reach):
            if root not in roots:
                continue
            sides = set(BOTH) if local(via) == "centralCanalReaches" else _sides(side)
            if not sides & symptomatic[derm]:
                continue
            (maybe if local(ftype) == _POSSIBLE else covered).update(sides & symptomatic[derm])
            explanations.append(explain(finding, ftype, level, via, root, side))
        out.append(
            DermatomeConcordance(
                idx.notation(derm), tuple(sorted(symptomatic[derm])), _status(symptomatic[derm], covered, maybe),
                tuple(explanations),
            )
        )  # fmt: skip
    # roots that foraminal or recess findings reach but no symptom names: the radiologist's "pain along L3-L5?"
    reached: dict[str, list[Explanation]] = defaultdict(list)
    for finding, ftype, level, via, root, side in sorted(run.root_reach):
        if local(via) == "centralCanalReaches" or local(ftype) == _POSSIBLE:
            continue
        for derm, roots in reasoner.dermatome_roots.items():
            if root in roots and derm not in symptomatic:
                reached[derm].append(explain(finding, ftype, level, via, root, side))
    for derm in sorted(reached, key=lambda d: int(cast("Literal | None", kb.value(SK[local(d)], SK.order)) or 0)):
        found_sides = sorted({s for e in reached[derm] for s in _sides(str(SK[e.side]) if e.side else None)})
        out.append(DermatomeConcordance(idx.notation(derm), tuple(found_sides), IMAGING_ONLY, tuple(reached[derm])))
    return out


def _status(symptomatic: set[str], covered: set[str], maybe: set[str]) -> str:
    """Explained on every symptomatic side, on some, on none; where a herniation without a zone is all that could
    explain a side, unknown (the zone decides), never "not explained".

    >>> _status({"right"}, set(), {"right"})
    'unknown: the zone is not recorded'
    >>> _status({"left", "right"}, {"left"}, {"right"})
    'partly explained, otherwise unknown: the zone is not recorded'
    >>> _status({"left", "right"}, set(), {"right"})
    'not explained (left side), otherwise unknown: the zone is not recorded'
    >>> _status({"right"}, set(), set())
    'not explained'
    """
    if covered == symptomatic:
        return "explained"
    if covered | maybe == symptomatic:
        return f"partly explained, otherwise {ZONE_UNKNOWN}" if covered else ZONE_UNKNOWN
    if maybe - covered:
        rest = "/".join(sorted(symptomatic - covered - maybe))
        return f"{'partly explained' if covered else 'not explained'} ({rest} side), otherwise {ZONE_UNKNOWN}"
    return "partly explained" if covered else "not explained"


def zone_not_recorded(reasoner: Reasoner, run: CaseRun) -> list[Warning]:
    """A herniation recorded without a zone that, were it foraminal or far lateral, would reach a symptomatic root
    (``sk:possible_root_compression``): the plan says what it reads the finding as and what would decide it."""
    idx = reasoner.index
    possible: dict[str, set[str]] = defaultdict(set)
    likely: dict[str, set[str]] = defaultdict(set)
    for finding, ftype, _, via, root, _ in run.root_reach:
        if local(ftype) == _POSSIBLE:
            possible[finding].add(idx.notation(root))
        elif local(via) != "centralCanalReaches":
            likely[finding].add(idx.notation(root))
    out = []
    for finding in sorted(possible, key=lambda f: field_path(run.case, f)):
        path, maybe = field_path(run.case, finding), ", ".join(sorted(possible[finding]))
        read = f"reaches the {', '.join(sorted(likely[finding]))} root" if likely[finding] else "reaches no root"
        out.append(
            Warning(
                "zone_not_recorded",
                f"{path} ({fact_text(idx, run.details.get(finding, {}))}) records no zone: read as paracentral, it "
                f"{read}; foraminal or far lateral, it would reach the {maybe} root, in whose dermatome a symptom is "
                f"recorded (disc_level_roots.csv). The zone on the imaging report decides whether imaging explains "
                f"that symptom: until it is recorded no compression of the {maybe} root is inferred, and what needs "
                "one is undecided, not ruled out",
                (path, f"{path}.zone"),
            )
        )
    return out
