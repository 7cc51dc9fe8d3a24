"""The ``spinekg`` command line: parse arguments, call the library, print."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import kb
from .errors import SpinekgError, UsageError

EPILOG = {
    "stats": "example:\n  spinekg kb stats\n  spinekg kb stats --format json",
    "validate": "example:\n  spinekg kb validate\n  spinekg kb validate --gate shacl --gate quotes\n\n"
    "exit status: 0 the KB passes every gate; 1 a gate found a problem; 2 usage error",
    "export": "example:\n  spinekg kb export --format owl --output spinekg.owl   # opens in Protégé\n"
    "  spinekg kb export --format ttl --output spinekg.ttl\n"
    "  spinekg kb export --release release/   # base, full, simple in .ttl and .owl, docs/index.html",
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
    p = add("export", "write the merged knowledge base as one file, or the ODK-style release set")
    p.add_argument("--format", choices=list(kb.EXPORT_FORMATS), help="with --output: the file's format")
    p.add_argument("--output", type=Path, help="the file to write (with --format)")
    p.add_argument(
        "--release",
        type=Path,
        metavar="DIR",
        help="write spinekg-{base,full,simple}.{ttl,owl} and docs/index.html (pyLODE) into DIR (needs Java)",
    )
    p = add("normalize", "rewrite the Turtle files in their normalised serialisation")
    p.add_argument("--check", action="store_true", help="only report files that are not normalised (exit 1)")

    plan_exits = "exit status: 0 plan produced; 2 usage error or a case rejected (one line per problem)"

    def top(name: str, help_text: str, example: str, exits: str = plan_exits) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=f"example:\n  {example}\n\n{exits}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    p = top(
        "recommend",
        "the staged management plan for a case, each step with its quote and citation",
        "spinekg recommend examples/002-lumbosacral-radiculopathy.yaml --format json",
    )
    p.add_argument(
        "case", type=Path, help="case file: YAML, JSON, Turtle (.ttl) or JSON-LD (.jsonld), or a FHIR R4 Bundle (.json)"
    )
    p.add_argument(
        "--format",
        choices=["text", "json", "ttl", "jsonld", "html", "fhir"],
        default="text",
        help="text for people, json per the design contract, ttl/jsonld: the PROV-O graph of the run, "
        "html: a self-contained report with each step's provenance drawn, "
        "fhir: the plan as a FHIR R4 Bundle (CarePlan, RequestGroup, DetectedIssue, Provenance)",
    )
    p.add_argument(
        "--output",
        type=Path,
        help="write here instead of standard output (a file atomically; a device or FIFO in place; a link through)",
    )
    p = top(
        "explain",
        "the provenance chain of one step: recommendation, evidence sentence, reference, findings",
        "spinekg explain examples/000-gluteal-s2-s3-numbness.yaml mri_lumbar_spine",
    )
    p.add_argument("case", type=Path)
    p.add_argument("step", help="the step: its intervention id, its position (1, 2, …) or a recommendation id")
    p = top(
        "why-not",
        "why a recommendation is not in the plan: failed condition, missing fact or pre-empting red flag",
        "spinekg why-not examples/000-gluteal-s2-s3-numbness.yaml rec_000_05",
    )
    p.add_argument("case", type=Path)
    p.add_argument("recommendation", help="recommendation id (rec_000_05) or IRI")
    p = top(
        "graph",
        "draw one step's provenance: case findings → recommendation → evidence → reference (needs graphviz)",
        "spinekg graph examples/000-gluteal-s2-s3-numbness.yaml mri_lumbar_spine --output step.svg",
    )
    p.add_argument("case", type=Path)
    p.add_argument("step", help="the step: its intervention id, its position (1, 2, …) or a recommendation id")
    p.add_argument("--output", type=Path, required=True, help="FILE.svg, FILE.png, or FILE.dot for the DOT source")

    p = top(
        "cohort",
        "plans for every case of a folder or a JSON Lines file, reasoned set-at-a-time in batches",
        "spinekg cohort cases.jsonl --output plans.jsonl --provenance prov.nt --summary summary.csv",
        "exit status: 0 the run finished (rejected cases are reported and counted, not fatal); "
        "2 usage error or unreadable input",
    )
    p.add_argument("input", type=Path, help="a folder of case files, or a JSON Lines file (one case per line)")
    p.add_argument("--output", type=Path, required=True, help="the plans, one JSON object per line")
    p.add_argument("--provenance", type=Path, help="the run's PROV-O: FILE.nt (N-Triples) or FILE.nq (N-Quads)")
    p.add_argument("--summary", type=Path, help="a CSV row per case: red flags, steps per phase, warnings")
    p.add_argument("--batch-size", type=int, default=2000, help="cases reasoned together (bounds the memory)")
    p.add_argument("--resume", action="store_true", help="carry on an interrupted run with the same arguments")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes reasoning batches in parallel (default: the CPU count, up to 4; 1 with --endpoint)",
    )
    p.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bar (default: on a terminal)"
    )
    p.add_argument("--endpoint", help="run the rules in this SPARQL 1.1 store (query endpoint URL)")
    p.add_argument("--update-endpoint", help="its SPARQL update endpoint (default: --endpoint)")
    p.add_argument(
        "--graph-store", help="its Graph Store Protocol endpoint, to load the KB and cases (else INSERT DATA)"
    )
    p.add_argument("--endpoint-user", help="USER:PASSWORD for HTTP basic authentication (or env SPINEKG_ENDPOINT_AUTH)")
    p = top(
        "map",
        "look up the mappings of a spinekg term or of an external code (SCTID:…, ICD10CM:…, LOINC:…), both ways",
        "spinekg map SCTID:26538006",
        "exit status: 0 mappings found; 1 none; 2 neither a term nor a well-formed code",
    )
    p.add_argument("code_or_term", help="a spinekg id (numbness) or a code PREFIX:code (SCTID:26538006)")
    p.add_argument("--format", choices=["text", "json", "tsv"], default="text")

    def analyst(name: str, help_text: str, example: str) -> argparse.ArgumentParser:
        return top(name, help_text, example, "exit status: 0 success; 2 usage, query or case error")

    engines = ["oxigraph", "rdflib"]
    p = analyst(
        "query",
        "run a competency question of the query library (no name: list them)",
        "spinekg query reference-citations --param reference=sk:ref_000_3",
    )
    p.add_argument("query", nargs="?", help="the query's name (queries/NAME.rq)")
    p.add_argument(
        "--param", action="append", metavar="KEY=VALUE", help="bind ?_KEY (sk:x or an IRI: an IRI; else a literal)"
    )
    p.add_argument(
        "--case", action="extend", nargs="+", type=Path, default=[], help="case files to reason over and load"
    )
    p.add_argument("--format", choices=["table", "csv", "tsv", "json"], default="table")
    p.add_argument("--engine", choices=engines, default="oxigraph")
    p = analyst(
        "sparql",
        "run any SPARQL query (a file or the text) over the KB and the given cases",
        "spinekg sparql 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }'",
    )
    p.add_argument("query", help="a .rq file or the query text")
    p.add_argument("--param", action="append", metavar="KEY=VALUE")
    p.add_argument("--case", action="extend", nargs="+", type=Path, default=[])
    p.add_argument("--format", choices=["table", "csv", "tsv", "json", "ttl", "nt", "jsonld"], default="table")
    p.add_argument("--engine", choices=engines, default="oxigraph")
    p = analyst(
        "serve",
        "a read-only SPARQL 1.1 endpoint over the KB and the given cases with their runs",
        "spinekg serve --case examples/*.yaml --port 7878",
    )
    p.add_argument("--case", action="extend", nargs="+", type=Path, default=[])
    p.add_argument("--host", default="127.0.0.1", help="bind address (loopback unless --allow-remote)")
    p.add_argument("--port", type=int, default=7878, help="port (0: pick a free one)")
    p.add_argument("--timeout", type=float, default=10.0, help="time limit of each query, seconds")
    p.add_argument("--max-rows", type=int, default=10000, help="result limit of each query")
    p.add_argument("--allow-remote", action="store_true", help="allow binding a non-loopback address")
    p.add_argument("--max-result-bytes", type=int, metavar="N", help="cut an answer over N bytes (default 64000000)")
    p.add_argument("--backend-memory", type=int, metavar="MB", help="Oxigraph memory cap (default 4096; 0: none)")
    p.add_argument("--request-deadline", type=float, metavar="S", help="time to send a request (default 15)")
    return parser


#: The exit status of a run whose reader closed standard output (``spinekg … | head -1``): 128 + SIGPIPE, as a
#: command killed by the signal gives; nothing is printed.
EXIT_PIPE_CLOSED = 141


class _PipeClosed(Exception):
    """The reader of standard output went away."""


class _StdoutError(UsageError):
    """Standard output cannot be written (a full device, an I/O error): exit status 2."""


class _Stdout:
    """Standard output that turns a failed write into an exit-2 error (a full device: ``> /dev/full``) or, for a
    closed pipe, into a quiet exit; everything else is the stream's own."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def _guard(self, call, *args):
        try:
            return call(*args)
        except BrokenPipeError:
            raise _PipeClosed from None
        except OSError as exc:
            raise _StdoutError(f"standard output: cannot write: {exc.strerror or exc}") from None

    def write(self, text: str) -> int:
        return self._guard(self._stream.write, text)

    def flush(self) -> None:
        self._guard(self._stream.flush)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null, so the interpreter's last flush of what could not be written does
    not fail again (and print a traceback) at exit."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's capture)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    real = sys.stdout
    sys.stdout = _Stdout(real)
    try:
        status = _dispatch(args)
        sys.stdout.flush()
        return status
    except SpinekgError as exc:
        print(f"spinekg: {exc}", file=sys.stderr)
        if isinstance(exc, _StdoutError):
            _silence_stdout()
        return exc.exit_code
    except _PipeClosed:
        _silence_stdout()
        return EXIT_PIPE_CLOSED
    except KeyboardInterrupt:  # Ctrl-C: one line, no traceback (a cohort says what it kept before this)
        print("spinekg: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout = real


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in ("recommend", "explain", "why-not", "graph"):
        _check_case_and_output(args.case, getattr(args, "output", None))
    if args.command in ("recommend", "explain", "why-not"):
        return _plan_command(args)
    if args.command == "graph":
        from .report import cli_graph

        return cli_graph(args)
    if args.command in ("query", "sparql"):
        from . import queries

        return (queries.cli_query if args.command == "query" else queries.cli_sparql)(args)
    if args.command == "cohort":
        return _cohort(args)
    if args.command == "map":
        from .mapping_lookup import cli_map

        return cli_map(args)
    if args.command == "serve":
        from .serve import cli_serve

        return cli_serve(args)
    if args.command == "kb":
        return {"stats": _stats, "validate": _validate, "export": _export, "normalize": _normalize}[args.kb_command](
            args
        )
    raise AssertionError(args.command)


def _plan_command(args: argparse.Namespace) -> int:
    from . import render
    from .api import default_reasoner, reason
    from .errors import CaseError

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
            ids = ", ".join(s.id for s in plan.steps)
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
        from . import report

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
        from .fhir_out import plan_bundle

        out = json.dumps(plan_bundle(result, plan.kb_version), indent=2, ensure_ascii=False) + "\n"
    else:
        fmt = {"ttl": "turtle", "jsonld": "json-ld"}[args.format]
        out = result.provenance().serialize(format=fmt)
    if args.output:
        from .outputs import write_output

        write_output(args.output, out.encode("utf-8"))
    else:
        sys.stdout.write(out)
    return 0


def _check_case_and_output(case: Path, output: Path | None) -> None:
    """Refuse, before any work, an output that is the case file itself (by its name, a symlink or a hard link), a
    folder, or in a folder that does not exist. (A case that is not a regular file is refused by its reader.)"""
    if output is not None:
        from .outputs import same_file, target

        if same_file(output, case):
            raise UsageError(f"--output {output}: is the case file itself (never overwritten)")
        target(output)  # a folder, a missing folder: refused before reasoning


def _report_salvaged_red_flags(exc, reasoner) -> None:
    """A rejected case that still carries red-flag features has them reported next to the rejection."""
    from .api import salvaged_red_flags

    for label, facts in salvaged_red_flags(exc, reasoner):
        print(
            f"spinekg: RED FLAG despite the rejection: {label} (from {', '.join(facts)}): act on it now",
            file=sys.stderr,
        )


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
    print(
        f"  safety rules for red flags {s.safety_recommendations} "
        f"({s.recommendations_from_reference_tables} from the reference tables, the rest from an article's sentence)"
    )
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
    from .errors import UsageError

    if args.release is not None:
        if args.output is not None or args.format is not None:
            raise UsageError("kb export: --release writes a set of files; leave out --format and --output")
        from .release import release

        for path in release(args.release):
            print(f"wrote {path}")
        return 0
    if args.output is None or args.format is None:
        raise UsageError("kb export: give --format and --output, or --release DIR")
    path = kb.export(args.output, args.format)
    print(f"wrote {path}")
    return 0


def _cohort(args: argparse.Namespace) -> int:
    import os

    from .cohort import run_cohort

    reasoner = None
    if args.endpoint:
        from .api import endpoint_reasoner

        auth = args.endpoint_user or os.environ.get("SPINEKG_ENDPOINT_AUTH")
        reasoner = endpoint_reasoner(args.endpoint, args.update_endpoint, args.graph_store, auth=auth)
    try:
        stats = run_cohort(
            args.input,
            args.output,
            provenance=args.provenance,
            summary=args.summary,
            batch_size=args.batch_size,
            progress=args.progress,
            resume=args.resume,
            reasoner=reasoner,
            workers=args.workers if args.workers is not None else (1 if reasoner else min(4, os.cpu_count() or 1)),
        )
    finally:
        if reasoner is not None:
            reasoner.backend.close()
    flags = ", ".join(f"{k} {v}" for k, v in sorted(stats.red_flags.items())) or "none"
    print(
        f"spinekg cohort: {stats.read} read, {stats.planned} planned, {stats.rejected} rejected"
        + (f" (resumed after {stats.resumed_from})" if stats.resumed_from else "")
        + f", {stats.batches} batches, {stats.seconds:.1f} s; red flags: {flags}",
        file=sys.stderr,
    )
    return 0


def _normalize(args: argparse.Namespace) -> int:
    changed = kb.normalise(check=args.check)
    for path in changed:
        print(f"{'not normalised' if args.check else 'normalised'}: {path}")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
