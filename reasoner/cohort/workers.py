"""A cohort's worker processes: they die with their parent, reason batches of even size, and hand their text over
in spool files rather than through the pipe."""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .run import Record


@dataclass(frozen=True)
class Spool:
    """A batch's plan lines and provenance as a worker process wrote them to two files, for this process to copy
    into the outputs (the kernel copies, where it can): with 2 workers, moving about 80 kB a case through the pipe
    as Python strings and writing them out again took a tenth of the run's CPU in this process. ``spans`` are each
    record's (plan offset, length, provenance offset, length) in the two files."""

    plans: str
    provenance: str
    spans: tuple[tuple[int, int, int, int], ...]


def die_with_parent(parent: int | None) -> None:
    """On Linux, ask the kernel to SIGKILL this process when its parent dies (``prctl(PR_SET_PDEATHSIG)``); exit
    at once if ``parent`` (the pid it was started from) is already gone, which the request would not catch."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
            pass
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def spooled(records: list[Record], spool: str) -> tuple[list[Record], Spool | None]:
    """A worker's batch with its plan lines and provenance written to two files in the ``spool`` folder, the records
    keeping none of it; as it was, with no spool, when the files cannot be written (no room, no folder)."""
    if not records:
        return records, None
    name = os.path.join(spool, f"{records[0].position}")
    spans = []
    at_plan = at_prov = 0
    try:
        with open(f"{name}.plans", "wb") as plans, open(f"{name}.prov", "wb") as prov:
            for rec in records:
                line = b"" if rec.plan is None else (rec.plan + "\n").encode("utf-8")
                text = rec.provenance.encode("utf-8")
                plans.write(line)
                prov.write(text)
                spans.append((at_plan, len(line), at_prov, len(text)))
                at_plan += len(line)
                at_prov += len(text)
    except OSError:  # the text goes back through the pipe
        discard(f"{name}.plans", f"{name}.prov")
        return records, None
    light = [rec if rec.plan is None else replace(rec, plan="", provenance="") for rec in records]
    return light, Spool(f"{name}.plans", f"{name}.prov", tuple(spans))


def discard(*paths: str) -> None:
    """Remove spool files, those already gone or that cannot be removed left (the folder goes at the end)."""
    for path in paths:
        with suppress(OSError):
            os.unlink(path)


def even_batches(remaining: int, batch_size: int, workers: int) -> int:
    """The size of batches that keep every worker busy to the end: as many batches as ``batch_size`` needs, rounded
    up to a multiple of ``workers``, of equal size (never more than ``batch_size``). 10,000 cases in batches of 2,000
    on 2 workers were 5 batches, the last one reasoned while the other worker had nothing to do; now they are 6 of
    1,667.

    >>> even_batches(10_000, 2000, 2), even_batches(100_000, 2000, 2), even_batches(4_500, 2000, 4)
    (1667, 2000, 1125)
    """
    rounds = -(-remaining // (batch_size * workers))  # rounds of one batch a worker
    return max(1, -(-remaining // (rounds * workers)))


def ordered(pool, fn: Callable, batches: Iterator[list], workers: int, given: tuple) -> Iterator:
    """``fn(batch, *given)`` of each batch in a worker, the results in input order, at most ``workers + 1`` batches in
    flight (bounded memory and spool)."""
    pending: deque = deque()
    for batch in batches:
        pending.append(pool.submit(fn, batch, *given))
        if len(pending) > workers:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
