"""Plans for a cohort: cases from a folder or a JSON Lines file, reasoned set-at-a-time in batches, streamed out.

Outputs are written under temporary names next to the final ones and renamed into place at the end (a device or
FIFO is written in place); after every batch a state file records how far the run got, so an interrupted run
resumes (``resume=True``) where it stopped without redoing or losing a case. The state file is also the run's
lock: a second run on the same outputs is refused. Worker processes die with the process that started them.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import orjson

from ..api import case_triples, default_reasoner
from ..case.model import Case, CaseProblem, case_iri
from ..errors import CaseError, UsageError
from ..plan.assemble import assemble
from ..plan.compact import compact, kb_part
from ..plan.provenance import case_provenance, kb_slice
from ..plan.turtle import COHORT, turtle
from ..reasoning.engine import Reasoner, fewer_collections
from .files import RunFiles
from .inputs import Item, Oversized, check_input, count_records, read_item, read_items, read_raw
from .rejected import salvaged_flags, salvaged_id
from .workers import Spool, die_with_parent, discard, even_batches, ordered, spooled

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


#: The fewest cases a worker process is started for: below it, one process is as fast (forking and warming a worker
#: cost about as much as reasoning this many cases).
MIN_SHARE = 100


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


def _progress(total: int | None, enabled: bool | None):
    enabled = sys.stderr.isatty() if enabled is None else enabled
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="case", desc="spinekg cohort", file=sys.stderr, smoothing=0.1)


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


#: The stages of :func:`reason_batch`, as ``timings`` reports them (seconds).
STAGES = ("read_validate", "case_graph", "reason", "assemble", "serialise", "provenance")


def reason_batch(
    r: Reasoner,
    raws: list[tuple[int, str, bytes | Path | Oversized]],
    source: str,
    provenance: str | None,
    full: bool = False,
    timings: dict[str, float] | None = None,
) -> list[Record]:
    """Read, validate and reason over one batch set-at-a-time: a function of the batch and the loaded KB alone
    (no other state is read or kept), so any engine that maps a function over partitions can run it.

    ``provenance`` is None, ``"nt"``, ``"nq"``, ``"ttl"`` or ``"trig"``: the syntax of each case's PROV-O (the same
    triples; Turtle and TriG use the prefixes the file's header declares, :func:`_kb_part`). Each plan is a compact
    line referring to the run's KB part (:func:`reasoner.plan.compact.compact`), or with ``full`` the self-contained
    plan of the design. ``timings``, if given, gets each of ``STAGES``' seconds added to it (the benchmark's shares).
    """
    with fewer_collections():
        return _reason_batch(r, raws, source, provenance, full, _Clock(timings))


def _reason_batch(
    r: Reasoner,
    raws: list[tuple[int, str, bytes | Path | Oversized]],
    source: str,
    provenance: str | None,
    full: bool,
    clock: _Clock,
) -> list[Record]:
    out: list[Record | None] = []
    good: list[tuple[int, Item, Any]] = []  # (slot, item, its triples: None until the whole batch is read)
    seen: set[str] = set()
    for raw in raws:
        item = read_item(*raw, source)
        if item.case is not None and item.case.id in seen:  # two cases of one id cannot share a store
            error = CaseError([_duplicate(item.case.id)], source=item.where)
            item = Item(item.position, item.where, None, error, item.case.id)
        if item.case is None:
            assert item.error is not None  # an item without a case says why
            # what the rejected record still says: its valid id, and red flags reported beside the rejection
            salvaged = salvaged_flags(item.error, r)
            case_id = item.raw_id or salvaged_id(item.error)
            problems = tuple(str(p) for p in item.error.problems)
            ids = " ".join(f.id for f in salvaged)
            row: tuple = (case_id, item.where, "rejected", ids, "", "", "", "", "", "", "; ".join(problems))
            problems += tuple(f.line for f in salvaged)  # on stderr after the problems, as recommend prints them
            out.append(Record(item.position, item.where, case_id, None, "", row, problems))
            continue
        seen.add(item.case.id)
        good.append((len(out), item, None))
        out.append(None)
    clock.lap("read_validate")
    good = [(slot, item, case_triples(cast(Case, item.case))) for slot, item, _ in good]
    knowledge = None if full else kb_part(r)
    clock.lap("case_graph")
    started = datetime.now(timezone.utc)
    runs = r.run([t.nt() for _, _, t in good]) if good else {}
    ended = datetime.now(timezone.utc)
    clock.lap("reason")
    for slot, item, triples in good:
        assert item.case is not None  # good holds only the cases that were read
        run = runs[str(case_iri(item.case.id))]
        plan = assemble(r, run)
        clock.lap("assemble")
        prov = ""
        if provenance is not None:
            prov = _syntax(case_provenance(r, plan, run, triples, started, ended), provenance, f"{run.case}/provenance")
        clock.lap("provenance")
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
        line = plan.to_json() if full else orjson.dumps(compact(plan, cast(dict, knowledge))).decode("utf-8")
        out[slot] = Record(item.position, item.where, plan.case, line, prov, row, (), flags)
        clock.lap("serialise")
    return cast("list[Record]", out)  # every slot is filled by now


class _Clock:
    """Adds the time since the last lap to a stage of ``timings`` (nothing when there is none to add to)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        if self.timings is not None:
            now = time.perf_counter()
            self.timings[stage] = self.timings.get(stage, 0.0) + now - self.last
            self.last = now


