"""Deterministic synthetic cases: the five source articles' finding mix, with red flags at stated rates.

Each case is drawn from one of five presentations modelled on the article cases (``examples/000``–``004``),
then, independently per red flag, a red-flag presentation is added at the rate in ``RED_FLAG_RATES``. A
presentation never carries a red flag of its own, so ``labelled`` knows which red flags each case must raise.
The generator for case ``i`` is seeded by ``(seed, i)`` alone: the same seed gives the same bytes, and the first
1,000 cases of a 100,000-case run are the 1,000-case run.

    python -m bench.generate --n 1000 --seed 1 --output cases.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

from .presentations import ARTICLES, RED_FLAGS, Draft, drop_contradictions

#: Share of each article's presentation in the cohort (radiculopathy and axial pain dominate primary care).
ARTICLE_WEIGHTS = {"002": 0.40, "003": 0.25, "000": 0.15, "004": 0.12, "001": 0.08}

#: Probability, per case and independently, that a presentation of each red flag is added. Higher than in
#: primary care on purpose, so that every red-flag rule fires many times in a 1,000-case cohort (bench/README.md).
RED_FLAG_RATES = {
    "cauda_equina_syndrome_suspected": 0.010,
    "infection_suspected": 0.010,
    "malignancy_suspected": 0.010,
    "fracture_suspected": 0.015,
    "progressive_neurological_deficit": 0.010,
    "spinal_instability": 0.005,
    "severe_myelopathy": 0.005,
}

#: Probability that a case records its red-flag screen (``red_flag_screen``), with the result it must have.
SCREEN_RATE = 0.15


def case_for(seed: int, i: int) -> tuple[dict, frozenset[str]]:
    """Case ``i`` of the cohort of ``seed``, with the red flags it was drawn with.

    >>> doc, flags = case_for(7, 0)
    >>> doc["id"], doc == case_for(7, 0)[0]
    ('gen-7-0', True)
    """
    rng = random.Random(f"spinekg-bench:{seed}:{i}")
    d = Draft(rng, f"gen-{seed}-{i}", more=random.Random(f"spinekg-bench:{seed}:{i}:more"))
    ARTICLES[d.weighted(ARTICLE_WEIGHTS)](d)
    flags = frozenset(flag for flag, rate in RED_FLAG_RATES.items() if d.p(rate))
    for flag in RED_FLAGS:  # a fixed order, so the same flags give the same document
        if flag in flags:
            RED_FLAGS[flag](d)
    drop_contradictions(d)
    if d.also(SCREEN_RATE):  # the red-flag screen, as recorded: it found what the case was drawn with
        d.red_flag_screen = {"result": "found" if flags else "none_found"}
    if not flags and d.also(0.02):  # a red flag worked up and excluded at an earlier visit: no feature of it now
        d.red_flags_excluded = [d.more.choice(sorted(RED_FLAG_RATES))]
    return d.document(), flags


def labelled(n: int, seed: int = 0) -> Iterator[tuple[dict, frozenset[str]]]:
    """The first ``n`` cases of the cohort of ``seed``, each with the red-flag ids it must raise."""
    for i in range(n):
        yield case_for(seed, i)


def generate(n: int, seed: int = 0) -> Iterator[dict]:
    """The first ``n`` case documents of the cohort of ``seed`` (ids ``gen-<seed>-<i>``), valid for ``parse_case``.

    >>> from reasoner.case.validate import parse_case
    >>> [parse_case(doc).id for doc in generate(3, seed=1)]
    ['gen-1-0', 'gen-1-1', 'gen-1-2']
    """
    for doc, _ in labelled(n, seed):
        yield doc


def dumps(doc: dict) -> str:
    """One JSON line of a case (compact, key order as generated)."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def write(n: int, seed: int, path: Path) -> None:
    """Write ``n`` cases as JSON lines to ``path``."""
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for doc in generate(n, seed):
            out.write(dumps(doc) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate",
        description="Write N synthetic cases (JSON lines) for the benchmark; the same seed gives the same bytes.",
        epilog="example:\n  python -m bench.generate --n 1000 --seed 1 --output cases.jsonl",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--n", type=int, required=True, help="number of cases")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, help="JSON lines file (default: standard output)")
    args = parser.parse_args(argv)
    if args.n < 0:
        parser.error(f"--n: {args.n} is negative")
    if args.output is None:
        for doc in generate(args.n, args.seed):
            sys.stdout.write(dumps(doc) + "\n")
    else:
        write(args.n, args.seed, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
