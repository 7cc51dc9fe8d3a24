"""Plans for a cohort: cases from a folder or a JSON Lines file, reasoned set-at-a-time in batches, streamed out.

Outputs are written under temporary names next to the final ones and renamed into place at the end; after
every batch a state file records how far the run got, so an interrupted run resumes (``resume=True``) where
it stopped without redoing or losing a case.
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

from .case import _FORMATS, _ID, Case, CaseProblem, case_iri, load_case, loads
from .engine import Reasoner
from .errors import CaseError, UsageError
from .ntriples import Triples
from .plan import assemble
from .provenance import case_provenance, kb_slice

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


def read_raw(source: Path, skip: int = 0) -> Iterator[tuple[int, str, bytes | Path]]:
    """The records of a folder of case files (sorted by name) or of a JSON Lines file, unread: (position, where,
    the line's bytes or the file's path). Blank lines are not records."""
    source = Path(source)
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in _FORMATS)
        for n, path in enumerate(files):
            if n >= skip:
                yield n, path.name, path
        return
    if not source.is_file():
        raise UsageError(f"{source}: no such file or folder")
    with open(source, "rb") as f:
        n = -1
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            n += 1
            if n >= skip:
                yield n, f"line {number}", raw


def read_item(position: int, where: str, raw: bytes | Path, source: str = "") -> Item:
    """One record read and validated: the case, or why it was rejected."""
    if isinstance(raw, Path):
        try:
            return Item(position, where, load_case(raw))
        except CaseError as exc:
            return Item(position, where, None, exc)
    origin = f"{source}:{where.removeprefix('line ')}"
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


class _Outputs:
    """The output files under temporary names, with a state file recording each one's length after a batch."""

    def __init__(self, paths: dict[str, Path | None], state_of: Path, fingerprint: dict, resume: bool):
        self.final = {k: p for k, p in paths.items() if p is not None}
        self.tmp = {k: p.with_name(f".{p.name}.partial") for k, p in self.final.items()}
        self.state_path = state_of.with_name(f".{state_of.name}.state")
        self.fingerprint = fingerprint
        self.done = 0
        self.ids: set[str] = set()
        state = self._state() if resume else None
        if state is not None:
            self.done = state["done"]
            for key, tmp in self.tmp.items():
                with open(tmp, "r+b") as f:
                    f.truncate(state["lengths"][key])  # what a batch cut short wrote after the last state
        self.files = {k: open(p, "ab" if state is not None else "wb") for k, p in self.tmp.items()}

    def _state(self) -> dict | None:
        if not self.state_path.exists():
            return None
        state = json.loads(self.state_path.read_text(encoding="utf-8"))
        if state.get("fingerprint") != self.fingerprint:
            raise UsageError(
                f"{self.state_path}: the interrupted run had other input, outputs or knowledge base; "
                "remove it to start again"
            )
        missing = [str(p) for k, p in self.tmp.items() if not p.exists() or k not in state["lengths"]]
        if missing:
            raise UsageError(f"cannot resume: {', '.join(missing)} missing; remove {self.state_path} to start again")
        return state

    def write(self, key: str, data: bytes) -> None:
        if key in self.files:
            self.files[key].write(data)

    def checkpoint(self, done: int) -> None:
        lengths = {}
        for key, f in self.files.items():
            f.flush()
            os.fsync(f.fileno())
            lengths[key] = f.tell()
        self.done = done
        state = {"fingerprint": self.fingerprint, "done": done, "lengths": lengths}
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        tmp.replace(self.state_path)

    def finish(self) -> None:
        for key, f in self.files.items():
            f.close()
            self.tmp[key].replace(self.final[key])
        self.state_path.unlink(missing_ok=True)

    def close(self) -> None:
        for f in self.files.values():
            f.close()


def _progress(total: int | None, enabled: bool | None):
    enabled = sys.stderr.isatty() if enabled is None else enabled
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="case", desc="spinekg cohort", file=sys.stderr, smoothing=0.1)


