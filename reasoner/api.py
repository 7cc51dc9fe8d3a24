"""The library entry points: ``recommend`` a plan for one case or many, with its provenance."""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import cast

from rdflib import Graph

from .case import graph as casegraph
from .case.files import load_case
from .case.model import Case, case_iri, vocabulary
from .case.validate import parse_case
from .cohort.rejected import salvaged_flags
from .errors import UsageError
from .kb.graphcache import materialise
from .kb.load import new_graph
from .ntriples import Triples
from .plan.assemble import assemble
from .plan.model import Plan
from .plan.provenance import provenance_graph, provenance_nt
from .reasoning.engine import ENGINES, CaseRun, Reasoner, fewer_collections
from .reasoning.stores import RemoteStore

#: The engine :func:`default_reasoner` builds when ``SPINEKG_ENGINE`` does not name one (:data:`ENGINES`): ``auto``
#: (the in-process engine for a few cases at a time, the embedded store for more), unless a command that reasons
#: over one case in a fresh process asked for the embedded store (:func:`prefer_engine`): it loads the KB in a
#: third of the time and has no KB-side parts to compute first.
_preferred = ["auto"]


def prefer_engine(engine: str) -> None:
    """The engine the process's default reasoner uses, if it is not built yet and ``SPINEKG_ENGINE`` is unset."""
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r} is not one of {', '.join(ENGINES)}")
    _preferred[0] = engine


def engine_name() -> str:
    """The engine a default reasoner built now would use: ``SPINEKG_ENGINE``, else the preferred one."""
    chosen = os.environ.get("SPINEKG_ENGINE") or _preferred[0]
    if chosen not in ENGINES:
        raise UsageError(f"SPINEKG_ENGINE: {chosen!r} is not one of {', '.join(ENGINES)}")
    return chosen


@lru_cache(maxsize=1)
def default_reasoner() -> Reasoner:
    """The reasoner over the installed knowledge base, built once per process, with the engine
    :func:`engine_name` names (plans are the same with either: the test suite compares them).

    The KB's hundreds of thousands of Python objects live as long as the process: they are moved out of the
    garbage collector's sight (``gc.freeze``), so its full collections no longer pause a warm call for tens
    of milliseconds; the KB graph read from the cache is filled completely first (:func:`materialise`), so what
    is frozen is the whole of it. With the collector off there are no collections to spare: a one-case command of
    :mod:`reasoner.cli` runs so, and skips the collection, the freeze and the filling (its plan reads the KB one
    predicate at a time), about 25 ms of its cold start.
    """
    reasoner = Reasoner(engine=engine_name())
    reasoner.index.use_cache(reasoner.kb_version)  # the recommendations, now, so they are frozen with the rest
    if gc.isenabled():
        materialise(reasoner.kb)
        gc.collect()
        gc.freeze()
    return reasoner


def endpoint_reasoner(
    query_url: str, update_url: str | None = None, store_url: str | None = None, auth: str | None = None
) -> Reasoner:
    """A reasoner whose rules run in a SPARQL 1.1 store (see :class:`reasoner.reasoning.stores.RemoteStore`)."""

    return Reasoner(connect=lambda nt, version: RemoteStore(query_url, update_url, store_url, nt, version, auth=auth))


def as_case(case: Case | str | Path | dict) -> Case:
    """A Case from a Case, a file path, or a document dict (validated; raises CaseError)."""
    if isinstance(case, Case):
        return case
    if isinstance(case, dict):
        return parse_case(case)
    return load_case(case)


@dataclass(frozen=True)
class Result:
    """A plan with the case triples it was made from (for provenance)."""

    plan: Plan
    case: Case
    triples: Triples
    run: CaseRun

    @cached_property
    def graph(self) -> Graph:
        """The case as an rdflib graph."""

        g = new_graph()
        for triple in self.triples:
            g.add(triple)
        return g

    def provenance(self, reasoner: Reasoner | None = None) -> Graph:
        """The PROV-O graph of the run that made this plan."""
        return provenance_graph(reasoner or default_reasoner(), self.plan, self.run, self.triples)

    def provenance_nt(self, reasoner: Reasoner | None = None) -> str:
        """The same PROV-O as N-Triples text, made without an rdflib graph (faster)."""

        return provenance_nt(reasoner or default_reasoner(), self.plan, self.run, self.triples)


def case_triples(case: Case) -> Triples:
    """The triples of a validated case (what ``reasoner.case.model.case_graph`` holds), without an rdflib graph.

    >>> len(case_triples(parse_case({"id": "t1", "age": 40}))) > 3
    True
    """
    return cast(Triples, casegraph.document_graph(case.data, vocabulary(), case_iri(case.id), into=Triples()))


def reason(cases: Sequence[Case | str | Path | dict], reasoner: Reasoner | None = None) -> list[Result]:
    """Plans for many cases at once: one store, every rule query run once over all of them.

    Each case is validated by the case reader before it reaches the store (the SHACL case shapes check the
    graphs the reader builds in the test suite, over the examples and a generated cohort).
    """
    r = reasoner or default_reasoner()
    with fewer_collections():
        loaded = [as_case(c) for c in cases]
        triples = [case_triples(c) for c in loaded]
        runs = r.run([t.nt() for t in triples])
        out = []
        for c, t in zip(loaded, triples, strict=True):
            run = runs[str(case_iri(c.id))]
            out.append(Result(assemble(r, run), c, t, run))
    return out


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

    if exc.salvage is None:
        return []
    return [(f.label, list(f.facts)) for f in salvaged_flags(exc, reasoner or default_reasoner())]
