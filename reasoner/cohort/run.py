"""Plans for a cohort: cases from a folder or a JSON Lines file, reasoned set-at-a-time in batches, streamed out.

Outputs are written under temporary names next to the final ones and renamed into place at the end (a device or
FIFO is written in place); after every batch a state file records how far the run got, so an interrupted run
resumes (``resume=True``) where it stopped without redoing or losing a case. The state file is also the run's
lock: a second run on the same outputs is refused. Worker processes die with the process that started them.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

import orjson

from ..api import case_triples, default_reasoner
from ..case.files import MAX_BYTES, load_case, loads
from ..case.model import _FORMATS, _ID, Case, CaseProblem, case_iri
from ..errors import CaseError, UsageError
from ..ntriples import Triples
from ..plan.assemble import assemble
from ..plan.compact import compact, kb_part
from ..plan.provenance import case_provenance, kb_slice
from ..reasoning.engine import Reasoner
from .files import RunFiles

SUMMARY_FIELDS = (
    "case",
    "source",
    "status",
    "red_flags",
    "emergency",
    "urgent",
    "now",
    "if_persistent",
    "follow_up",
    "warnings",
    "problems",
)


@dataclass(frozen=True)
class Item:
    """One input record: where it came from, and the validated case or why it was rejected."""

    position: int  # 0-based position in the input
    where: str  # "line 12" or the file name
    case: Case | None
    error: CaseError | None = None
    raw_id: str = ""  # the id of a rejected record, where it names a valid one


@dataclass
class CohortStats:
    """What a cohort run did."""

    read: int = 0
    planned: int = 0
    rejected: int = 0
    resumed_from: int = 0
    batches: int = 0
    seconds: float = 0.0
    red_flags: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict:
        return {**self.__dict__, "red_flags": dict(sorted(self.red_flags.items()))}


@dataclass(frozen=True)
class Oversized:
    """A JSON Lines record longer than the case limit (``MAX_BYTES``): measured while skipped, never held whole."""

    size: int


def _lines(f: BinaryIO) -> Iterator[tuple[int, bytes | Oversized]]:
    """The non-blank lines of a JSON Lines file with their numbers; a line longer than ``MAX_BYTES`` (without its
    end of line) is :class:`Oversized`: at most ``MAX_BYTES + 1`` bytes of it are held, the rest read past."""
    number = 0
    while True:
        raw = f.readline(MAX_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) <= MAX_BYTES or raw.endswith(b"\n"):
            if raw.strip():
                yield number, raw
            continue
        size = len(raw)
        while not raw.endswith(b"\n"):
            raw = f.readline(65536)
            if not raw:
                break
            size += len(raw)
        yield number, Oversized(size)


def _case_files(source: Path) -> list[Path]:
    """The case files of a folder, sorted by name: entries with a case suffix that are not folders (a FIFO or a
    device among them is rejected when read, never opened)."""
    return sorted(p for p in source.iterdir() if p.suffix.lower() in _FORMATS and not p.is_dir())


def _input(source: Path) -> None:
    """Refuse an input that is not a folder or a regular file: a FIFO or a device would block or never end."""
    if not source.exists():
        raise UsageError(f"{source}: no such file or folder")
    if not (source.is_dir() or source.is_file()):
        raise UsageError(f"{source}: is not a folder or a regular file (a FIFO or device is not read)")


def read_raw(source: Path, skip: int = 0) -> Iterator[tuple[int, str, bytes | Path | Oversized]]:
    """The records of a folder of case files (sorted by name) or of a JSON Lines file, unread: (position, where,
    the line's bytes or the file's path). Blank lines are not records; a line over the case limit is
    :class:`Oversized`."""
    source = Path(source)
    _input(source)
    if source.is_dir():
        for n, path in enumerate(_case_files(source)):
            if n >= skip:
                yield n, path.name, path
        return
    with open(source, "rb") as f:
        for n, (number, raw) in enumerate(_lines(f)):
            if n >= skip:
                yield n, f"line {number}", raw


def read_item(position: int, where: str, raw: bytes | Path | Oversized, source: str = "") -> Item:
    """One record read and validated: the case, or why it was rejected. A case file is read with
    :func:`reasoner.case.files.load_case` (its limits; a FIFO or device refused unopened); a line of JSON Lines has the
    same size limit, checked while it is read (:func:`_lines`)."""
    if isinstance(raw, Path):
        try:
            return Item(position, where, load_case(raw))
        except CaseError as exc:
            return Item(position, where, None, exc)
    origin = f"{source}:{where.removeprefix('line ')}"
    if isinstance(raw, Oversized):
        big = f"{raw.size / 1e6:.1f} MB, " if raw.size > MAX_BYTES + 1 else ""
        message = f"is a line of {big}larger than the {MAX_BYTES / 1e6:g} MB limit of a case (not read)"
        return Item(position, where, None, CaseError([CaseProblem("", origin, message)], source=origin))
    try:
        return Item(position, where, loads(raw.decode("utf-8"), "json", origin))
    except UnicodeDecodeError as exc:
        problem = CaseProblem("", raw[max(0, exc.start - 10) : exc.end + 10], "is not valid UTF-8")
        return Item(position, where, None, CaseError([problem], source=origin))
    except CaseError as exc:
        return Item(position, where, None, exc, _raw_id(raw))


def read_items(source: Path, skip: int = 0) -> Iterator[Item]:
    """The records of a folder of case files or of a JSON Lines file, validated one by one."""
    for position, where, raw in read_raw(source, skip):
        yield read_item(position, where, raw, str(source))


def _raw_id(raw: bytes) -> str:
    """The id a rejected JSON line gives, when it gives a valid one (for the summary row)."""
    try:
        value = json.loads(raw).get("id")
    except (ValueError, AttributeError, RecursionError):
        return ""
    return value if isinstance(value, str) and _ID.fullmatch(value) else ""


def _progress(total: int | None, enabled: bool | None):
    enabled = sys.stderr.isatty() if enabled is None else enabled
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="case", desc="spinekg cohort", file=sys.stderr, smoothing=0.1)


def _count(source: Path) -> int | None:
    """How many records the input holds (for the progress bar); None when counting would cost a full read."""
    if source.is_dir():
        return len(_case_files(source))
    if source.stat().st_size > 2_000_000_000:
        return None
    with open(source, "rb") as f:
        return sum(1 for _ in _lines(f))


@dataclass(frozen=True)
class Record:
    """What a batch gives back for one input record, ready to write (made in a worker process or in this one)."""

    position: int
    where: str
    case_id: str
    plan: str | None  # the plan's JSON line; None when the record was rejected
    provenance: str = ""
    summary: tuple = ()
    problems: tuple[str, ...] = ()
    red_flags: tuple[str, ...] = ()


def reason_batch(
    r: Reasoner,
    raws: list[tuple[int, str, bytes | Path | Oversized]],
    source: str,
    provenance: str | None,
    full: bool = False,
) -> list[Record]:
    """Read, validate and reason over one batch set-at-a-time: a function of the batch and the loaded KB alone
    (no other state is read or kept), so any engine that maps a function over partitions can run it.

    ``provenance`` is None, ``"nt"`` or ``"nq"``; each plan is a compact line referring to the run's KB part
    (:func:`reasoner.plan.compact.compact`), or with ``full`` the self-contained plan of the design.
    """

    out: list[Record | None] = []
    good: list[tuple[int, Item, Triples]] = []
    seen: set[str] = set()
    for raw in raws:
        item = read_item(*raw, source)
        if item.case is not None and item.case.id in seen:  # two cases of one id cannot share a store
            error = CaseError([_duplicate(item.case.id)], source=item.where)
            item = Item(item.position, item.where, None, error, item.case.id)
        if item.case is None:
            problems = tuple(str(p) for p in item.error.problems)
            row = (item.raw_id, item.where, "rejected", "", "", "", "", "", "", "", "; ".join(problems))
            out.append(Record(item.position, item.where, item.raw_id, None, "", row, problems))
            continue
        seen.add(item.case.id)
        good.append((len(out), item, case_triples(item.case)))
        out.append(None)
    knowledge = None if full else kb_part(r)
    started = datetime.now(timezone.utc)
    runs = r.run([t.nt() for _, _, t in good]) if good else {}
    ended = datetime.now(timezone.utc)
    for slot, item, triples in good:
        run = runs[str(case_iri(item.case.id))]
        plan = assemble(r, run)
        prov = ""
        if provenance is not None:
            prov = case_provenance(r, plan, run, triples, started, ended)
            if provenance == "nq":
                g = f" <{run.case}/provenance> .\n"
                prov = "".join(line[: -len(" .")] + g for line in prov.splitlines())
        phases = Counter(s.phase for s in plan.steps)
        flags = tuple(f.id for f in plan.red_flags)
        row = (
            plan.case,
            item.where,
            "planned",
            " ".join(flags),
            *(phases.get(p, 0) for p in ("emergency", "urgent", "now", "if_persistent", "follow_up")),
            " ".join(w.id for w in plan.warnings),
            "",
        )
        line = plan.to_json() if full else orjson.dumps(compact(plan, knowledge)).decode("utf-8")
        out[slot] = Record(item.position, item.where, plan.case, line, prov, row, (), flags)
    return out


_WORKER: dict[str, object] = {}


def _worker_init(parent: int | None = None) -> None:
    """Make a worker die with its parent (even on ``kill -9`` of the parent), then load the reasoner."""
    _die_with_parent(parent)

    _WORKER["reasoner"] = default_reasoner()


def _die_with_parent(parent: int | None) -> None:
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


def _worker_batch(raws, source: str, provenance: str | None, full: bool) -> list[Record]:
    return reason_batch(_WORKER["reasoner"], raws, source, provenance, full)


def _batches(raws: Iterator, size: int) -> Iterator[list]:
    batch = []
    for raw in raws:
        batch.append(raw)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_cohort(
    source: Path,
    output: Path,
    *,
    provenance: Path | None = None,
    summary: Path | None = None,
    batch_size: int = 2000,
    progress: bool | None = None,
    resume: bool = False,
    reasoner: Reasoner | None = None,
    workers: int = 1,
    errors=None,
    full: bool = False,
    knowledge: Path | None = None,
) -> CohortStats:
    """Reason over every case of ``source`` in batches; write a plan per line to ``output`` (JSON Lines), the run's
    PROV-O to ``provenance`` (``.nt`` N-Triples or ``.nq`` N-Quads, a graph per case) and one CSV row per case to
    ``summary``. Each plan line is compact: the case's own decisions, referring by id to the knowledge base's part
    (labels, evidence, condition wording; :func:`reasoner.plan.compact.kb_part`), written once to ``knowledge``
    (default: the output's name with ``.kb.json``; none for a device or FIFO output unless named);
    :func:`reasoner.plan.compact.expand` joins a line and the part into the full plan. ``full`` writes the full,
    self-contained plan on every line instead (no part). A rejected case is reported on ``errors`` (stderr) with its
    line or file, counted, and skipped. ``workers`` > 1 reasons batches in that many processes (the embedded store
    only), which die with this one; the outputs are the same, in input order. Each output is replaced by a rename at
    the end (a symlink written through, a device or FIFO written in place as the run goes); a second run on the same
    outputs, or a new run over an interrupted one's state file, is a :class:`UsageError`; so is a failed write,
    which keeps what ``resume`` can carry on from and removes the rest.

    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "in.jsonl").write_text('{"id": "a", "age": 40}\\n{"id": "b", "age": -1}\\n')
    >>> stats = run_cohort(d / "in.jsonl", d / "plans.jsonl", errors=io.StringIO())
    >>> stats.planned, stats.rejected, json.loads((d / "plans.jsonl").read_text())["case"]
    (1, 1, 'a')
    >>> sorted(p.name for p in d.iterdir())
    ['in.jsonl', 'plans.jsonl', 'plans.kb.json']
    """

    if batch_size < 1:
        raise UsageError(f"--batch-size: {batch_size} is not a positive number of cases")
    if workers < 1:
        raise UsageError(f"--workers: {workers} is not a positive number of processes")
    if provenance is not None and provenance.suffix not in (".nt", ".nq"):
        raise UsageError(f"--provenance: {provenance} must end in .nt (N-Triples) or .nq (N-Quads)")
    r = reasoner or default_reasoner()
    errors = errors if errors is not None else sys.stderr
    source = Path(source)
    _input(source)
    if full and knowledge is not None:
        raise UsageError("--knowledge: the full plans (--full) refer to no knowledge base part; leave one out")
    if not full and knowledge is None and (not Path(output).exists() or Path(output).is_file()):
        knowledge = Path(output).with_name(Path(output).name.removesuffix(".jsonl") + ".kb.json")
    named = [("--output", output), ("--provenance", provenance), ("--summary", summary), ("--knowledge", knowledge)]
    seen = {source.resolve(): "the input"}
    for flag, path in named:
        if path is None:
            continue
        where = Path(path).resolve()
        if where in seen or (source.is_dir() and where.parent == source.resolve()):
            raise UsageError(f"{flag} {path}: is {seen.get(where, 'inside the input folder')} (never overwritten)")
        seen[where] = flag
    fingerprint = {
        "input": str(source.resolve()),
        "input_size": sum(p.lstat().st_size for p in source.iterdir()) if source.is_dir() else source.stat().st_size,
        "outputs": [str(p) for p in (output, provenance, summary, knowledge)],
        "full": full,
        "kb_version": r.kb_version,
    }
    paths = {
        "plans": ("--output", output),
        "provenance": ("--provenance", provenance),
        "summary": ("--summary", summary),
        "knowledge": ("--knowledge", knowledge),
    }
    out = RunFiles(paths, fingerprint, resume)
    stats = CohortStats(resumed_from=out.done)
    kind = None if provenance is None else provenance.suffix[1:]
    started = time.perf_counter()
    total = _count(source)
    bar = _progress(total, progress)
    pool = None
    try:
        if out.done == 0:
            if summary is not None:
                out.write("summary", _csv_row(SUMMARY_FIELDS))
            if provenance is not None:
                out.write("provenance", _kb_part(r, r.kb_version if kind == "nq" else None))
            if knowledge is not None:
                out.write("knowledge", orjson.dumps(kb_part(r)) + b"\n")
        else:  # the ids of the cases already done, to catch a later duplicate
            for item in read_items(source):
                if item.position >= out.done:
                    break
                if item.case is not None:
                    out.ids.add(item.case.id)
        if bar is not None:
            bar.update(out.done)
        batches = _batches(read_raw(source, out.done), batch_size)
        if workers > 1 and reasoner is None and (total is None or total - out.done > batch_size):
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            forkserver = multiprocessing.get_start_method() == "forkserver"  # there the forkserver is the parent
            pool = ProcessPoolExecutor(
                workers, initializer=_worker_init, initargs=(None if forkserver else os.getpid(),)
            )
            results = _ordered(pool, batches, str(source), kind, workers, full)
        else:
            results = (reason_batch(r, batch, str(source), kind, full) for batch in batches)
        for records in results:
            for rec in records:
                _write(rec, out, stats, errors)
            stats.batches += 1
            out.checkpoint(records[-1].position + 1)
            if bar is not None:
                bar.update(len(records))
        out.finish()
    except UsageError as exc:  # a write failed, or the input went away: say what is left
        raise UsageError(f"{exc}; {out.abandon()}") from None
    except BaseException:  # an interruption or a defect: it is reported by the caller; say what is left
        print(f"spinekg: cohort stopped: {out.abandon()}", file=errors)
        raise
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if bar is not None:
            bar.close()
    stats.seconds = time.perf_counter() - started
    return stats


def _ordered(
    pool, batches: Iterator[list], source: str, kind: str | None, workers: int, full: bool
) -> Iterator[list[Record]]:
    """The batches' records in input order, at most ``workers + 1`` batches in flight (bounded memory)."""
    from collections import deque

    pending: deque = deque()
    for batch in batches:
        pending.append(pool.submit(_worker_batch, batch, source, kind, full))
        if len(pending) > workers:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _write(rec: Record, out: RunFiles, stats: CohortStats, errors) -> None:
    stats.read += 1
    if rec.plan is not None and rec.case_id in out.ids:
        problem = str(_duplicate(rec.case_id))
        row = (rec.case_id, rec.where, "rejected", "", "", "", "", "", "", "", problem)
        rec = Record(rec.position, rec.where, rec.case_id, None, "", row, (problem,))
    if rec.plan is None:
        stats.rejected += 1
        for problem in rec.problems:
            print(f"spinekg: {rec.where}: {problem}", file=errors)
        out.write("summary", _csv_row(rec.summary))
        return
    out.ids.add(rec.case_id)
    stats.planned += 1
    stats.red_flags.update(rec.red_flags)
    out.write("plans", (rec.plan + "\n").encode("utf-8"))
    if rec.provenance:
        out.write("provenance", rec.provenance.encode("utf-8"))
    out.write("summary", _csv_row(rec.summary))


def _duplicate(case_id: str) -> CaseProblem:
    return CaseProblem("id", case_id, "is already used by an earlier case of the cohort")


def _kb_part(r: Reasoner, graph: str | None) -> bytes:
    """The KB slice every plan step's provenance rests on, once for the whole run."""
    text = kb_slice(r, r.index.recommendations).serialize(format="nt")
    if graph is None:
        return text.encode("utf-8")
    g = f" <https://w3id.org/spinekg/kb/{graph}> .\n"
    return "".join(line[: -len(" .")] + g for line in text.splitlines() if line).encode("utf-8")


def _csv_row(values) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue().encode("utf-8")