def _count(source: Path) -> int | None:
    """How many records the input holds (for the progress bar); None when counting would cost a full read."""
    if source.is_dir():
        return sum(1 for p in source.iterdir() if p.is_file() and p.suffix.lower() in _FORMATS)
    if source.stat().st_size > 2_000_000_000:
        return None
    with open(source, "rb") as f:
        return sum(1 for line in f if line.strip())


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
    r: Reasoner, raws: list[tuple[int, str, bytes | Path]], source: str, provenance: str | None
) -> list[Record]:
    """Read, validate and reason over one batch set-at-a-time; ``provenance`` is None, ``"nt"`` or ``"nq"``."""
    from .api import case_triples

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
        out[slot] = Record(item.position, item.where, plan.case, plan.to_json(), prov, row, (), flags)
    return out


_WORKER: dict[str, object] = {}


def _worker_init() -> None:
    from .api import default_reasoner

    _WORKER["reasoner"] = default_reasoner()


def _worker_batch(raws, source: str, provenance: str | None) -> list[Record]:
    return reason_batch(_WORKER["reasoner"], raws, source, provenance)


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
) -> CohortStats:
    """Reason over every case of ``source`` in batches; write a plan per line to ``output`` (JSON Lines),
    the run's PROV-O to ``provenance`` (``.nt`` N-Triples or ``.nq`` N-Quads, a graph per case) and one CSV row
    per case to ``summary``. A rejected case is reported on ``errors`` (stderr) with its line or file, counted,
    and skipped. ``workers`` > 1 reasons batches in that many processes (the embedded store only); the outputs
    are the same, in input order.

    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "in.jsonl").write_text('{"id": "a", "age": 40}\\n{"id": "b", "age": -1}\\n')
    >>> stats = run_cohort(d / "in.jsonl", d / "plans.jsonl", errors=io.StringIO())
    >>> stats.planned, stats.rejected, json.loads((d / "plans.jsonl").read_text())["case"]
    (1, 1, 'a')
    """
    from .api import default_reasoner

    if batch_size < 1:
        raise UsageError(f"--batch-size: {batch_size} is not a positive number of cases")
    if workers < 1:
        raise UsageError(f"--workers: {workers} is not a positive number of processes")
    if provenance is not None and provenance.suffix not in (".nt", ".nq"):
        raise UsageError(f"--provenance: {provenance} must end in .nt (N-Triples) or .nq (N-Quads)")
    r = reasoner or default_reasoner()
    errors = errors if errors is not None else sys.stderr
    source = Path(source)
    if not source.exists():
        raise UsageError(f"{source}: no such file or folder")
    named = [("--output", output), ("--provenance", provenance), ("--summary", summary)]
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
        "input_size": sum(p.stat().st_size for p in source.iterdir()) if source.is_dir() else source.stat().st_size,
        "outputs": [str(p) for p in (output, provenance, summary)],
        "kb_version": r.kb_version,
    }
    out = _Outputs({"plans": output, "provenance": provenance, "summary": summary}, output, fingerprint, resume)
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
            from concurrent.futures import ProcessPoolExecutor

            pool = ProcessPoolExecutor(workers, initializer=_worker_init)
            results = _ordered(pool, batches, str(source), kind, workers)
        else:
            results = (reason_batch(r, batch, str(source), kind) for batch in batches)
        for records in results:
            for rec in records:
                _write(rec, out, stats, errors)
            stats.batches += 1
            out.checkpoint(records[-1].position + 1)
            if bar is not None:
                bar.update(len(records))
        out.finish()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        out.close()
        if bar is not None:
            bar.close()
    stats.seconds = time.perf_counter() - started
    return stats


def _ordered(pool, batches: Iterator[list], source: str, kind: str | None, workers: int) -> Iterator[list[Record]]:
    """The batches' records in input order, at most ``workers + 1`` batches in flight (bounded memory)."""
    from collections import deque

    pending: deque = deque()
    for batch in batches:
        pending.append(pool.submit(_worker_batch, batch, source, kind))
        if len(pending) > workers:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _write(rec: Record, out: _Outputs, stats: CohortStats, errors) -> None:
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
