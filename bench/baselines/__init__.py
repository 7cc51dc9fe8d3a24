"""What the baselines share: the reasoner's condition names, the status fold, and the plan each one hands back.

Every baseline decides the same things as spinekg (classes, conditions, red flags, dermatomes, root reach,
elapsed weeks) by its own means into a ``reasoner.engine.CaseRun``, then calls the same
``reasoner.plan.assemble`` — so its plan can be compared with spinekg's by ``Plan.to_dict()`` equality.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rdflib import BNode, Graph, URIRef

from reasoner import apply
from reasoner.apply import DEFAULT, Applicability
from reasoner.engine import Reasoner
from reasoner.plan import Plan

#: The fold of apply.py (the status when no row speaks for a condition, which wins when several do) is its own.
#: Outcomes that count as a failed treatment.
FAILED_OUTCOMES = ("unchanged", "worse", "failed")

# how the reasoner names the KB's blank nodes (engine.py skolemises the KB it loads into every store)
_AUTHORITY, _BASEPATH = "https://w3id.org", "/spinekg/.well-known/genid/"


def condition_name(node) -> str:
    """The name the reasoner gives a KB node: a blank node's skolem IRI, an IRI as itself.

    >>> condition_name(BNode("b1"))
    'https://w3id.org/spinekg/.well-known/genid/b1'
    """
    return str(node.skolemize(authority=_AUTHORITY, basepath=_BASEPATH)) if isinstance(node, BNode) else str(node)


def check_condition_names(reasoner: Reasoner, names: Iterable[str]) -> None:
    """Fail loudly when the reasoner names the KB's conditions differently (the plans would differ silently)."""
    unknown = sorted(set(names) - set(reasoner.condition_params))
    if unknown:
        raise RuntimeError(f"bench: {len(unknown)} condition names unknown to the reasoner, e.g. {unknown[0]}")


def skolem_kb(reasoner: Reasoner) -> Graph:
    """The KB exactly as the reasoner loads it into its store, blank nodes named (skolemised) as the reasoner
    names them: those names are the condition names its plans sort by."""
    nt = getattr(reasoner, "kb_nt", None)
    if nt is None:
        return reasoner.kb.skolemize(authority=_AUTHORITY, basepath=_BASEPATH)
    return Graph().parse(data=nt.decode() if isinstance(nt, bytes) else nt, format="nt")


Speaks = apply.Speaks  # (case, rec) → condition → status → (facts, missing)


def speak(speaks: Speaks, case: str, rec: str, cond: str, status: str, facts=(), missing=()) -> None:
    """Record that a row of ``status`` speaks for condition ``cond`` of ``rec`` in ``case``, with its facts and
    missing fields."""
    f, m = speaks.setdefault((case, rec), {}).setdefault(cond, {}).setdefault(status, (set(), set()))
    f.update(facts)
    m.update(missing)


def fold(catalogue: dict[str, tuple[tuple[str, str], ...]], speaks: Speaks) -> list[Applicability]:
    """The applicability of every (case, recommendation) pair some row speaks to, folded by apply.py itself.

    ``catalogue`` maps each recommendation to its (condition, kind) pairs. A pair no row speaks to is left out:
    every condition is at its default, and the plan assembly fills such pairs in itself (``CaseRun``).
    """
    return apply.fold(speaks, catalogue)


@dataclass(frozen=True)
class Conditions:
    """The recommendations' conditions as data, read from the KB: per recommendation, its (condition name, kind,
    parameters) in the order plans list them (kind, then name); parameter values are IRIs as strings or numbers."""

    by_rec: dict[str, tuple[tuple[str, str, dict[str, tuple]], ...]]

    @classmethod
    def read(cls, reasoner: Reasoner) -> Conditions:
        from reasoner.consts import RDF, SK

        kb = skolem_kb(reasoner)
        by_rec: dict[str, list] = defaultdict(list)
        for rec in kb.subjects(RDF.type, SK.Recommendation):
            for cond in kb.objects(rec, SK.hasCondition):
                kinds = [str(k).removeprefix(str(SK)) for k in kb.objects(cond, RDF.type)]
                for kind in (k for k in kinds if k in DEFAULT):
                    params: dict[str, list] = defaultdict(list)
                    for p, o in kb.predicate_objects(cond):
                        if p != RDF.type and str(p).startswith(str(SK)):
                            value = str(o) if isinstance(o, URIRef) else float(o.toPython())
                            params[str(p).removeprefix(str(SK))].append(value)
                    by_rec[str(rec)].append((condition_name(cond), kind, {k: tuple(v) for k, v in params.items()}))
        check_condition_names(reasoner, (c[0] for conds in by_rec.values() for c in conds))
        return cls({rec: tuple(sorted(conds, key=lambda c: (c[1], c[0]))) for rec, conds in sorted(by_rec.items())})

    @property
    def catalogue(self) -> dict[str, tuple[tuple[str, str], ...]]:
        """Recommendation → its (condition name, kind) pairs, for ``fold``."""
        return {rec: tuple((c, k) for c, k, _ in conds) for rec, conds in self.by_rec.items()}


@dataclass
class Timed:
    """Plans a baseline produced, in case order, and how long producing them took."""

    plans: list[Plan]
    seconds: float
    finished: bool


def timed(batches: Iterator[list[Plan]], total: int, budget: float | None) -> Timed:
    """Draw batches of plans until all ``total`` are made or ``budget`` seconds have passed (checked between
    batches; a baseline yields a batch as soon as it has one, so no finished work is thrown away)."""
    out: list[Plan] = []
    start = time.perf_counter()
    for batch in batches:
        out.extend(batch)
        if budget is not None and time.perf_counter() - start > budget and len(out) < total:
            break
    return Timed(out, time.perf_counter() - start, len(out) == total)
