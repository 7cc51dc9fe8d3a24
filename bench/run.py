"""The benchmark, in one process and one table: spinekg's latency, cold start, cohort throughput and memory, and
three baselines on the same cases, each as a ratio to spinekg measured in the same run.

    python -m bench.run [--sizes 1000,10000,100000] [--baselines a,b,c] [--budget-seconds 600] [--quick]

Writes ``bench/results/<date>-<commit>.json`` and ``.md`` and ``bench/results/latest.md``, and prints the table.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from . import generate, measure, table

RESULTS = Path(__file__).resolve().parent / "results"


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _baseline(key: str, reasoner, owlready2_batch: int):
    """A baseline by its letter, set up (KB read, rules compiled) off the clock."""
    if key == "a":
        from .baselines.rdflib_owlrl import RdflibOwlrl

        return RdflibOwlrl(reasoner)
    if key == "b":
        import shutil

        if shutil.which("java") is None:
            raise RuntimeError("java is not on the PATH (HermiT needs it)")
        from .baselines.owlready2_swrl import Owlready2Swrl

        return Owlready2Swrl(reasoner, batch_size=owlready2_batch)
    from .baselines.plain_python import PlainPython

    return PlainPython(reasoner)


def _digests_into(out: list[str]):
    """A consumer of plan batches that appends each plan's digest to ``out``."""
    return lambda plans: out.extend(measure.digest(p) for p in plans)


