"""The ``spinekg`` command line: parse arguments, call the library, print."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import kb
from .errors import SpinekgError

EPILOG = {
    "stats": "example:\n  spinekg kb stats\n  spinekg kb stats --format json",
    "validate": "example:\n  spinekg kb validate\n  spinekg kb validate --gate shacl --gate quotes\n\n"
    "exit status: 0 the KB passes every gate; 1 a gate found a problem; 2 usage error",
    "export": "example:\n  spinekg kb export --format owl --output spinekg.owl   # opens in Protégé\n"
    "  spinekg kb export --format ttl --output spinekg.ttl",
    "normalize": "example:\n  spinekg kb normalize           # rewrite ontology/*.ttl in normalised form\n"
    "  spinekg kb normalize --check   # exit 1 if a file is not normalised",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spinekg",
        description="Knowledge-graph guideline reasoner for lumbar degenerative spine disease and radiculopathy.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  spinekg kb stats",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    kb_parser = sub.add_parser(
        "kb",
        help="the knowledge base: stats, validate, export, normalize",
        epilog="example:\n  spinekg kb stats",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kb_sub = kb_parser.add_subparsers(dest="kb_command", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return kb_sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EPILOG[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    p = add("stats", "count classes, properties, recommendations and evidence per article, references, citations")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p = add(
        "validate",
        "run the quality gates: normalised Turtle, SHACL shapes, violation queries, verbatim quotes, "
        "OWL DL consistency",
    )
    from .validate import GATES

    p.add_argument("--gate", action="append", choices=list(GATES), help="run only this gate (repeatable)")
    p = add("export", "write the merged knowledge base as one file")
    p.add_argument("--format", choices=list(kb.EXPORT_FORMATS), required=True)
    p.add_argument("--output", type=Path, required=True)
    p = add("normalize", "rewrite the Turtle files in their normalised serialisation")
    p.add_argument("--check", action="store_true", help="only report files that are not normalised (exit 1)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except SpinekgError as exc:
        print(f"spinekg: {exc}", file=sys.stderr)
        return exc.exit_code


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "kb":
        return {"stats": _stats, "validate": _validate, "export": _export, "normalize": _normalize}[args.kb_command](
            args
        )
    raise AssertionError(args.command)


def _stats(args: argparse.Namespace) -> int:
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
    print("  article  recommendations  evidence")
    for art in sorted(set(s.recommendations_per_article) | set(s.evidence_per_article)):
        print(f"  {art:>7}  {s.recommendations_per_article.get(art, 0):>15}  {s.evidence_per_article.get(art, 0):>8}")
    print(f"  references listed {s.references}")
    cites = ", ".join(f"{k} {v}" for k, v in s.citations_by_status.items())
    print(f"  citations: {cites}; statements with no marker {s.uncited_statements}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .validate import validate

    report = validate(gates=args.gate)
    for problem in report.problems:
        print(problem)
    status = "passes" if report.ok else f"fails with {len(report.problems)} problem(s)"
    print(f"spinekg kb validate: {status} (gates: {', '.join(report.checks_run)})")
    return 0 if report.ok else 1


def _export(args: argparse.Namespace) -> int:
    path = kb.export(args.output, args.format)
    print(f"wrote {path}")
    return 0


def _normalize(args: argparse.Namespace) -> int:
    changed = kb.normalise(check=args.check)
    for path in changed:
        print(f"{'not normalised' if args.check else 'normalised'}: {path}")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
