"""A cohort run's files: the outputs under partial names, renamed into place at the end, and the state-file lock."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import zlib
from pathlib import Path
from typing import BinaryIO

from .. import outputs
from ..errors import UsageError

#: zlib's fastest level: on 2,000 generated cases the plans and N-Triples provenance went from 80.8 to 6.3 kB a case,
#: in the same wall time and memory as the uncompressed run (6.65 s, 390 MiB). Level 6, gzip's default, saves about a
#: further quarter for three times the compression time.
GZIP_LEVEL = 1


#: What ``copy_file_range`` says when the kernel cannot copy between these two files (no byte copied).
_NO_KERNEL_COPY = {errno.EXDEV, errno.EBADF, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ETXTBSY}


class RunFiles:
    """The output files under ``.NAME.partial`` names, renamed into place at the end, and the ``.NAME.state`` file.

    The state file records each partial file's length after every batch and is the run's lock: it is created
    exclusively and held with ``flock`` while the run lasts, so a second run on the same output is refused, and
    one left by a crashed run is taken up only with ``resume``. An output that is a device, FIFO or socket is
    written in place as the run goes (a rename would replace it), so a run with one cannot be resumed. Any
    ``OSError`` is an exit-2 :class:`UsageError` naming the file.

    An output whose name ends in ``.gz`` is gzip-compressed as it is written, each batch one gzip member ended at
    its checkpoint (RFC 1952 allows any number; ``gzip -d``, ``zcat``, Python's ``gzip``, Jena's RIOT and rdflib
    read them as one stream). The state records lengths at member boundaries, so a resumed run truncates to whole
    members and appends more.
    """

    def __init__(self, paths: dict[str, tuple[str, Path | None]], fingerprint: dict, resume: bool):
        self.targets = {k: outputs.target(p, label) for k, (label, p) in paths.items() if p is not None}
        self.tmp = {k: t.path.with_name(f".{t.path.name}.partial") for k, t in self.targets.items() if not t.stream}
        regular = [self.targets[k] for k in self.tmp]
        self.state_path = regular[0].path.with_name(f".{regular[0].path.name}.state") if regular else None
        self.fingerprint = fingerprint
        self.done = 0
        self.ids: set[str] = set()
        self.files: dict[str, BinaryIO] = {}
        self.gzip = {k for k, t in self.targets.items() if t.shown.name.endswith(".gz")}
        self._by_hand: set[str] = set()  # the outputs the kernel cannot copy into (copy_file_range refused)
        self._member: dict[str, zlib._Compress] = {}  # a gzip output's member being written (since its checkpoint)
        self._members: set[str] = set()  # the gzip outputs that hold a finished member already
        self._lock: int | None = None
        self._state_size = 0
        self._owned: list[Path] = []  # the partial files this run made or took over (the only ones it may remove)
        state = self._take_state(resume)
        try:
            if state is None:
                self._create_partials()
            else:
                self._reopen_partials(state)
            for key, t in self.targets.items():
                if t.stream:
                    self.files[key] = outputs.open_in_place(t)
            if state is None:
                self._save_state()
        except BaseException:
            self.abandon(keep=state is not None)
            raise

    def _take_state(self, resume: bool) -> dict | None:
        """Create the state file (the lock) for a new run, or lock and read the one an interrupted run left."""
        if self.state_path is None:
            if resume:
                raise UsageError("--resume: no output is a regular file, so there is no interrupted run to carry on")
            return None
        label, shown = self.targets["plans" if "plans" in self.tmp else next(iter(self.tmp))].label, self.state_path
        flags = os.O_RDWR | getattr(os, "O_CLOEXEC", 0)
        try:
            self._lock = os.open(self.state_path, flags | os.O_CREAT | os.O_EXCL, 0o666)
            created = True
        except FileExistsError:
            created = False
        except OSError as exc:
            raise outputs.output_error(label, shown, exc, "cannot create the run's state file") from None
        if not created:
            try:
                self._lock = os.open(self.state_path, flags)
            except OSError as exc:
                raise outputs.output_error(label, shown, exc, "cannot open the run's state file") from None
        assert self._lock is not None  # opened above, or raised
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._lock)
            self._lock = None
            raise UsageError(
                f"{self.state_path}: another spinekg cohort is writing these outputs now (it holds this file); "
                "wait for it to finish, or give other --output/--provenance/--summary files"
            ) from None
        if created:
            return None
        if not resume:
            self._release()
            raise UsageError(
                f"{self.state_path}: an earlier run on these outputs was interrupted and left this state file; "
                f"carry it on with --resume, or remove it and {', '.join(map(str, self.tmp.values()))} to start again"
            )
        try:
            return self._read_state()
        except BaseException:
            self._release()
            raise

    def _read_state(self) -> dict:
        assert self._lock is not None  # read only while the state file is held
        os.lseek(self._lock, 0, os.SEEK_SET)
        with os.fdopen(os.dup(self._lock), "rb") as f:
            raw = f.read(1_000_000)
        self._state_size = len(raw)
        try:
            state = json.loads(raw)
            done, lengths = int(state["done"]), dict(state["lengths"])
        except (ValueError, TypeError, KeyError, AttributeError):
            if not raw.strip():  # created, then the run died before its first record
                state, done, lengths = {"fingerprint": self.fingerprint}, 0, {k: 0 for k in self.tmp}
            else:
                raise UsageError(
                    f"{self.state_path}: cannot be read; remove it and the .partial files to start again"
                ) from None
        if state.get("fingerprint") != self.fingerprint:
            raise UsageError(
                f"{self.state_path}: the interrupted run had other input, outputs or knowledge base; "
                "remove it to start again"
            )
        streams = [f"{t.label} {t.shown}" for t in self.targets.values() if t.stream]
        if streams:
            raise UsageError(
                f"--resume: {', '.join(streams)} is not a regular file (a device, FIFO or socket) and cannot be "
                f"carried on; remove {self.state_path} and run again without --resume"
            )
        missing = [str(p) for k, p in self.tmp.items() if not p.exists() or k not in lengths]
        if missing:
            raise UsageError(f"cannot resume: {', '.join(missing)} missing; remove {self.state_path} to start again")
        return {**state, "done": done, "lengths": lengths}

    def _create_partials(self) -> None:
        for key, tmp in self.tmp.items():
            t = self.targets[key]
            try:
                self.files[key] = outputs.create_exclusive(t, tmp)
                self._owned.append(tmp)
            except FileExistsError:
                raise UsageError(
                    f"{tmp}: exists, left by an earlier run with no state file; remove it to start again"
                ) from None
            except OSError as exc:
                raise t.error(exc, f"cannot create {tmp}") from None

    def _reopen_partials(self, state: dict) -> None:
        self.done = state["done"]
        self._owned = list(self.tmp.values())
        for key, tmp in self.tmp.items():
            try:
                with open(tmp, "r+b") as f:
                    f.truncate(state["lengths"][key])  # what a batch cut short wrote after the last state
                self.files[key] = open(tmp, "ab")
                if state["lengths"][key]:
                    self._members.add(key)
            except OSError as exc:
                raise self.targets[key].error(exc, f"cannot reopen {tmp}") from None

    def _save_state(self, done: int = 0) -> None:
        """Rewrite the state in place (the file is the lock), padded so that it never shrinks, then fsync."""
        if self._lock is None:
            self.done = done
            return
        assert self.state_path is not None  # the lock is the state file
        lengths = {k: self.files[k].tell() for k in self.tmp}
        data = (json.dumps({"fingerprint": self.fingerprint, "done": done, "lengths": lengths}) + "\n").encode()
        data = data.ljust(self._state_size, b" ")
        try:
            os.pwrite(self._lock, data, 0)
            os.fsync(self._lock)
        except OSError as exc:
            raise outputs.output_error("--output", self.state_path, exc) from None
        self._state_size = len(data)
        self.done = done

    def write(self, key: str, data: bytes) -> None:
        f = self.files.get(key)
        if f is None:
            return
        if key in self.gzip:
            member = self._member.get(key)
            if member is None:
                member = self._member[key] = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: a gzip member
            data = member.compress(data)
        try:
            f.write(data)
        except OSError as exc:
            raise self._error(key, exc) from None

    def copy(self, key: str, src: int, offset: int, length: int) -> None:
        """Append ``length`` bytes of the file ``src`` from ``offset`` to output ``key``: copied by the kernel
        (``copy_file_range``) into a regular, uncompressed output; read and written (compressed as :meth:`write`
        does) into the others, and wherever the kernel refuses (another file system, an append-mode file)."""
        f = self.files.get(key)
        if f is None or length <= 0:
            return
        if key not in self.gzip and key not in self._by_hand:
            done = 0
            try:
                f.flush()
                while done < length:
                    n = os.copy_file_range(src, f.fileno(), length - done, offset + done)
                    if n == 0:
                        break
                    done += n
            except OSError as exc:
                if done or exc.errno not in _NO_KERNEL_COPY:
                    raise self._error(key, exc) from None
                self._by_hand.add(key)  # nothing was copied: from now on by hand
            else:
                f.seek(0, os.SEEK_END)  # the buffered file's idea of its position follows the kernel's
                if done == length:
                    return
                offset, length = offset + done, length - done
        while length > 0:
            try:
                chunk = os.pread(src, min(length, 1 << 20), offset)
            except OSError as exc:
                raise self._error(key, exc) from None
            if not chunk:
                raise UsageError(f"{self.targets[key].shown}: a batch's spooled output was cut short")
            self.write(key, chunk)
            offset += len(chunk)
            length -= len(chunk)

    def _end_members(self, last: bool = False) -> None:
        """End each gzip output's member (at the end, first start an empty one in a file that got none, so that
        every ``.gz`` output is a valid gzip file)."""
        if last:
            for key in self.gzip - self._members - set(self._member):
                self.write(key, b"")
        for key, member in list(self._member.items()):
            del self._member[key]
            try:
                self.files[key].write(member.flush())
            except OSError as exc:
                raise self._error(key, exc) from None
            self._members.add(key)

    def _error(self, key: str, exc: OSError) -> UsageError:
        t = self.targets[key]
        return t.error(exc, f"cannot write {self.tmp[key]}" if key in self.tmp else "cannot write")

    def checkpoint(self, done: int, last: bool = False) -> None:
        self._end_members(last)
        for key, f in self.files.items():
            try:
                f.flush()
                if key in self.tmp:
                    os.fsync(f.fileno())
            except OSError as exc:
                raise self._error(key, exc) from None
        self._save_state(done)

    def finish(self) -> None:
        """Close every output, rename each partial file over its target, then drop the state file and the lock."""
        self.checkpoint(self.done, last=True)
        for key in list(self.files):
            f = self.files.pop(key)
            try:
                f.close()
            except OSError as exc:
                raise self._error(key, exc) from None
        for key, tmp in self.tmp.items():
            try:
                outputs.replace(tmp, self.targets[key])
            except OSError as exc:
                raise self.targets[key].error(exc, f"cannot rename {tmp} over it") from None
        if self.state_path is not None:
            self.state_path.unlink(missing_ok=True)
        self._release()

    def abandon(self, keep: bool | None = None) -> str:
        """After a failure: keep the partial files and the state when a run can carry on from them (a batch was
        recorded and every output is a regular file), else remove them; what was done, in words."""
        for f in self.files.values():
            try:
                f.close()
            except OSError:  # the buffered rest cannot be written either; the state does not count it
                pass
        self.files.clear()
        if keep is None:
            keep = self.done > 0 and self.state_path is not None and not any(t.stream for t in self.targets.values())
        if self._lock is not None and keep:
            self._release()
            names = ", ".join(str(p) for p in self.tmp.values())
            return (
                f"the {self.done} records done so far are kept in {names}: run again with --resume to carry on, "
                f"or remove {self.state_path} and them to start again"
            )
        for tmp in self._owned:
            tmp.unlink(missing_ok=True)
        if self._lock is not None:
            assert self.state_path is not None  # the lock is the state file
            self.state_path.unlink(missing_ok=True)
            self._release()
        return "no partial output is left behind"

    def _release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)  # closing the file drops the flock
            self._lock = None
