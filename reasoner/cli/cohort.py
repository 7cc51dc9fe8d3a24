"""``spinekg cohort``: plans for a folder or JSON Lines file of cases, with progress, resumable."""

from __future__ import annotations

import argparse
import os
import sys


def cohort(args: argparse.Namespace) -> int:

    from ..cohort.run import run_cohort

    reasoner = None
    if args.endpoint:
        from ..api import endpoint_reasoner

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
            full=args.full,
            knowledge=args.knowledge,
            workers=args.workers if args.workers is not None else (1 if reasoner else min(4, os.cpu_count() or 1)),
        )
    finally:
        if reasoner is not None:
            reasoner.close()
    flags = ", ".join(f"{k} {v}" for k, v in sorted(stats.red_flags.items())) or "none"
    print(
        f"spinekg cohort: {stats.read} read, {stats.planned} planned, {stats.rejected} rejected"
        + (f" (resumed after {stats.resumed_from})" if stats.resumed_from else "")
        + f", {stats.batches} batches, {stats.seconds:.1f} s; red flags: {flags}",
        file=sys.stderr,
    )
    return 0
