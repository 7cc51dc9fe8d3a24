"""A per-user cache of what loading the knowledge base derives (the parsed graph, the case vocabulary, the
reasoner's compiled inputs), so that a cold command skips the Turtle parse. Keyed by the KB version (a digest
of the modules), this package's source and the Python and rdflib versions: a change to any of them misses.

``SPINEKG_CACHE=off`` turns it off; ``SPINEKG_CACHE=DIR`` puts it in DIR (default: ``$XDG_CACHE_HOME/spinekg``
or ``~/.cache/spinekg``). A cache file that cannot be read or written is ignored.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


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

    digest = hashlib.sha256(f"{sys.version_info[:3]} rdflib {rdflib.__version__}".encode())
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def cached(name: str, kb_version: str, make: Callable[[], T]) -> T:
    """``make()``'s value for this KB version, from the cache when it holds it (else made and stored)."""
    folder = cache_dir()
    if folder is None:
        return make()
    path = folder / f"{name}-{kb_version.replace('+', '-')}-{_code_digest()}.pickle"
    try:
        return pickle.loads(path.read_bytes())
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, IndexError, TypeError):
        pass
    value = make()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(path)
    except OSError:
        pass
    return value
