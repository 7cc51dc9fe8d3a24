"""Issue 15: worker processes write a batch's plan lines and provenance to spool files that this process copies into
the outputs (``copy_file_range`` where the kernel can), instead of sending them back through the pipe as strings.

The outputs must be exactly those of one process: the same plan lines, provenance triples and summary rows, in the
same order, for plain and gzip outputs, with a duplicate id in a later batch left out; and no spool file may
outlive the run.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bench.generate import generate
from reasoner.cohort import files as cohort_files
from reasoner.cohort import run as cohort_run
from reasoner.cohort.run import run_cohort

from constants import ROOT

TIMES = re.compile(rb"^.*#(started|ended)AtTime> .*\n", re.M)  # the run's own times differ from run to run


@pytest.fixture
def spool_dir(tmp_path, monkeypatch) -> Path:
    """The folder the run makes its spool folder in (checked empty afterwards); workers even for a few cases."""
    monkeypatch.setattr(cohort_run, "MIN_SHARE", 1)
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def cases(tmp_path: Path, n: int, duplicate: tuple[int, int] | None = None) -> Path:
    docs = list(generate(n, seed=11))
    if duplicate is not None:  # the later record takes the id of the earlier one
        docs[duplicate[1]]["id"] = docs[duplicate[0]]["id"]
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


def run(src: Path, out: Path, workers: int, suffix: str = "") -> dict[str, bytes]:
    out.mkdir()
    names = {"plans": f"plans.jsonl{suffix}", "prov": f"prov.nt{suffix}", "summary": f"summary.csv{suffix}"}
    run_cohort(
        src,
        out / names["plans"],
        provenance=out / names["prov"],
        summary=out / names["summary"],
        batch_size=10,
        workers=workers,
        progress=False,
        errors=open(os.devnull, "w"),  # noqa: SIM115 (closed with the process; rejections are counted, not read)
    )
    got = {}
    for key, name in names.items():
        data = (out / name).read_bytes()
        got[key] = gzip.decompress(data) if suffix else data
    got["prov"] = TIMES.sub(b"", got["prov"])
    return got


def test_spooled_outputs_are_those_of_one_process(tmp_path, spool_dir, monkeypatch):
    src = cases(tmp_path, 45, duplicate=(3, 37))  # 37 is in a later batch than 3
    one = run(src, tmp_path / "one", workers=1)
    copied = []
    real = cohort_files.RunFiles.copy
    monkeypatch.setattr(cohort_files.RunFiles, "copy", lambda self, *a: (copied.append(a[0]), real(self, *a))[1])
    two = run(src, tmp_path / "two", workers=2)
    assert two == one
    assert len(copied) == 2 * 44  # every planned record's text came through a spool file
    assert one["plans"].count(b"\n") == 44  # the duplicate is left out ...
    assert b"is already used by an earlier case" in one["summary"]  # ... and said so
    assert list(spool_dir.iterdir()) == []  # the spool folder went with the run


def test_spooled_gzip_outputs_decompress_to_those_of_one_process(tmp_path, spool_dir):
    src = cases(tmp_path, 30)
    assert run(src, tmp_path / "two", workers=2, suffix=".gz") == run(src, tmp_path / "one", workers=1)
    assert list(spool_dir.iterdir()) == []


def test_a_copy_the_kernel_refuses_is_done_by_hand(tmp_path, spool_dir, monkeypatch):
    """An append-mode file (a resumed run's) or another file system: ``copy_file_range`` fails before copying a
    byte, and the same bytes are read and written instead."""
    src = cases(tmp_path, 30)
    one = run(src, tmp_path / "one", workers=1)
    refused = []

    def refuse(*args, **kwargs):
        refused.append(args)
        raise OSError(18, "Invalid cross-device link")  # EXDEV

    monkeypatch.setattr(cohort_files.os, "copy_file_range", refuse)
    assert run(src, tmp_path / "two", workers=2) == one
    assert len(refused) == 2  # once per output (plans, provenance): after that, by hand


def test_a_spool_that_cannot_be_written_sends_the_text_back(tmp_path, spool_dir, monkeypatch):
    """A spool folder gone or full: the worker returns the text as it did before spooling, and the run goes on."""
    src = cases(tmp_path, 30)
    one = run(src, tmp_path / "one", workers=1)
    monkeypatch.setattr(tempfile, "mkdtemp", lambda **kwargs: str(spool_dir / "gone"))  # no such folder
    assert run(src, tmp_path / "two", workers=2) == one


def test_the_provenance_header_is_the_same_whatever_the_hash_seed(tmp_path):
    """The KB part every cohort provenance file starts with was in rdflib's order, which follows the hash seed."""
    code = (
        "import hashlib; from reasoner.api import default_reasoner; from reasoner.cohort.run import _kb_part; "
        "r = default_reasoner(); print([hashlib.sha256(_kb_part(r, k)).hexdigest() for k in ('nt', 'ttl')])"
    )
    seen = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        seen.add(done.stdout)
    assert len(seen) == 1
