"""A per-user cache of what loading the knowledge base derives, kept in a format that cannot run code.

What it holds: the parsed KB graph, the case vocabulary, the red-flag features, the reasoner's compiled inputs
and the recommendations a plan shows, so that a cold command skips the Turtle parse. Keyed by the KB version (a
digest of the modules), this package's source and the Python and rdflib versions: a change to any of them misses.

``SPINEKG_CACHE=off`` turns it off; ``SPINEKG_CACHE=DIR`` puts it in DIR (default: ``$XDG_CACHE_HOME/spinekg``
or ``~/.cache/spinekg``).

Threat model. The cache directory may be shared (``SPINEKG_CACHE=/tmp``, a mode 1777 folder) or planted in by
another local user, and a file in it may be corrupted (a flipped byte, a truncated write, a full disk). Neither
may run code, change a plan or stop a command:

- *Nothing in a cache file is executable.* Each file is one JSON header line (format, key, length, SHA-256 of
  the body) and a JSON body whose values are tagged (list, tuple, set, dict, IRI, bytes, an rdflib graph as a
  term table and integer triples, and the frozen dataclasses named in ``_DATACLASSES``). Decoding builds only
  those types: no pickle, no import, no name taken from the file is ever resolved to anything else.
- *Only the user's own files are read.* The directory is opened without following a symlink and used only if
  the user owns it and neither group nor others can write to it; otherwise (a shared folder) a private
  subfolder ``uid-<uid>`` (mode 0700) is made in it and held to the same test, and if even that is not the
  user's, the cache is not used for the command (one line on stderr says why). Every file is opened relative
  to that directory's descriptor, without following a symlink and without blocking, and used only if it is a
  regular file the user owns that neither group nor others can write to.
- *A bad file is ignored and rebuilt, silently*: a wrong owner or mode, a header or key that does not match,
  a length or SHA-256 mismatch (a flipped byte, a truncation), a body that does not decode. The checksum is
  against accidents, not an attacker: whoever can write the user's own folder can already change this
  package's code; a file planted by anyone else is never read.
- Writes go to an exclusively created temporary file (mode 0600) in the same directory, renamed over the
  entry: a reader sees the old file or the new one, never half of one. A cache that cannot be written is
  ignored.

Pruning. Every change of the code or the KB makes a new set of entries (about 3 MB), so after writing an entry
the cache removes the entries not used for ``PRUNE_AFTER_DAYS`` days (a read marks an entry used), leftover
temporary files of that age, and the pickle files of versions before this format. It removes only regular files
of the user's own, named as this cache names them, in the directory it uses, never following a symlink; a file
it cannot remove is left.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import re
import secrets
import stat
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar, cast

from .graphcache import decode_graph, encode_graph

T = TypeVar("T")

FORMAT = "spinekg-cache 1"
MAX_BYTES = 256 * 1024 * 1024  # a cache file longer than this is not read (today's largest is about 3 MB)
_DATACLASSES = (
    "reasoner.reasoning.engine.Compiled",
    "reasoner.reasoning.classify.Rule",
    "reasoner.case.graph.RedFlagFeatures",
    "reasoner.kb.index.RecInfo",
    "reasoner.kb.index.Evidence",
)
_FACTORIES = {f.__name__: f for f in (set, list, dict, int)}  # of a defaultdict
_UNSAFE_MODE = stat.S_IWGRP | stat.S_IWOTH
_warned: set[str] = set()
PRUNE_AFTER_DAYS = 14
#: the files this cache writes: ``NAME-VERSION-DIGEST.json`` (``.pickle`` before this format), and a temporary file
_OURS = re.compile(
    r"[a-z][\w.-]*-[0-9a-f]{12}\.(?:json|pickle)|\.[a-z][\w.-]*-[0-9a-f]{12}\.json\.\d+\.[0-9a-f]{8}\.tmp"
)


class BadCacheFile(ValueError):
    """A cache file that cannot be used (never leaves this module: the entry is rebuilt)."""


def cache_dir() -> Path | None:
    """Where the cache lives, or None when it is off.

    >>> import os; os.environ["SPINEKG_CACHE"] = "off"; cache_dir() is None
    True
    >>> del os.environ["SPINEKG_CACHE"]
    """
    setting = os.environ.get("SPINEKG_CACHE", "")
    if setting.lower() in ("off", "0", "no", "false"):
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "spinekg"


@lru_cache(maxsize=1)
def _code_digest() -> str:
    import rdflib

    digest = hashlib.sha256(f"{FORMAT} {sys.version_info[:3]} rdflib {rdflib.__version__}".encode())
    package = Path(__file__).resolve().parent.parent  # reasoner/
    found = []
    for folder, subfolders, names in os.walk(package):  # a walk that skips __pycache__: a third of rglob's time
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        found += [Path(folder, name) for name in names if name.endswith((".py", ".rq"))]
    for path in sorted(found):  # the code and its rule files
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def cached(name: str, kb_version: str, make: Callable[[], T]) -> T:
    """``make()``'s value for this KB version, from the cache when it holds it (else made and stored)."""
    folder = cache_dir()
    if folder is None or not hasattr(os, "geteuid") or os.open not in os.supports_dir_fd:
        return make()
    key = f"{name}-{kb_version.replace('+', '-')}-{_code_digest()}"
    fd = _open_private_dir(folder)
    if fd is None:
        return make()
    try:
        try:
            value = _read(fd, key)
        except (OSError, BadCacheFile):
            pass
        else:
            try:
                os.utime(f"{key}.json", dir_fd=fd, follow_symlinks=False)  # used now: not pruned
            except OSError:
                pass
            return value
        value = make()
        try:
            _write(fd, key, value)
        except (OSError, ValueError, RecursionError):  # ValueError: BadCacheFile, or a NaN
            pass
        else:
            prune(fd, keep=f"{key}.json")
        return value
    finally:
        os.close(fd)


