"""The KB cache removes what it has not used for a while: every code or KB change made a new ~3 MB set of entries,
and ~/.cache/spinekg only grew (issue 15's note: 336 MB on the development machine).

After writing an entry, the cache removes its own files unused for ``PRUNE_AFTER_DAYS`` days; a read marks an
entry used. Nothing else in the folder is touched: other names, folders, symlinks (nor what they point to), other
users' files.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from reasoner.kb import cache

OLD = time.time() - (cache.PRUNE_AFTER_DAYS + 1) * 86400
ENTRY = "reasoner-0.1.0-3ef83cff1883-025f75cdce7e.json"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")


def _file(folder: Path, name: str, when: float = OLD) -> Path:
    path = folder / name
    path.write_bytes(b"x")
    os.utime(path, (when, when))
    return path


def _prune(folder: Path, keep: str = "none.json") -> list[str]:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return sorted(cache.prune(fd, keep))
    finally:
        os.close(fd)


def test_issue15_prune_removes_only_the_caches_own_unused_files(tmp_path):
    old_json = _file(tmp_path, ENTRY)
    old_pickle = _file(tmp_path, "kb-0.1.0-040c246c30a6-5eed8065f8ac.pickle")  # a version before this format
    old_tmp = _file(tmp_path, ".kb-0.1.0-3ef83cff1883-025f75cdce7e.json.4242.0badcafe.tmp")  # a crashed write
    kept = _file(tmp_path, "vocabulary-0.1.0-3ef83cff1883-025f75cdce7e.json")
    fresh = _file(tmp_path, "kb-0.1.0-3ef83cff1883-aaaaaaaaaaaa.json", time.time())
    other = _file(tmp_path, "notes-0.1.0-3ef83cff1883-025f75cdce7e.txt")  # not a name the cache writes
    (tmp_path / "elsewhere").mkdir()
    target = _file(tmp_path / "elsewhere", "t.json")
    link = tmp_path / "kb-0.1.0-3ef83cff1883-bbbbbbbbbbbb.json"
    link.symlink_to(target)
    os.utime(link, (OLD, OLD), follow_symlinks=False)
    folder = tmp_path / "kb-0.1.0-3ef83cff1883-cccccccccccc.json"
    folder.mkdir()
    os.utime(folder, (OLD, OLD))

    removed = _prune(tmp_path, keep=kept.name)

    assert removed == sorted([old_tmp.name, old_pickle.name, old_json.name])
    assert not old_json.exists() and not old_pickle.exists() and not old_tmp.exists()
    assert kept.exists() and fresh.exists() and other.exists() and folder.is_dir()
    assert link.is_symlink() and target.read_bytes() == b"x"


@needs_root
def test_issue15_prune_leaves_another_users_file(tmp_path):
    theirs = _file(tmp_path, ENTRY)
    os.chown(theirs, 65534, 65534)
    assert _prune(tmp_path) == []
    assert theirs.exists()


def test_issue15_a_read_marks_an_entry_used_and_a_write_prunes(tmp_path, monkeypatch):
    monkeypatch.setenv("SPINEKG_CACHE", str(tmp_path))
    assert cache.cached("used", "0.1.0+3ef83cff1883", lambda: ("made",)) == ("made",)
    (entry,) = [p for p in tmp_path.iterdir() if p.name.startswith("used-")]
    os.utime(entry, (OLD, OLD))
    stale = _file(tmp_path, ENTRY)

    # a hit: the value from the file (make is not called), and the entry is used now
    assert cache.cached("used", "0.1.0+3ef83cff1883", lambda: pytest.fail("a hit makes nothing")) == ("made",)
    assert entry.stat().st_mtime > time.time() - 60
    assert stale.exists()  # a read prunes nothing

    # a miss writes its entry and prunes what was not used
    assert cache.cached("other", "0.1.0+3ef83cff1883", lambda: [1]) == [1]
    assert not stale.exists()
    assert entry.exists()
    assert any(p.name.startswith("other-") for p in tmp_path.iterdir())
