"""A cohort's input: the records of a folder of case files or a JSON Lines file (gzip-compressed when its name ends in
``.gz``), each read within the case limits."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from ..case.files import MAX_BYTES, load_case, loads
from ..case.model import _FORMATS, _ID, Case, CaseProblem
from ..errors import CaseError, UsageError


@dataclass(frozen=True)
class Item:
    """One input record: where it came from, and the validated case or why it was rejected."""

    position: int  # 0-based position in the input
    where: str  # "line 12" or the file name
    case: Case | None
    error: CaseError | None = None
    raw_id: str = ""  # the id of a rejected record, where it names a valid one


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


@contextmanager
def _opened(source: Path) -> Iterator[BinaryIO]:
    """A JSON Lines file opened for reading, decompressed as it is read when its name ends in ``.gz``; a gzip stream
    that is cut short or corrupt is an exit-2 error naming the file."""
    if not source.name.endswith(".gz"):
        with open(source, "rb") as f:
            yield f
        return
    try:
        with gzip.open(source, "rb") as f:
            yield cast(BinaryIO, f)  # a GzipFile reads as a binary file does
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise UsageError(f"{source}: is not a whole gzip file ({exc})") from None


def _case_files(source: Path) -> list[Path]:
    """The case files of a folder, sorted by name: entries with a case suffix that are not folders (a FIFO or a
    device among them is rejected when read, never opened)."""
    return sorted(p for p in source.iterdir() if p.suffix.lower() in _FORMATS and not p.is_dir())


def check_input(source: Path) -> None:
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
    check_input(source)
    if source.is_dir():
        for n, path in enumerate(_case_files(source)):
            if n >= skip:
                yield n, path.name, path
        return
    with _opened(source) as f:
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


def count_records(source: Path) -> int | None:
    """How many records the input holds (for the progress bar); None when counting would cost a full read."""
    if source.is_dir():
        return len(_case_files(source))
    if source.stat().st_size > (200_000_000 if source.name.endswith(".gz") else 2_000_000_000):
        return None
    with _opened(source) as f:
        return sum(1 for _ in _lines(f))
