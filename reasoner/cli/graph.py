"""``spinekg graph``: one plan step's provenance drawn as SVG, PNG or DOT."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..api import default_reasoner, reason
from ..errors import CaseError, SpinekgError
from ..outputs import write_output
from ..present.dot import render, step_graph
from ..present.html import (
    PICTURE_SUFFIXES,
)
from .plans import _report_salvaged_red_flags


def cli_graph(args: argparse.Namespace) -> int:
    """``spinekg graph CASE STEP --output FILE``: draw one step's provenance; the format is the suffix of FILE.

    ``args`` has ``case`` (a case file), ``step`` (its number as the plan shows it, 2 or 2.1, its intervention id
    or a recommendation id) and ``output`` (``.svg``, ``.png``, or ``.dot``/``.gv`` for the DOT source). An unknown
    step or suffix: a message and exit status 2.

    >>> import argparse, contextlib, io, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     case = Path(d) / "case.yaml"
    ...     _ = case.write_text("id: doc-cli\\nsymptoms:\\n  - {type: axial_pain, laterality: midline}\\n")
    ...     err = io.StringIO()
    ...     with contextlib.redirect_stderr(err):
    ...         status = cli_graph(argparse.Namespace(case=case, step="no_such_step", output=Path(d) / "g.svg"))
    >>> status, "is not a step of this plan" in err.getvalue()
    (2, True)
    """

    fmt = PICTURE_SUFFIXES.get(Path(args.output).suffix.lower())
    if fmt is None:
        print(
            f"spinekg: --output: {str(args.output)!r} must end in {', '.join(PICTURE_SUFFIXES)} (the picture format)",
            file=sys.stderr,
        )
        return 2
    try:
        result = reason([args.case])[0]
    except CaseError as exc:
        print(f"spinekg: {exc}", file=sys.stderr)
        _report_salvaged_red_flags(exc, default_reasoner())
        return exc.exit_code
    try:
        dot = step_graph(result, args.step)
    except KeyError:
        steps = ", ".join(f"{s.number} {s.id}" for s in result.plan.steps) or "none"
        print(f"spinekg: step: {args.step!r} is not a step of this plan (steps: {steps})", file=sys.stderr)
        return 2
    try:
        data = dot.encode("utf-8") if fmt == "dot" else render(dot, fmt)
    except SpinekgError as exc:
        print(f"spinekg: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"wrote {write_output(Path(args.output), data)}")
    return 0
