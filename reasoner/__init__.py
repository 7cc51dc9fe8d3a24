"""spinekg: a knowledge-graph guideline reasoner for lumbar degenerative spine disease and radiculopathy."""

from __future__ import annotations

from .api import provenance, reason, recommend
from .kb.load import KBStats, export, kb_version, load_kb, stats
from .plan.model import Plan, Step
from .quality.gates import Problem, ValidationReport
from .quality.gates import validate as validate_kb
from .reasoning.engine import Reasoner

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
