"""Writing a file a user named: a device or FIFO in place, a symlink through, only a regular file by rename."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import UsageError

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_IN_PLACE = os.O_WRONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)


@dataclass(frozen=True)
class Target:
    """Where an output named ``shown`` really goes.

    ``path`` is ``shown`` with its symlinks resolved (a link is written through and stays a link); ``stream`` is
    true for an existing device, FIFO or socket, which is written in place (a rename would replace the node);
    otherwise ``path`` is a regular file or none yet, replaced by a rename. ``mode``: the permission bits of an
    existing regular file, which its replacement keeps (as a shell ``>`` does).
    """

    label: str
    shown: Path
    path: Path
    stream: bool
    mode: int | None = None

    def error(self, exc: OSError, doing: str = "cannot write") -> UsageError:
        """The exit-2 error for a failed write of this output, naming the path and the reason."""
        return output_error(self.label, self.shown, exc, doing)


def output_error(label: str, shown: str | os.PathLike, exc: OSError, doing: str = "cannot write") -> UsageError:
    """``--output FILE: cannot write: No space left on device``; the file the system named when it is another one.

    >>> print(output_error("--output", "/x/plan.json", FileNotFoundError(2, "No such file or directory", "/x")))
    --output /x/plan.json: cannot write: No such file or directory (/x)
    """
    reason = exc.strerror or str(exc) or type(exc).__name__
    named = exc.filename if exc.filename is not None and str(exc.filename) != str(shown) else None
    return UsageError(f"{label} {shown}: {doing}: {reason}" + (f" ({named})" if named is not None else ""))


def target(path: str | os.PathLike, label: str = "--output") -> Target:
    """Where ``path`` really goes, or an exit-2 error: a folder, a folder that does not exist, a path that cannot be
    looked at (permission, a loop of links).

    >>> t = target("/dev/null")
    >>> t.stream, str(t.path)
    (True, '/dev/null')
    >>> target("/")
    Traceback (most recent call last):
    reasoner.errors.UsageError: --output /: is a folder; give a file name
    """
    shown = Path(path)
    real = Path(os.path.realpath(shown))
    try:
        st = os.stat(real)
    except FileNotFoundError:
        if not real.parent.is_dir():
            raise UsageError(f"{label} {shown}: the folder {real.parent} does not exist") from None
        return Target(label, shown, real, False)
    except OSError as exc:
        raise output_error(label, shown, exc, "cannot use it") from None
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{label} {shown}: is a folder; give a file name")
    if stat.S_ISREG(st.st_mode):
        return Target(label, shown, real, False, stat.S_IMODE(st.st_mode))
    return Target(label, shown, real, True)


def create_exclusive(t: Target, path: Path, doing: str = "cannot create") -> BinaryIO:
    """``path`` (next to ``t``) created new for writing (``O_EXCL``: never an existing file or link), mode as a
    shell ``>`` makes it: ``t``'s bits when it exists, else what the umask leaves of 0o666."""
    fd = os.open(path, _CREATE, 0o666)
    try:
        if t.mode is not None:
            os.fchmod(fd, t.mode)
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise


def open_in_place(t: Target) -> BinaryIO:
    """The device, FIFO or socket ``t`` opened for writing as it is (a FIFO: once a reader has opened it)."""
    try:
        return os.fdopen(os.open(t.path, _IN_PLACE), "wb")
    except OSError as exc:
        raise t.error(exc, "cannot open it for writing") from None


def replace(tmp: Path, t: Target) -> None:
    """Rename the finished temporary file ``tmp`` over ``t`` and make the rename durable."""
    os.replace(tmp, t.path)
    try:
        fd = os.open(t.path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot sync a folder; the rename itself is done
        pass
    finally:
        os.close(fd)


def _temporary(t: Target) -> Path:
    """A fresh temporary name in ``t``'s folder (the name cut so that it stays a valid file name)."""
    return t.path.with_name(f".{t.path.name[:200]}.{uuid.uuid4().hex[:12]}.tmp")


def _stage(t: Target, data: bytes) -> Path:
    """``data`` in a new temporary file next to ``t``, flushed and fsynced; removed again on any failure."""
    for _ in range(5):
        tmp = _temporary(t)
        try:
            f = create_exclusive(t, tmp)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise t.error(exc, f"cannot create a temporary file in {t.path.parent}") from None
    else:  # pragma: no cover - five random names taken
        raise UsageError(f"{t.label} {t.shown}: cannot find a free temporary name in {t.path.parent}")
    try:
        with f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise t.error(exc) from None
        raise
    return tmp


def _write_in_place(t: Target, data: bytes) -> None:
    try:
        fd = os.open(t.path, _IN_PLACE)
    except OSError as exc:
        raise t.error(exc, "cannot open it for writing") from None
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError as exc:
        raise t.error(exc) from None
    finally:
        os.close(fd)


def write_outputs(items: Iterable[tuple[str | os.PathLike, bytes]], label: str = "--output") -> list[Path]:
    """Write each ``(path, data)``: every regular file is staged first, then all are renamed into place, so a
    failure leaves every one of them as it was; devices, FIFOs and sockets are written in place, last. The paths
    as given.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> (d / "real.txt").write_text("old")
    3
    >>> (d / "link.txt").symlink_to(d / "real.txt")
    >>> [p.name for p in write_outputs([(d / "link.txt", b"new"), ("/dev/null", b"gone")])]
    ['link.txt', 'null']
    >>> (d / "link.txt").is_symlink(), (d / "real.txt").read_text(), sorted(p.name for p in d.iterdir())
    (True, 'new', ['link.txt', 'real.txt'])
    """
    items = list(items)
    targets = [target(path, label) for path, _ in items]
    staged: list[Path | None] = []
    try:
        for t, (_, data) in zip(targets, items, strict=True):
            staged.append(None if t.stream else _stage(t, data))
        for t, tmp in zip(targets, staged, strict=True):
            if tmp is not None:
                try:
                    replace(tmp, t)
                except OSError as exc:
                    raise t.error(exc, "cannot replace it") from None
        for t, tmp, (_, data) in zip(targets, staged, items, strict=True):
            if tmp is None:
                _write_in_place(t, data)
    finally:
        for tmp in staged:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
    return [t.shown for t in targets]


def write_output(path: str | os.PathLike, data: bytes, label: str = "--output") -> Path:
    """Write ``data`` to the file a user named ``path``, as :func:`write_outputs` does; the path as given.

    A regular file (or none yet) is replaced by a rename of a fresh temporary file (never half a file); a device,
    FIFO or socket is written in place (``/dev/null`` stays a device); a symlink is written through and stays a
    link. A failure is a :class:`~reasoner.errors.UsageError` (exit status 2) naming the path and the reason, and
    leaves nothing behind.

    >>> write_output("/dev/full", b"plan")
    Traceback (most recent call last):
    reasoner.errors.UsageError: --output /dev/full: cannot write: No space left on device
    """
    return write_outputs([(path, data)], label)[0]


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether ``a`` and ``b`` are one file: the same path once links are resolved, or hard links of one inode."""
    if Path(a).resolve() == Path(b).resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
