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


def read_items(source: Path, skip: int = 0) -> Iterator[Item]:
    """The records of a folder of case files (sorted by name) or of a JSON Lines file, validated one by one."""
    source = Path(source)
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in _FORMATS)
        for n, path in enumerate(files):
            if n < skip:
                continue
            try:
                yield Item(n, path.name, load_case(path))
            except CaseError as exc:
                yield Item(n, path.name, None, exc)
        return
    if not source.is_file():
        raise UsageError(f"{source}: no such file or folder")
    with open(source, "rb") as f:
        n = -1
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            n += 1
            if n < skip:
                continue
            where, origin = f"line {number}", f"{source}:{number}"
            try:
                yield Item(n, where, loads(raw.decode("utf-8"), "json", origin))
            except UnicodeDecodeError as exc:
                problem = CaseProblem("", raw[max(0, exc.start - 10) : exc.end + 10], "is not valid UTF-8")
                yield Item(n, where, None, CaseError([problem], source=origin))
            except CaseError as exc:
                yield Item(n, where, None, exc, _raw_id(raw))


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
    errors=None,
) -> CohortStats:
    """Reason over every case of ``source`` in batches; write a plan per line to ``output`` (JSON Lines),
    the run's PROV-O to ``provenance`` (``.nt`` N-Triples or ``.nq`` N-Quads, a graph per case) and one CSV row
    per case to ``summary``. A rejected case is reported on ``errors`` (stderr) with its line or file, counted,
    and skipped.

    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "in.jsonl").write_text('{"id": "a", "age": 40}\\n{"id": "b", "age": -1}\\n')
    >>> stats = run_cohort(d / "in.jsonl", d / "plans.jsonl", errors=io.StringIO())
    >>> stats.planned, stats.rejected, json.loads((d / "plans.jsonl").read_text())["case"]
    (1, 1, 'a')
    """
    from .api import case_triples, default_reasoner

    if batch_size < 1:
        raise UsageError(f"--batch-size: {batch_size} is not a positive number of cases")
    if provenance is not None and provenance.suffix not in (".nt", ".nq"):
        raise UsageError(f"--provenance: {provenance} must end in .nt (N-Triples) or .nq (N-Quads)")
    r = reasoner or default_reasoner()
    errors = errors if errors is not None else sys.stderr
    source = Path(source)
    fingerprint = {
        "input": str(source.resolve()),
        "input_size": sum(p.stat().st_size for p in source.iterdir()) if source.is_dir() else source.stat().st_size,
        "outputs": [str(p) for p in (output, provenance, summary)],
        "kb_version": r.kb_version,
    }
    out = _Outputs({"plans": output, "provenance": provenance, "summary": summary}, output, fingerprint, resume)
    stats = CohortStats(resumed_from=out.done)
    started = time.perf_counter()
    bar = _progress(_count(source), progress)
    try:
        if out.done == 0:
            if summary is not None:
                out.write("summary", _csv_row(SUMMARY_FIELDS))
            if provenance is not None:
                graph = f"{r.kb_version}" if provenance.suffix == ".nq" else None
                out.write("provenance", _kb_part(r, graph))
        else:
            for item in read_items(source, 0):  # the ids of the cases already done, to catch duplicates
                if item.position >= out.done:
                    break
                if item.case is not None:
                    out.ids.add(item.case.id)
        if bar is not None:
            bar.update(out.done)
        batch: list[Item] = []
        for item in read_items(source, out.done):
            batch.append(item)
            if len(batch) >= batch_size:
                _batch(r, batch, out, stats, provenance, errors, case_triples)
                if bar is not None:
                    bar.update(len(batch))
                batch = []
        if batch:
            _batch(r, batch, out, stats, provenance, errors, case_triples)
            if bar is not None:
                bar.update(len(batch))
        out.finish()
    finally:
        out.close()
        if bar is not None:
            bar.close()
    stats.seconds = time.perf_counter() - started
    return stats


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


def _batch(r: Reasoner, batch: list[Item], out: _Outputs, stats, provenance, errors, case_triples) -> None:
    good: list[tuple[Item, Triples]] = []
    for item in batch:
        stats.read += 1
        if item.case is not None and item.case.id in out.ids:
            problem = CaseProblem("id", item.case.id, "is already used by an earlier case of the cohort")
            item = Item(item.position, item.where, None, CaseError([problem], source=item.where), item.case.id)
        if item.case is None:
            stats.rejected += 1
            for problem in item.error.problems:
                print(f"spinekg: {item.where}: {problem}", file=errors)
            message = "; ".join(str(p) for p in item.error.problems)
            out.write("summary", _csv_row([item.raw_id, item.where, "rejected", "", "", "", "", "", "", "", message]))
            continue
        out.ids.add(item.case.id)
        good.append((item, case_triples(item.case)))
    started = datetime.now(timezone.utc)
    runs = r.run([t.nt() for _, t in good]) if good else {}
    ended = datetime.now(timezone.utc)
    nq = provenance is not None and provenance.suffix == ".nq"
    for item, triples in good:
        run = runs[str(case_iri(item.case.id))]
        plan = assemble(r, run)
        stats.planned += 1
        stats.red_flags.update(f.id for f in plan.red_flags)
        out.write("plans", (plan.to_json() + "\n").encode("utf-8"))
        if provenance is not None:
            text = case_provenance(r, plan, run, triples, started, ended)
            if nq:
                g = f" <{run.case}/provenance> .\n"
                text = "".join(line[: -len(" .")] + g for line in text.splitlines())
            out.write("provenance", text.encode("utf-8"))
        phases = Counter(s.phase for s in plan.steps)
        row = [
            plan.case,
            item.where,
            "planned",
            " ".join(f.id for f in plan.red_flags),
            *(phases.get(p, 0) for p in ("emergency", "urgent", "now", "if_persistent", "follow_up")),
            " ".join(w.id for w in plan.warnings),
            "",
        ]
        out.write("summary", _csv_row(row))
    stats.batches += 1
    out.checkpoint(batch[-1].position + 1)
