"""What a rejected record still says: the id it gives and the red flags of its remaining fields, reported beside the
rejection (as ``spinekg recommend`` reports them)."""

from __future__ import annotations

from dataclasses import dataclass

from ..case.paths import field_path, path_key
from ..consts import DCTERMS, SK
from ..errors import CaseError

__all__ = ["SalvagedFlag", "salvaged_flags", "salvaged_id"]


@dataclass(frozen=True)
class SalvagedFlag:
    """One red flag of a rejected case's remaining fields: its id, label, the facts it rests on, and the line that
    reports it (naming, for a fact read without its rejected fields, those fields)."""

    id: str
    label: str
    facts: tuple[str, ...]
    line: str


def salvaged_flags(exc: CaseError, reasoner) -> list[SalvagedFlag]:
    """The red flags ``reasoner`` reads on what a rejected case still records (``exc.salvage``), by label."""
    if exc.salvage is None:
        return []
    runs = reasoner.run([exc.salvage])

    def named(fact: str) -> str:
        left_out = [p.path for p in exc.problems if p.path.startswith((fact + ".", fact + "["))]
        return f"{fact} without its rejected {', '.join(left_out)}" if left_out else fact

    out = []
    for flag in sorted({f for run in runs.values() for f in run.red_flags}, key=reasoner.index.label):
        found = {field_path(run.case, x) for run in runs.values() for x in run.red_flags.get(flag, ())}
        facts = sorted(found, key=path_key)
        label = reasoner.index.label(flag)
        line = f"RED FLAG despite the rejection: {label} (from {', '.join(map(named, facts))}): act on it now"
        out.append(SalvagedFlag(str(flag).removeprefix(str(SK)), label, tuple(facts), line))
    return out


def salvaged_id(exc: CaseError) -> str:
    """The id of a rejected case when it gave a valid one (the salvage graph then carries it), else ``""``."""
    if exc.salvage is None:
        return ""
    return next((str(v) for v in exc.salvage.objects(None, DCTERMS.identifier)), "")
