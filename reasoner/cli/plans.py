"""``spinekg recommend | explain | why-not``: a case's plan, one step's provenance, why a step is not in it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import UsageError


def plan_command(args: argparse.Namespace) -> int:
    from ..api import default_reasoner, reason
    from ..errors import CaseError
    from ..present import text as render

    try:
        result = reason([args.case])[0]
    except CaseError as exc:
        print(f"spinekg: {exc}", file=sys.stderr)
        _report_salvaged_red_flags(exc, default_reasoner())
        return exc.exit_code
    plan = result.plan
    if args.command == "explain":
        try:
            print(render.explain(plan, args.step))
        except KeyError:
            ids = ", ".join(f"{s.number} {s.id}" for s in plan.steps) or "none"
            print(f"spinekg: step: {args.step!r} is not a step of this plan (steps: {ids})", file=sys.stderr)
            return 2
        return 0
    if args.command == "why-not":
        try:
            print(render.why_not(plan, args.recommendation))
        except KeyError:
            print(
                f"spinekg: recommendation: {args.recommendation!r} is not a recommendation of the KB", file=sys.stderr
            )
            return 2
        return 0
    if args.format == "html":
        from ..present import html as report

        if args.output:
            report.write_html(result, args.output)
        else:
            sys.stdout.write(report.html(result))
        return 0
    if args.format == "text":
        out = render.text(plan) + "\n"
    elif args.format == "json":
        out = json.dumps(plan.to_dict(), indent=2, ensure_ascii=False) + "\n"
    elif args.format == "fhir":
        from ..fhir.write import plan_bundle

        out = json.dumps(plan_bundle(result, plan.kb_version), indent=2, ensure_ascii=False) + "\n"
    else:
        fmt = {"ttl": "turtle", "jsonld": "json-ld"}[args.format]
        out = result.provenance().serialize(format=fmt)
    if args.output:
        from ..outputs import write_output

        write_output(args.output, out.encode("utf-8"))
    else:
        sys.stdout.write(out)
    return 0


def check_case_and_output(case: Path, output: Path | None) -> None:
    """Refuse, before any work, an output that is the case file itself (by its name, a symlink or a hard link), a
    folder, or in a folder that does not exist. (A case that is not a regular file is refused by its reader.)"""
    if output is not None:
        from ..outputs import same_file, target

        if same_file(output, case):
            raise UsageError(f"--output {output}: is the case file itself (never overwritten)")
        target(output)  # a folder, a missing folder: refused before reasoning


def _report_salvaged_red_flags(exc, reasoner) -> None:
    """A rejected case that still carries red-flag features has them reported next to the rejection; a fact read
    without its rejected fields (left out, never coerced) names them."""
    from ..cohort.rejected import salvaged_flags

    for flag in salvaged_flags(exc, reasoner):
        print(f"spinekg: {flag.line}", file=sys.stderr)