def run_baseline(baseline, docs: list[dict], reference: list[str], budget: float, spinekg_per_case: float, reasoner):
    """Time one baseline on ``docs`` within ``budget`` and check its plans against spinekg's digests."""
    state: dict = {"n": 0, "diff": None}

    def consume(plans: list) -> None:
        for plan in plans:
            i = state["n"]
            if state["diff"] is None and measure.digest(plan) != reference[i]:
                state["diff"] = (i, plan)
            state["n"] += 1

    got = measure.timed(baseline.plans(docs), len(docs), budget, consume)
    out = {
        "status": "finished" if got["finished"] else "did not finish",
        "seconds": got["seconds"],
        "cases": got["cases"],
        "total": len(docs),
        "budget_seconds": budget,
    }
    if got["cases"]:
        out["per_case_ms"] = round(got["seconds"] / got["cases"] * 1000, 3)
        out["ratio"] = round(got["seconds"] / got["cases"] / spinekg_per_case, 3)
    if state["diff"] is None:
        out["plans"] = {"equal": True, "compared": got["cases"]}
    else:
        i, plan = state["diff"]
        where = measure.explain_difference(docs[i], plan, reasoner)
        out["plans"] = {"equal": False, "compared": got["cases"], "case": docs[i]["id"], "where": where}
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Benchmark spinekg against three baselines in one run and print one table.",
        epilog="example:\n  python -m bench.run --sizes 1000,10000 --baselines a,c --budget-seconds 120\n"
        "  python -m bench.run --quick --results-dir /tmp/bench",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", help="cohort sizes, comma-separated (default 1000,10000,100000; --quick: 10)")
    parser.add_argument("--baselines", default="a,b,c", help="which baselines: a, b, c (default all)")
    parser.add_argument("--budget-seconds", type=float, help="time per baseline and size (default 600; --quick: 5)")
    parser.add_argument("--batch-size", type=int, default=1000, help="cases per batch for spinekg (default 1000)")
    parser.add_argument("--owlready2-batch", type=int, default=250, help="cases per World for (b) (default 250)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--single-cases", type=int, help="cases timed one at a time (default 200; --quick: 20)")
    parser.add_argument("--cold-runs", type=int, help="cold CLI starts (default 5; --quick: 2)")
    parser.add_argument(
        "--endpoint-cases",
        type=int,
        help="cases run with --endpoint on an Oxigraph server (default 10000, --quick 10)",
    )
    parser.add_argument(
        "--in-process-up-to",
        type=int,
        help="time spinekg in-process and the baselines only up to this size (larger sizes: the cohort alone)",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that everything runs")
    parser.add_argument("--results-dir", type=Path, default=RESULTS, help="where the JSON and Markdown go")
    args = parser.parse_args(argv)
    quick = args.quick
    args.sizes = [int(x) for x in (args.sizes or ("10" if quick else "1000,10000,100000")).split(",")]
    args.baselines = [x.strip() for x in args.baselines.split(",") if x.strip()]
    unknown = [x for x in args.baselines if x not in table.BASELINES]
    if unknown:
        parser.error(f"--baselines: {unknown[0]!r} is not a, b or c")
    if any(n <= 0 for n in args.sizes):
        parser.error(f"--sizes: {args.sizes} must all be positive")
    args.budget_seconds = args.budget_seconds if args.budget_seconds is not None else (5.0 if quick else 600.0)
    args.single_cases = args.single_cases or (20 if quick else 200)
    args.cold_runs = args.cold_runs or (2 if quick else 5)
    args.endpoint_cases = args.endpoint_cases if args.endpoint_cases is not None else (10 if quick else 10_000)
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    from reasoner.api import default_reasoner

    started = datetime.now(timezone.utc)
    commit, dirty = measure.git_revision()
    result: dict = {
        "date": started.strftime("%Y-%m-%d"),
        "started": started.isoformat(timespec="seconds"),
        "commit": commit,
        "dirty": dirty,
        "command": " ".join(["python -m bench.run", *argv]),
        "machine": measure.machine(),
        "settings": {
            "sizes": args.sizes,
            "baselines": args.baselines,
            "budget_seconds": args.budget_seconds,
            "batch_size": args.batch_size,
            "owlready2_batch": args.owlready2_batch,
            "in_process_up_to": args.in_process_up_to,
            "seed": args.seed,
            "red_flag_rates": generate.RED_FLAG_RATES,
            "article_weights": generate.ARTICLE_WEIGHTS,
        },
    }
    warmup = min(20, args.single_cases)
    pool = max(*args.sizes, args.single_cases + warmup)
    _log(f"generating {pool:,} cases (seed {args.seed})")
    labelled = list(generate.labelled(pool, args.seed))
    docs = [doc for doc, _ in labelled]
    flagged = sum(1 for _, flags in labelled if flags)
    result["cases"] = {"generated": len(docs), "red_flag_percent": round(100 * flagged / len(docs), 2)}
    del labelled
    # the cases (millions of small objects at 100,000) out of the garbage collector's way: otherwise every full
    # collection walks them, and the harness's own heap slows whatever it is timing
    gc.collect()
    gc.freeze()

    reasoner = default_reasoner()
    _log(f"one case at a time, warm ({args.single_cases} cases)")
    result["single_case"] = measure.single_case(reasoner, docs, args.single_cases, warmup=warmup)
    _log(f"cold CLI ({args.cold_runs} runs)")
    result["cold_cli"] = measure.cold_cli(args.cold_runs)
    fallback = not measure.has_cohort_command()

    baselines, setup, skipped = {}, {}, {}
    for key in args.baselines:
        start = time.perf_counter()
        try:
            baselines[key] = _baseline(key, reasoner, args.owlready2_batch)
            setup[key] = round(time.perf_counter() - start, 3)
        except Exception as exc:  # a baseline that cannot start is reported as such, not fatal
            skipped[key] = f"{type(exc).__name__}: {exc}"[:200]
    result["baseline_setup_seconds"] = setup

    result["sizes"] = []
    for n in args.sizes:
        subset = docs[:n]
        size: dict = {"cases": n}
        with tempfile.TemporaryDirectory(prefix="spinekg-bench-") as tmp:
            cases = Path(tmp) / "cases.jsonl"
            measure.dump_jsonl(subset, cases)
            _log(f"{n:,} cases: {'bench.cohort_fallback' if fallback else 'spinekg cohort'}")
            size["cohort"] = measure.cohort(cases, Path(tmp), args.batch_size, fallback)
            size["python_floor_seconds"] = round(measure.python_floor(cases, Path(tmp)), 6)
            if n <= 10_000 and not fallback:  # the same run with the provenance as Turtle: what it writes
                _log(f"{n:,} cases: spinekg cohort, provenance as Turtle")
                for old in Path(tmp).glob("plans*"):
                    old.unlink()
                size["cohort_turtle"] = measure.cohort(cases, Path(tmp), args.batch_size, fallback, syntax="ttl")
                _log(f"{n:,} cases: spinekg cohort, every output gzip-compressed")
                size["cohort_gzip"] = measure.cohort(cases, Path(tmp), args.batch_size, fallback, compressed=True)
            if n <= 10_000:  # the shares are the same at every size; at 100,000 it would be one more long run
                _log(f"{n:,} cases: stages of the batch function, in process")
                size["stages"] = measure.stages(reasoner, cases, args.batch_size)
        if args.in_process_up_to is not None and n > args.in_process_up_to:
            size["spinekg"] = None
            size["baselines"] = {k: {"status": "not run", "reason": "not timed at this size"} for k in table.BASELINES}
            result["sizes"].append(size)
            continue
        _log(f"{n:,} cases: spinekg in-process")
        reference: list[str] = []
        got = measure.timed(
            measure.spinekg_batches(reasoner, subset, args.batch_size), n, None, _digests_into(reference)
        )
        per_case = got["seconds"] / n
        size["spinekg"] = {"seconds": got["seconds"], "per_case_ms": round(per_case * 1000, 3)}
        size["baselines"] = {}
        for key in table.BASELINES:
            if key not in args.baselines:
                size["baselines"][key] = {"status": "not run", "reason": "not selected"}
            elif key in skipped:
                size["baselines"][key] = {"status": "not run", "reason": skipped[key]}
            else:
                _log(f"{n:,} cases: baseline ({key}) {table.BASELINES[key]}, budget {args.budget_seconds:g} s")
                b = run_baseline(baselines[key], subset, reference, args.budget_seconds, per_case, reasoner)
                size["baselines"][key] = b
                if b["status"] != "finished":
                    skipped[key] = f"did not finish {n:,}"
        result["sizes"].append(size)

    if args.endpoint_cases:
        n = args.endpoint_cases
        _log(f"{n:,} cases: spinekg cohort --endpoint (an Oxigraph server on 127.0.0.1)")
        with tempfile.TemporaryDirectory(prefix="spinekg-bench-") as tmp:
            cases = Path(tmp) / "cases.jsonl"
            measure.dump_jsonl(docs[:n], cases)
            result["endpoint"] = {"cases": n, **measure.cohort_on_endpoint(cases, Path(tmp), args.batch_size)}

    text = table.markdown(result)
    out = args.results_dir
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{result['date']}-{commit}"
    (out / f"{stem}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / f"{stem}.md").write_text(text, encoding="utf-8")
    (out / "latest.md").write_text(text, encoding="utf-8")
    _log(f"wrote {out / stem}.json, .md and latest.md")
    print(text)
    voided = [k for s in result["sizes"] for k, b in s["baselines"].items() if b.get("plans", {}).get("equal") is False]
    return 1 if voided else 0


if __name__ == "__main__":
    raise SystemExit(main())
