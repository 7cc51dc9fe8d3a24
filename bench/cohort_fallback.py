"""Stand-in for ``spinekg cohort`` while the CLI lacks it: plans, provenance and a summary for a JSON-lines cohort.

    python -m bench.cohort_fallback CASES.jsonl --output plans.jsonl --provenance prov.nt --summary summary.csv

Reasons in batches with ``reasoner.api.reason``; the benchmark marks the rows it measured this way.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from reasoner.api import default_reasoner, reason


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cohort_fallback", description=__doc__.splitlines()[0])
    parser.add_argument("cases", type=Path, help="JSON lines, one case document per line")
    parser.add_argument("--output", type=Path, required=True, help="plans, one JSON object per line")
    parser.add_argument("--provenance", type=Path, required=True, help="the runs' PROV-O graphs as N-Triples")
    parser.add_argument("--summary", type=Path, required=True, help="CSV: case, red flags, steps")
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args(argv)
    r = default_reasoner()
    with (
        open(args.cases, encoding="utf-8") as cases,
        open(args.output, "w", encoding="utf-8") as plans,
        open(args.provenance, "w", encoding="utf-8") as prov,
        open(args.summary, "w", encoding="utf-8", newline="") as summary,
    ):
        table = csv.writer(summary)
        table.writerow(["case", "red_flags", "steps"])
        batch: list[dict] = []

        def flush() -> None:
            for result in reason(batch, r):
                plans.write(json.dumps(result.plan.to_dict(), ensure_ascii=False) + "\n")
                prov.write(result.provenance(r).serialize(format="nt"))
                table.writerow(
                    [result.plan.case, " ".join(f.id for f in result.plan.red_flags), len(result.plan.steps)]
                )
            batch.clear()

        for line in cases:
            if line.strip():
                batch.append(json.loads(line))
                if len(batch) >= args.batch_size:
                    flush()
        if batch:
            flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
