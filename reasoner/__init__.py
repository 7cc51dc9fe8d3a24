"""spinekg: a knowledge-graph guideline reasoner for lumbar degenerative spine disease and radiculopathy."""

from __future__ import annotations

from .api import provenance, reason, recommend
from .engine import Reasoner
from .kb import KBStats, export, kb_version, load_kb, stats
from .plan import Plan, Step
from .validate import Problem, ValidationReport
from .validate import validate as validate_kb

__all__ = [
    "KBStats",
    "Plan",
    "Problem",
    "Reasoner",
    "Step",
    "ValidationReport",
    "export",
    "kb_version",
    "load_kb",
    "provenance",
    "reason",
    "recommend",
    "stats",
    "validate_kb",
]
