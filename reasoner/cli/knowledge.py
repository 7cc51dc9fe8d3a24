"""``spinekg kb``: statistics, quality gates, export and normal form of the knowledge base."""

from __future__ import annotations

import argparse
import json

from ..errors import UsageError
from ..kb import load as kb


def stats(args: argparse.Namespace) -> int:
    s = kb.stats()
    if args.format == "json":
        print(json.dumps(s.as_dict(), indent=2, sort_keys=True))
        return 0
    print(f"spinekg knowledge base {s.kb_version}")
    print(f"  modules {s.modules}, triples {s.triples}")
    print(
        f"  classes {s.classes}, object properties {s.object_properties}, datatype properties "
        f"{s.datatype_properties}, annotation properties {s.annotation_properties}, "
        f"named individuals {s.named_individuals}"
    )
    print(f"  red flags {s.red_flags}, interventions {s.interventions}, conflicts {s.conflicts}")
    print(f"  recommendations {s.recommendations}, evidence statements {s.evidence_statements}")
    print(
        f"  safety rules for red flags {s.safety_recommendations} "
        f"({s.safety_recommendations_from_reference_tables} from the reference tables, the rest from an article's "
        f"sentence); recommendations from the reference tables {s.recommendations_from_reference_tables}"
    )
    print("  article  recommendations  evidence")
    for art in sorted(set(s.recommendations_per_article) | set(s.evidence_per_article)):
        print(f"  {art:>7}  {s.recommendations_per_article.get(art, 0):>15}  {s.evidence_per_article.get(art, 0):>8}")
    print(f"  references listed {s.references}")
    cites = ", ".join(f"{k} {v}" for k, v in s.citations_by_status.items())
    print(f"  citations: {cites}; statements with no marker {s.uncited_statements}")
    return 0


def validate(args: argparse.Namespace) -> int:
    from ..quality.gates import validate

    report = validate(gates=args.gate)
    for problem in report.problems:
        print(problem)
    status = "passes" if report.ok else f"fails with {len(report.problems)} problem(s)"
    print(f"spinekg kb validate: {status} (gates: {', '.join(report.checks_run)})")
    return 0 if report.ok else 1


def export(args: argparse.Namespace) -> int:

    if args.release is not None:
        if args.output is not None or args.format is not None:
            raise UsageError("kb export: --release writes a set of files; leave out --format and --output")
        from ..quality.release import release

        for path in release(args.release):
            print(f"wrote {path}")
        return 0
    if args.output is None or args.format is None:
        raise UsageError("kb export: give --format and --output, or --release DIR")
    path = kb.export(args.output, args.format)
    print(f"wrote {path}")
    return 0


def normalize(args: argparse.Namespace) -> int:
    changed = kb.normalise(check=args.check)
    for path in changed:
        print(f"{'not normalised' if args.check else 'normalised'}: {path}")
    return 1 if (args.check and changed) else 0
