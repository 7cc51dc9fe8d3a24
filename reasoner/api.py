"""The library entry points: ``recommend`` a plan for one case or many, with its provenance."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rdflib import Graph

from .case import Case, case_graph, case_iri, load_case, parse_case
from .engine import CaseRun, Reasoner
from .plan import Plan, assemble
from .provenance import provenance_graph


@lru_cache(maxsize=1)
def default_reasoner() -> Reasoner:
    """The reasoner over the installed knowledge base, built once per process."""
    return Reasoner()


def as_case(case: Case | str | Path | dict) -> Case:
    """A Case from a Case, a file path, or a document dict (validated; raises CaseError)."""
    if isinstance(case, Case):
        return case
    if isinstance(case, dict):
        return parse_case(case)
    return load_case(case)


@dataclass(frozen=True)
class Result:
    """A plan with the case graph it was made from (for provenance)."""

    plan: Plan
    case: Case
    graph: Graph
    run: CaseRun

    def provenance(self, reasoner: Reasoner | None = None) -> Graph:
        """The PROV-O graph of the run that made this plan."""
        return provenance_graph(reasoner or default_reasoner(), self.plan, self.run, self.graph)


def reason(cases: list[Case | str | Path | dict], reasoner: Reasoner | None = None) -> list[Result]:
    """Plans for many cases at once: one store, every rule query run once over all of them."""
    r = reasoner or default_reasoner()
    loaded = [as_case(c) for c in cases]
    graphs = [case_graph(c) for c in loaded]
    _check_shapes(loaded, graphs)
    runs = r.run(graphs)
    out = []
    for c, g in zip(loaded, graphs, strict=True):
        run = runs[str(case_iri(c.id))]
        out.append(Result(assemble(r, run), c, g, run))
    return out


def _check_shapes(cases: list[Case], graphs: list[Graph]) -> None:
    """The SHACL case shapes, over all the cases at once; the first case with a violation is rejected."""
    from .casecheck import check_case_graph
    from .errors import CaseError

    merged = Graph()
    for g in graphs:
        merged += g
    problems = check_case_graph(merged)
    if not problems:
        return
    for case, g in zip(cases, graphs, strict=True):
        own = check_case_graph(g)
        if own:
            raise CaseError(own, source=case.source)


def recommend(case: Case | str | Path | dict, reasoner: Reasoner | None = None) -> Plan:
    """The staged management plan for one case.

    >>> plan = recommend({"id": "doc-example", "symptoms": [
    ...     {"type": "radicular_pain", "dermatomes": ["L5"], "laterality": "left", "duration_weeks": 3}]})
    >>> plan.steps[0].stance in ("do", "consider", "avoid") and not plan.red_flags
    True
    """
    return reason([case], reasoner)[0].plan


def provenance(case: Case | str | Path | dict, reasoner: Reasoner | None = None) -> Graph:
    """The PROV-O graph of the run that makes the plan for ``case``."""
    r = reasoner or default_reasoner()
    return reason([case], r)[0].provenance(r)


def salvaged_red_flags(exc, reasoner: Reasoner | None = None) -> list[tuple[str, list[str]]]:
    """The red flags the clean entries of a rejected case still carry: (label, field paths) for each.

    >>> from reasoner.errors import CaseError
    >>> bad = {"id": "x", "symptoms": [{"type": "urinary_retention"}, {"type": "numbness", "dermatomes": ["L9"]}]}
    >>> try:
    ...     recommend(bad)
    ... except CaseError as exc:
    ...     salvaged_red_flags(exc)
    [('suspected cauda equina syndrome', ['symptoms[0]'])]
    """
    from .plan import field_path, path_key

    if exc.salvage is None:
        return []
    r = reasoner or default_reasoner()
    runs = r.run([exc.salvage])
    out = []
    for flag in sorted({f for run in runs.values() for f in run.red_flags}, key=r.index.label):
        facts = sorted(
            (field_path(run.case, x) for run in runs.values() for x in run.red_flags.get(flag, ())), key=path_key
        )
        out.append((r.index.label(flag), facts))
    return out