_WORKER: dict[str, Reasoner] = {}


def _worker_init(parent: int | None = None) -> None:
    """Make a worker die with its parent (even on ``kill -9`` of the parent), then load the reasoner."""
    die_with_parent(parent)

    _WORKER["reasoner"] = default_reasoner()


def _worker_batch(
    raws, source: str, provenance: str | None, full: bool, spool: str | None = None
) -> tuple[list[Record], Spool | None]:
    """A batch reasoned in a worker; with a ``spool`` folder, its plan lines and provenance are written there and
    the records carry none (:func:`.workers.spooled`)."""
    records = reason_batch(_WORKER["reasoner"], raws, source, provenance, full)
    return spooled(records, spool) if spool is not None else (records, None)


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
    PROV-O to ``provenance`` (``.nt`` N-Triples or ``.nq`` N-Quads, a graph per case; ``.ttl`` Turtle or ``.trig``
    TriG, the same triples and graphs with prefixes declared once at the top and each case's subjects grouped) and
    one CSV row per case to ``summary``; a name ending in ``.gz`` (``plans.jsonl.gz``, ``prov.nt.gz``) is written
    gzip-compressed, a member per batch (:class:`reasoner.cohort.files.RunFiles`). Each plan line is compact: the
    case's own decisions, referring by id to the knowledge base's part (labels, evidence, condition wording;
    :func:`reasoner.plan.compact.kb_part`), written once to ``knowledge`` (default: the output's name with
    ``.kb.json``, ``.kb.json.gz`` for a ``.gz`` one; none for a device or FIFO output unless named);
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
    kind = None if provenance is None else _syntax_of(Path(provenance))
    r = reasoner or default_reasoner()
    errors = errors if errors is not None else sys.stderr
    source = Path(source)
    check_input(source)
    if full and knowledge is not None:
        raise UsageError("--knowledge: the full plans (--full) refer to no knowledge base part; leave one out")
    if not full and knowledge is None and (not Path(output).exists() or Path(output).is_file()):
        name = Path(output).name
        gz = ".gz" if name.endswith(".gz") else ""
        knowledge = Path(output).with_name(name.removesuffix(".gz").removesuffix(".jsonl") + ".kb.json" + gz)
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
    started = time.perf_counter()
    total = count_records(source)  # a full read: an input that cannot be read fails here, before any output is made
    out = RunFiles(paths, fingerprint, resume)
    stats = CohortStats(resumed_from=out.done)
    bar = _progress(total, progress)
    pool = None
    spool = None
    try:
        if out.done == 0:
            if summary is not None:
                out.write("summary", _csv_row(SUMMARY_FIELDS))
            if provenance is not None:
                out.write("provenance", _kb_part(r, cast(str, kind)))
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
        parallel = workers > 1 and reasoner is None and (total is None or total - out.done >= workers * MIN_SHARE)
        size = even_batches(total - out.done, batch_size, workers) if parallel and total is not None else batch_size
        batches = _batches(read_raw(source, out.done), size)
        results: Iterator[tuple[list[Record], Spool | None]]
        if parallel:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            forkserver = multiprocessing.get_start_method() == "forkserver"  # there the forkserver is the parent
            pool = ProcessPoolExecutor(
                workers, initializer=_worker_init, initargs=(None if forkserver else os.getpid(),)
            )
            spool = tempfile.mkdtemp(prefix="spinekg-cohort-")  # the workers' outputs, each file copied and removed
            results = ordered(pool, _worker_batch, batches, workers, (str(source), kind, full, spool))
        else:
            results = ((reason_batch(r, batch, str(source), kind, full), None) for batch in batches)
        for records, text in results:
            _write_batch(records, text, out, stats, errors)
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
        if spool is not None:
            shutil.rmtree(spool, ignore_errors=True)
        if bar is not None:
            bar.close()
    stats.seconds = time.perf_counter() - started
    return stats


def _write_batch(records: list[Record], text: Spool | None, out: RunFiles, stats: CohortStats, errors) -> None:
    """Write a batch's records; a spooled batch's text is copied from its files, which are then removed."""
    if text is None:
        for rec in records:
            _write(rec, out, stats, errors)
        return
    try:
        with open(text.plans, "rb") as plans, open(text.provenance, "rb") as prov:
            for rec, (a, n, b, m) in zip(records, text.spans, strict=True):
                if _write(rec, out, stats, errors, text=False):
                    out.copy("plans", plans.fileno(), a, n)
                    out.copy("provenance", prov.fileno(), b, m)
    finally:
        discard(text.plans, text.provenance)


def _write(rec: Record, out: RunFiles, stats: CohortStats, errors, text: bool = True) -> bool:
    """Count and write one record (its plan line and provenance too, with ``text``); whether it was planned."""
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
        return False
    out.ids.add(rec.case_id)
    stats.planned += 1
    stats.red_flags.update(rec.red_flags)
    if text:
        out.write("plans", (rec.plan + "\n").encode("utf-8"))
        if rec.provenance:
            out.write("provenance", rec.provenance.encode("utf-8"))
    out.write("summary", _csv_row(rec.summary))
    return True


def _duplicate(case_id: str) -> CaseProblem:
    return CaseProblem("id", case_id, "is already used by an earlier case of the cohort")


def _syntax_of(provenance: Path) -> str:
    """The provenance syntax a file name asks for (``prov.nt``, ``prov.ttl.gz`` …), or an exit-2 error."""
    suffix = Path(provenance.name.removesuffix(".gz")).suffix
    if suffix not in (".nt", ".nq", ".ttl", ".trig"):
        raise UsageError(
            f"--provenance: {provenance} must end in .nt (N-Triples), .nq (N-Quads), .ttl (Turtle) or .trig (TriG), "
            "with .gz after it for gzip"
        )
    return suffix[1:]


def _kb_part(r: Reasoner, kind: str) -> bytes:
    """The start of a run's provenance file of syntax ``kind`` (nt, nq, ttl, trig): for Turtle and TriG the
    ``@base`` and ``@prefix`` lines, then the KB slice every plan step's provenance rests on, once for the run."""
    text = kb_slice(r, r.index.recommendations).serialize(format="nt")
    text = "".join(sorted(text.splitlines(keepends=True)))  # rdflib's order follows the process's hash seed
    head = COHORT.header() if kind in ("ttl", "trig") else ""
    return (head + _syntax(text, kind, f"https://w3id.org/spinekg/kb/{r.kb_version}")).encode("utf-8")


def _syntax(nt: str, kind: str, graph: str) -> str:
    """N-Triples text in the syntax ``kind``: as it is (nt), in ``graph`` (nq, trig), as Turtle (ttl)."""
    if kind == "nq":
        g = f" <{graph}> .\n"
        return "".join(line[: -len(" .")] + g for line in nt.splitlines() if line)
    if kind in ("ttl", "trig"):
        return turtle(nt, COHORT, graph if kind == "trig" else None)
    return nt


def _csv_row(values) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue().encode("utf-8")