def prune(dir_fd: int, keep: str, now: float | None = None) -> list[str]:
    """Remove this cache's files in the directory ``dir_fd`` not used for :data:`PRUNE_AFTER_DAYS` days, but
    ``keep``; the names removed. Only regular files of this user's, named as the cache names them."""
    cutoff = (time.time() if now is None else now) - PRUNE_AFTER_DAYS * 86400
    removed: list[str] = []
    try:
        found = list(os.scandir(dir_fd))
    except OSError:
        return removed
    for entry in found:
        if entry.name == keep or not _OURS.fullmatch(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and info.st_mtime < cutoff:
                os.unlink(entry.name, dir_fd=dir_fd)
                removed.append(entry.name)
        except OSError:
            pass
    return removed


def _owned_and_private(info: os.stat_result) -> bool:
    return info.st_uid == os.geteuid() and not info.st_mode & _UNSAFE_MODE


def _open_dir(path: Path, *, create: bool) -> int:
    """A descriptor of the directory ``path`` (made with mode 0700 if absent), never through a symlink."""
    if create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)


def _open_private_dir(folder: Path) -> int | None:
    """A descriptor of a directory only this user can write: ``folder`` itself, or ``folder/uid-<uid>`` when
    others can write to ``folder`` or it is not this user's; None (the cache is not used) when neither is."""
    try:
        fd = _open_dir(folder, create=True)
    except OSError:
        if os.path.islink(folder):
            _warn_once(folder, "is a symbolic link")
        return None  # cannot be made or read: no cache, as when it cannot be written
    if _owned_and_private(os.fstat(fd)):
        return fd
    own = folder / f"uid-{os.geteuid()}"
    try:
        try:
            os.mkdir(own.name, 0o700, dir_fd=fd)
        except FileExistsError:
            pass
        sub = os.open(own.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
    except OSError as exc:
        _warn_once(own, f"cannot be used ({exc.strerror or exc})")
        return None
    finally:
        os.close(fd)
    info = os.fstat(sub)
    if _owned_and_private(info):
        return sub
    os.close(sub)
    mode = stat.filemode(info.st_mode)
    _warn_once(own, f"is owned by uid {info.st_uid}, not you" if info.st_uid != os.geteuid() else f"is {mode}")
    return None


def _warn_once(path: Path, why: str) -> None:
    if str(path) not in _warned:
        _warned.add(str(path))
        print(f"spinekg: cache not used: {path} {why}", file=sys.stderr)


def _read(dir_fd: int, key: str) -> Any:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    fd = os.open(f"{key}.json", flags, dir_fd=dir_fd)
    with open(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not _owned_and_private(info) or info.st_size > MAX_BYTES:
            raise BadCacheFile("not a regular file of this user's, or too long")
        data = f.read(MAX_BYTES + 1)
    return decode_file(data, key)


def _write(dir_fd: int, key: str, value: object) -> None:
    data = encode_file(value, key)
    tmp = f".{key}.json.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
    try:
        with open(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, f"{key}.json", src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=dir_fd)
        except OSError:
            pass
        raise


def encode_file(value: object, key: str) -> bytes:
    """A cache file's bytes: a JSON header line (format, key, length, SHA-256 of the body), then the body.

    >>> from rdflib import URIRef
    >>> data = encode_file({"L5": URIRef("https://w3id.org/spinekg/dermatome_L5")}, "k")
    >>> decode_file(data, "k")
    {'L5': rdflib.term.URIRef('https://w3id.org/spinekg/dermatome_L5')}
    """
    body = json.dumps(_encode(value), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    header = {"format": FORMAT, "key": key, "length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    return json.dumps(header).encode() + b"\n" + body


def decode_file(data: bytes, key: str) -> Any:
    """The value a cache file holds; :class:`BadCacheFile` unless its header, key, length and SHA-256 all
    match and its body decodes.

    >>> decode_file(encode_file((1, "a"), "k").replace(b'"a"', b'"b"'), "k")
    Traceback (most recent call last):
    ...
    reasoner.kb.cache.BadCacheFile: the body does not match its SHA-256
    """
    line, newline, body = data.partition(b"\n")
    try:
        header = json.loads(line) if newline and len(line) < 1024 else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("key") != key:
        raise BadCacheFile("not a cache file of this format and key")
    if header.get("length") != len(body):
        raise BadCacheFile("the body is not as long as its header says (truncated?)")
    if header.get("sha256") != hashlib.sha256(body).hexdigest():
        raise BadCacheFile("the body does not match its SHA-256")
    try:
        return _decode(json.loads(body))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError, OverflowError) as exc:
        raise BadCacheFile(f"the body does not decode: {exc}") from exc


# The body: JSON strings, numbers, booleans and null stand for themselves; every other value is a list whose
# first item is a tag: ["l", items] list, ["t", items] tuple, ["s", items] set, ["fs", items] frozenset,
# ["d", [[key, value], ...]] dict, ["dd", factory, [[key, value], ...]] defaultdict (of set, list, dict or int),
# ["u", iri] URIRef, ["y", base64] bytes, ["dc", class, {field: value}] one of _DATACLASSES, ["g", {...}] an
# rdflib graph (terms, integer triples, namespaces, identifier).


def _encode(value: object) -> object:
    from rdflib import Graph, URIRef

    if value is None or type(value) in (str, int, float, bool):
        return value
    if type(value) is URIRef:
        return ["u", str(value)]
    if type(value) is list:
        return ["l", [_encode(v) for v in value]]
    if type(value) is tuple:
        return ["t", [_encode(v) for v in value]]
    if type(value) in (set, frozenset):
        return ["s" if type(value) is set else "fs", [_encode(v) for v in cast("set | frozenset", value)]]
    if type(value) is dict:
        return ["d", [[_encode(k), _encode(v)] for k, v in value.items()]]
    if type(value) is defaultdict and value.default_factory in _FACTORIES.values():
        items = [[_encode(k), _encode(v)] for k, v in value.items()]
        return ["dd", cast(type, value.default_factory).__name__, items]  # one of _FACTORIES: not None
    if type(value) is bytes:
        return ["y", base64.b64encode(value).decode("ascii")]
    if type(value) is Graph:
        return ["g", encode_graph(value)]
    name = f"{type(value).__module__}.{type(value).__qualname__}"
    if dataclasses.is_dataclass(value) and name in _DATACLASSES:
        return ["dc", name, {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}]
    raise BadCacheFile(f"a {name} cannot be cached")


def _decode(node: object) -> Any:
    if node is None or type(node) in (str, int, float, bool):
        return node
    if type(node) is not list or not node or type(node[0]) is not str:
        raise ValueError("not a tagged value")
    tag = node[0]
    if tag in ("l", "t", "s", "fs") and len(node) == 2 and type(node[1]) is list:
        items = [_decode(v) for v in node[1]]
        return {"l": list, "t": tuple, "s": set, "fs": frozenset}[tag](items)
    if tag == "d" and len(node) == 2 and type(node[1]) is list:
        return {_decode(k): _decode(v) for k, v in node[1]}
    if tag == "dd" and len(node) == 3 and node[1] in _FACTORIES and type(node[2]) is list:
        return defaultdict(_FACTORIES[node[1]], {_decode(k): _decode(v) for k, v in node[2]})
    if tag == "u" and len(node) == 2 and type(node[1]) is str:
        from rdflib import URIRef

        return URIRef(node[1])
    if tag == "y" and len(node) == 2 and type(node[1]) is str:
        return base64.b64decode(node[1], validate=True)
    if tag == "g" and len(node) == 2 and type(node[1]) is dict:
        return decode_graph(node[1])
    if tag == "dc" and len(node) == 3 and node[1] in _DATACLASSES and type(node[2]) is dict:
        module, _, qualname = node[1].rpartition(".")
        cls = getattr(sys.modules[module], qualname)  # a KeyError (module not loaded) rebuilds the entry
        return cls(**{name: _decode(v) for name, v in node[2].items()})
    raise ValueError(f"unknown tag {tag!r}")
