"""spinekg: a knowledge-graph guideline reasoner for lumbar degenerative spine disease and radiculopathy."""

from __future__ import annotations

from .kb import KBStats, export, kb_version, load_kb, stats
from .validate import Problem, ValidationReport
from .validate import validate as validate_kb

__all__ = ["KBStats", "Problem", "ValidationReport", "export", "kb_version", "load_kb", "stats", "validate_kb"]
