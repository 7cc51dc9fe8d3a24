"""The plain-Python baseline's plans beside spinekg's for a test's own cases (a feature that changes a plan is in
both: bench/baselines/plain_python.py reasons the same KB in plain Python)."""

from __future__ import annotations

from bench.baselines.plain_python import PlainPython
from reasoner.api import default_reasoner, reason


def plain_python_and_spinekg_plans(docs: list) -> tuple[list[dict], list[dict]]:
    """The plans of ``docs`` as dicts: the plain-Python baseline's, then spinekg's."""
    reasoner = default_reasoner()
    want = [r.plan.to_dict() for r in reason(docs, reasoner)]
    got = [p.to_dict() for batch in PlainPython(reasoner).plans(docs) for p in batch]
    return got, want
