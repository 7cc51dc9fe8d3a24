"""The ``spinekg`` argument parser: every command with its options and an example in its help."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..kb import load as kb

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

#: How ``explain`` and ``graph`` take a step: the number the text and HTML plans print (a part of an umbrella step is
#: 2.1), never a count of the steps.
STEP_HELP = "the step: its number as the plan shows it (1, 2, 2.1, …), its intervention id or a recommendation id"


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
    from ..quality.gates import GATES

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
    p.add_argument("step", help=STEP_HELP)
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
    p.add_argument("step", help=STEP_HELP)
    p.add_argument("--output", type=Path, required=True, help="FILE.svg, FILE.png, or FILE.dot for the DOT source")

    p = top(
        "cohort",
        "plans for every case of a folder or a JSON Lines file, reasoned set-at-a-time in batches",
        "spinekg cohort cases.jsonl --output plans.jsonl --provenance prov.nt --summary summary.csv",
        "exit status: 0 the run finished (rejected cases are reported and counted, not fatal); "
        "2 usage error or unreadable input",
    )
    p.add_argument(
        "input",
        type=Path,
        help="a folder of case files, or a JSON Lines file (one case per line; FILE.jsonl.gz: gzip-compressed)",
    )
    p.add_argument(
        "--output",
        type=Path,
        required=True,
        help="the plans, one JSON object per line: compact, referring by id to the --knowledge part (or --full); "
        "FILE.jsonl.gz writes them gzip-compressed (so do --provenance and --summary names ending in .gz)",
    )
    p.add_argument(
        "--knowledge",
        type=Path,
        help="the knowledge base's part the compact plans refer to (labels, evidence, conditions), written once "
        "(default: the output's name with .kb.json, .kb.json.gz for a .gz output)",
    )
    p.add_argument("--full", action="store_true", help="write every plan whole, as `recommend --format json` does")
    p.add_argument(
        "--provenance",
        type=Path,
        help="the run's PROV-O: FILE.nt (N-Triples), FILE.nq (N-Quads, a graph per case), or the same triples in about "
        "a quarter of the bytes as FILE.ttl (Turtle) or FILE.trig (TriG, a graph per case), prefixes declared once; "
        "add .gz (prov.nt.gz) for gzip, about a fourteenth of the N-Triples bytes",
    )
    p.add_argument("--summary", type=Path, help="a CSV row per case: red flags, steps per phase, warnings")
    p.add_argument(
        "--batch-size",
        type=int,
        default=2000,
        help="cases reasoned together (bounds the memory); with --workers, batches are made even, at most this",
    )
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
