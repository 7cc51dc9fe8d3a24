"""Where a batch's reasoning time goes, statement by statement, in the embedded store.

A rule that reads fine can still run over the whole batch for every row of its result in pyoxigraph (a ``FILTER
EXISTS`` or an ``OPTIONAL`` not joined on a bound variable): one such statement made a 1,000-case cohort take 9.5 s
instead of 3 s. This times every SPARQL statement the embedded store runs for one batch of generated cases and prints
the slowest, named by the rule's ``#+ id:`` line (or its first words)::

    python -m bench.statements                 # 1,000 cases of seed 1, the 15 slowest statements
    python -m bench.statements --n 2000 --top 30

A diagnostic, not a benchmark: the figures are for finding a statement to rewrite, the benchmark (``bench.run``)
measures the result.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from reasoner.api import reason
from reasoner.reasoning import stores
from reasoner.reasoning.engine import Reasoner

from .generate import generate

_ID = re.compile(r"^#\+ id: *(\S+)", re.M)
_PREFIX = re.compile(r"PREFIX\s+\w*:\s*<[^>]*>\s*", re.I)


def name(text: str) -> str:
    """A statement's name: its rule id, else its first 100 characters on one line, without its prefixes."""
    found = _ID.search(text)
    return found.group(1) if found else " ".join(_PREFIX.sub("", text).split())[:100]


@contextmanager
def timed() -> Iterator[dict[str, float]]:
    """Seconds per statement (by :func:`name`) of every update and query the embedded store runs meanwhile; a
    query's rows are all read, as the reasoner reads them, inside its time."""
    spent: dict[str, float] = defaultdict(float)
    update, rows = stores.LocalStore.update, stores.LocalStore.rows

    def timed_update(self, text: str) -> None:
        start = time.perf_counter()
        try:
            update(self, text)
        finally:
            spent[name(text)] += time.perf_counter() - start

    def timed_rows(self, text: str, graphs: tuple[str, ...]):
        start = time.perf_counter()
        try:
            columns, found = rows(self, text, graphs)
            read = list(found)
        finally:
            spent[name(text)] += time.perf_counter() - start
        return columns, iter(read)

    stores.LocalStore.update, stores.LocalStore.rows = timed_update, timed_rows  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        stores.LocalStore.update, stores.LocalStore.rows = update, rows  # type: ignore[method-assign]


def statements(n: int, seed: int = 1) -> tuple[float, dict[str, float]]:
    """The wall time of reasoning ``n`` generated cases as one batch in the embedded store, and each statement's."""
    cases = list(generate(n, seed=seed))
    reasoner = Reasoner(engine="oxigraph")
    with timed() as spent:
        start = time.perf_counter()
        reason(cases, reasoner)
        total = time.perf_counter() - start
    return total, spent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.statements", description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="cases in the batch (default 1,000)")
    parser.add_argument("--seed", type=int, default=1, help="bench.generate seed (default 1)")
    parser.add_argument("--top", type=int, default=15, help="how many statements to print (default 15)")
    args = parser.parse_args(argv)
    total, spent = statements(args.n, args.seed)
    print(f"{args.n} cases, one batch, embedded store: {total:.2f} s; statements: {sum(spent.values()):.2f} s")
    for text, seconds in sorted(spent.items(), key=lambda ts: -ts[1])[: args.top]:
        print(f"{seconds:8.3f} s  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
