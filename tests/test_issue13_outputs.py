"""Issue 13 (items 1, 4, 8, 9): outputs that respect what they replace, and cohorts that cannot corrupt each other.

Device outputs are private nodes made with ``mknod`` in the test's folder (the same devices as /dev/null and
/dev/full), so a regression can never replace the machine's own /dev/null.
"""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from bench.generate import generate
from reasoner.case.files import MAX_BYTES
from reasoner.cli import EXIT_PIPE_CLOSED, main
from reasoner.cohort import files as cohort_files
from reasoner.cohort import inputs as cohort_inputs
from reasoner.cohort import run as cohort
from reasoner.cohort.run import run_cohort

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "examples" / "002-lumbosacral-radiculopathy.yaml"
CASE_ID = "002-lumbosacral-radiculopathy"
NULL, FULL = os.makedev(1, 3), os.makedev(1, 7)


def spinekg(*args, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("capture_output", True)
    return subprocess.run([sys.executable, "-m", "reasoner", *map(str, args)], text=True, cwd=ROOT, **kwargs)


def device(folder: Path, name: str, number: int) -> Path:
    """A character device of our own (``/dev/null``'s or ``/dev/full``'s numbers) at ``folder/name``."""
    path = folder / name
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, number)
    except PermissionError:
        pytest.skip("cannot make a device node here (no CAP_MKNOD); the system's devices are not risked instead")
    return path


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def cases(tmp_path: Path, n: int, name: str = "cases.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(doc) + "\n" for doc in generate(n, seed=13)), encoding="utf-8")
    return path


# --- item 1: what an output points at --------------------------------------------------------------------------

DEVICE_COMMANDS = {
    "recommend json": lambda out: ["recommend", str(CASE), "--format", "json", "--output", str(out)],
    "recommend html": lambda out: ["recommend", str(CASE), "--format", "html", "--output", str(out)],
    "graph": lambda out: ["graph", str(CASE), "1", "--output", str(out)],
    "kb export": lambda out: ["kb", "export", "--format", "nt", "--output", str(out)],
}


@pytest.mark.parametrize("command", DEVICE_COMMANDS)
def test_issue13_output_to_a_null_device_stays_a_character_device(command, tmp_path, capsys):
    out = device(tmp_path, "null.svg", NULL)
    assert main(DEVICE_COMMANDS[command](out)) == 0, capsys.readouterr().err
    assert stat.S_ISCHR(os.lstat(out).st_mode), f"{command} replaced the device by a regular file"
    assert os.lstat(out).st_rdev == NULL
    assert listing(tmp_path) == ["null.svg"], "a temporary file was left behind"


def test_issue13_output_through_a_symlink_writes_the_file_it_points_at_and_stays_a_link(tmp_path, capsys):
    real = tmp_path / "plans" / "plan.json"
    real.parent.mkdir()
    real.write_text("old plan", encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    assert main(["recommend", str(CASE), "--format", "json", "--output", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text(encoding="utf-8"))["case"] == CASE_ID
    assert stat.S_IMODE(real.stat().st_mode) == 0o640, "the replacement did not keep the file's permissions"
    assert listing(real.parent) == ["plan.json"] and listing(tmp_path) == ["latest.json", "plans"]


def test_issue13_a_dangling_symlink_is_written_through_like_a_shell_redirection(tmp_path, capsys):
    link = tmp_path / "plan.json"
    link.symlink_to(tmp_path / "made.json")
    assert main(["recommend", str(CASE), "--format", "json", "--output", str(link)]) == 0
    assert link.is_symlink() and json.loads((tmp_path / "made.json").read_text())["case"] == CASE_ID


def test_issue13_a_full_device_is_exit_2_with_a_message_not_success(tmp_path, capsys):
    out = device(tmp_path, "full.json", FULL)
    assert main(["recommend", str(CASE), "--format", "json", "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"--output {out}: cannot write: No space left on device" in err and "Traceback" not in err
    assert stat.S_ISCHR(os.lstat(out).st_mode) and listing(tmp_path) == ["full.json"]


def _read_only_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create files in: chmod 0o500, or for root (who ignores modes) sysfs."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir(mode=0o500)
        return folder
    mounts = Path("/proc/mounts").read_text() if Path("/proc/mounts").exists() else ""
    if " /sys sysfs " not in mounts:
        pytest.skip("running as root with no sysfs at /sys: no folder here is read-only to root")
    return Path("/sys")


@pytest.mark.parametrize("where", ["a folder", "a missing folder", "a read-only folder", "inside a file"])
def test_issue13_an_output_that_cannot_be_written_is_exit_2_naming_it(where, tmp_path, capsys):
    out = {
        "a folder": lambda: tmp_path,
        "a missing folder": lambda: tmp_path / "no" / "such" / "plan.json",
        "a read-only folder": lambda: _read_only_folder(tmp_path) / "spinekg-issue13-plan.json",
        "inside a file": lambda: CASE / "plan.json",
    }[where]()
    watched = tmp_path if where == "a folder" else out.parent
    before = listing(watched) if watched.is_dir() else None
    status = main(["recommend", str(CASE), "--format", "json", "--output", str(out)])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith(f"spinekg: --output {out}: ") and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1
    if before is not None:
        assert listing(watched) == before, "something was left behind"


def test_issue13_an_output_that_is_the_case_by_a_symlink_or_a_hard_link_is_refused(tmp_path, capsys):
    case = tmp_path / "case.yaml"
    case.write_bytes(CASE.read_bytes())
    (tmp_path / "link.json").symlink_to(case)
    os.link(case, tmp_path / "hard.json")
    for out in ("link.json", "hard.json"):
        assert main(["recommend", str(case), "--format", "json", "--output", str(tmp_path / out)]) == 2
        assert "is the case file itself" in capsys.readouterr().err
    assert case.read_bytes() == CASE.read_bytes() and (tmp_path / "link.json").is_symlink()


def test_issue13_a_fifo_as_the_case_is_refused_at_once_not_waited_on(tmp_path):
    fifo = tmp_path / "case.yaml"
    os.mkfifo(fifo)
    out = spinekg("recommend", fifo, timeout=120)
    assert out.returncode == 2 and "is not a regular file" in out.stderr and "Traceback" not in out.stderr


# --- item 8: standard output -------------------------------------------------------------------------------------


def test_issue13_standard_output_on_a_full_device_is_exit_2_with_one_line():
    with open("/dev/full", "wb") as full:
        out = subprocess.run(
            [sys.executable, "-m", "reasoner", "recommend", str(CASE), "--format", "json"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
    assert out.returncode == 2, out.stderr
    assert out.stderr == "spinekg: standard output: cannot write: No space left on device\n"


def test_issue13_a_closed_pipe_on_standard_output_exits_quietly():
    proc = subprocess.Popen(
        [sys.executable, "-m", "reasoner", "recommend", str(CASE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    proc.stdout.close()  # the reader is gone before a byte is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == EXIT_PIPE_CLOSED and err == "", err
    proc = subprocess.Popen(
        [sys.executable, "-m", "reasoner", "sparql", "SELECT * WHERE { ?s ?p ?o }", "--format", "tsv"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout.readline().startswith(b"?")  # like `| head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == EXIT_PIPE_CLOSED and err == "", err


# --- item 4: cohorts ---------------------------------------------------------------------------------------------


def test_issue13_a_cohort_to_a_null_device_works_and_leaves_it_a_device(tmp_path, capsys):
    src = cases(tmp_path, 12)
    out = device(tmp_path, "null", NULL)
    args = ["cohort", str(src), "--output", str(out), "--summary", str(tmp_path / "s.csv"), "--workers", "1"]
    assert main(args) == 0, capsys.readouterr().err
    assert stat.S_ISCHR(os.lstat(out).st_mode) and os.lstat(out).st_rdev == NULL
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 13
    assert listing(tmp_path) == ["cases.jsonl", "null", "s.csv"]


def test_issue13_a_cohort_to_a_full_device_is_exit_2_and_leaves_no_partial_file(tmp_path, capsys):
    src = cases(tmp_path, 12)
    out = device(tmp_path, "full", FULL)
    (tmp_path / "s.csv").write_text("kept\n")
    args = ["cohort", str(src), "--output", str(out), "--summary", str(tmp_path / "s.csv"), "--workers", "1"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"--output {out}: cannot write: No space left on device" in err and "no partial output" in err, err
    assert listing(tmp_path) == ["cases.jsonl", "full", "s.csv"] and (tmp_path / "s.csv").read_text() == "kept\n"


def _failing_fsync(monkeypatch, at: int) -> None:
    """The ``at``-th fsync of a cohort's files fails as a full disk does (``os`` is replaced in that module only)."""
    calls = []

    class FullDisk:
        def __getattr__(self, name):
            return getattr(os, name)

        @staticmethod
        def fsync(fd):
            calls.append(fd)
            if len(calls) == at:
                raise OSError(errno.ENOSPC, "No space left on device")
            return os.fsync(fd)

    monkeypatch.setattr(cohort_files, "os", FullDisk())


def test_issue13_a_full_disk_before_any_batch_is_recorded_leaves_nothing(tmp_path, monkeypatch, capsys):
    src = cases(tmp_path, 20)
    (tmp_path / "plans.jsonl").write_text("old plans\n")
    _failing_fsync(monkeypatch, at=2)  # 1: the new state file; 2: the plans of the first batch
    assert (
        main(["cohort", str(src), "--output", str(tmp_path / "plans.jsonl"), "--batch-size", "10", "--workers", "1"])
        == 2
    )
    err = capsys.readouterr().err
    assert "No space left on device" in err and "no partial output is left behind" in err, err
    assert (
        listing(tmp_path) == ["cases.jsonl", "plans.jsonl"] and (tmp_path / "plans.jsonl").read_text() == "old plans\n"
    )


def test_issue13_a_full_disk_after_a_batch_keeps_what_resume_carries_on(tmp_path, monkeypatch, capsys):
    src = cases(tmp_path, 20)
    whole = tmp_path / "whole.jsonl"
    run_cohort(src, whole, batch_size=10, errors=io.StringIO(), full=True)
    out = tmp_path / "plans.jsonl"
    _failing_fsync(monkeypatch, at=4)  # 1: state; 2, 3: plans and state after batch 1; 4: plans after batch 2
    full = ["--full"]  # no KB part: the fsyncs counted are the plans' and the state's
    assert main(["cohort", str(src), "--output", str(out), "--batch-size", "10", "--workers", "1", *full]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "the 10 records done so far are kept" in err and "--resume" in err
    assert (tmp_path / ".plans.jsonl.state").exists() and not out.exists()
    monkeypatch.undo()
    assert (
        main(["cohort", str(src), "--output", str(out), "--batch-size", "10", "--workers", "1", "--resume", *full]) == 0
    )
    assert "resumed after 10" in capsys.readouterr().err
    assert out.read_bytes() == whole.read_bytes()
    assert listing(tmp_path) == ["cases.jsonl", "plans.jsonl", "whole.jsonl"]


def test_issue13_a_second_cohort_on_the_same_output_is_refused_and_the_first_is_intact(tmp_path, capsys):
    src = cases(tmp_path, 8)
    out, fifo = tmp_path / "plans.jsonl", tmp_path / "summary.fifo"
    os.mkfifo(fifo)
    args = ["cohort", src, "--output", out, "--summary", fifo, "--workers", "1", "--batch-size", "3"]
    first = subprocess.Popen(
        [sys.executable, "-m", "reasoner", *map(str, args)], stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        state = tmp_path / ".plans.jsonl.state"
        deadline = time.monotonic() + 120
        while not state.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the first run holds its lock and waits for a reader of the FIFO
        assert first.poll() is None and state.exists(), "the first run did not start"
        assert main([*map(str, args[:6]), "--workers", "1"]) == 2
        err = capsys.readouterr().err
        assert f"{state}: another spinekg cohort is writing these outputs now" in err, err
        summary: list[bytes] = []
        reader = threading.Thread(target=lambda: summary.append(fifo.read_bytes()))
        reader.start()
        assert first.wait(timeout=300) == 0, first.stderr.read()
        reader.join(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    ids = [json.loads(line)["case"] for line in out.read_text().splitlines()]
    assert ids == [json.loads(line)["id"] for line in src.read_text().splitlines()]
    assert len(summary[0].decode().splitlines()) == 9 and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert listing(tmp_path) == ["cases.jsonl", "plans.jsonl", "plans.kb.json", "summary.fifo"]


def test_issue13_a_state_file_left_by_an_interrupted_run_is_refused_without_resume(tmp_path, monkeypatch, capsys):
    src = cases(tmp_path, 20)
    out = tmp_path / "plans.jsonl"
    real, calls = cohort.reason_batch, []

    def dying(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the process dies here")
        return real(*args)

    monkeypatch.setattr(cohort, "reason_batch", dying)
    with pytest.raises(RuntimeError):
        main(["cohort", str(src), "--output", str(out), "--batch-size", "10", "--workers", "1"])
    monkeypatch.undo()
    capsys.readouterr()
    state = tmp_path / ".plans.jsonl.state"
    assert main(["cohort", str(src), "--output", str(out), "--batch-size", "10", "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert f"{state}: an earlier run on these outputs was interrupted" in err
    assert "--resume" in err and f"remove it and {tmp_path / '.plans.jsonl.partial'}" in err
    assert main(["cohort", str(src), "--output", str(out), "--batch-size", "10", "--workers", "1", "--resume"]) == 0
    assert len(out.read_text().splitlines()) == 20 and not state.exists()


def test_issue13_cohort_workers_die_with_their_parent_on_kill_9(tmp_path):
    src = cases(tmp_path, 4000)  # seconds of work: 400 cases were done (1.1 s) before the test saw the workers
    out = tmp_path / "plans.jsonl"
    args = ["cohort", src, "--output", out, "--workers", "2", "--batch-size", "10", "--no-progress"]
    parent = subprocess.Popen(
        [sys.executable, "-m", "reasoner", *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    workers: list[psutil.Process] = []
    try:
        proc, deadline = psutil.Process(parent.pid), time.monotonic() + 120
        while len(workers) < 2 and parent.poll() is None and time.monotonic() < deadline:
            workers = [c for c in proc.children() if c.cmdline() == proc.cmdline()]  # forked: the same command
            time.sleep(0.05)
        assert len(workers) >= 2 and parent.poll() is None, "the workers did not start"
        time.sleep(1.0)  # the workers have loaded the reasoner and are reasoning
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        _, alive = psutil.wait_procs(workers, timeout=10)
        alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert alive == [], f"workers {[p.pid for p in alive]} outlived their parent"
    finally:
        parent.kill()
        parent.wait()
        for p in workers:  # a regression must not leave them running
            if p.is_running():
                p.kill()
    again = spinekg(*args)
    assert again.returncode == 2 and "was interrupted" in again.stderr, again.stderr  # the lock died with them


# --- item 9: JSON Lines limits -----------------------------------------------------------------------------------


def test_issue13_a_json_lines_line_over_the_case_limit_is_refused_with_its_line_number(tmp_path):
    src = tmp_path / "in.jsonl"
    big = json.dumps({"id": "big", "age": 40, "note": "x" * 2_000_000})
    src.write_text(f'{{"id": "a", "age": 40}}\n\n{big}\n{{"id": "b", "age": 41}}\n', encoding="utf-8")
    errors = io.StringIO()
    stats = run_cohort(src, tmp_path / "plans.jsonl", errors=errors, summary=tmp_path / "s.csv")
    assert (stats.read, stats.planned, stats.rejected) == (3, 2, 1)
    assert (
        f"spinekg: line 3: : '{src}:3' is a line of 2.0 MB, larger than the 1 MB limit of a case" in errors.getvalue()
    )
    rows = (tmp_path / "s.csv").read_text().splitlines()
    assert rows[2].startswith(",line 3,rejected,") and rows[3].startswith("b,line 4,planned")


def test_issue13_a_json_lines_line_is_read_at_most_up_to_the_limit():
    class Reader(io.BytesIO):
        largest = 0

        def readline(self, size=-1):
            line = super().readline(size)
            Reader.largest = max(Reader.largest, len(line))
            return line

    f = Reader(b'{"id": "a"}\n' + b"x" * (2 * MAX_BYTES) + b"\n" + b"y" * MAX_BYTES + b"\n")
    lines = list(cohort_inputs._lines(f))
    assert [n for n, _ in lines] == [1, 2, 3] and lines[1][1] == cohort_inputs.Oversized(2 * MAX_BYTES + 1)
    assert lines[2][1] == b"y" * MAX_BYTES + b"\n"  # exactly the limit is allowed
    assert Reader.largest <= MAX_BYTES + 1


def test_issue13_a_fifo_in_a_cohort_folder_is_rejected_not_opened(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "a.yaml").write_bytes(CASE.read_bytes())
    os.mkfifo(folder / "b.yaml")
    errors = io.StringIO()
    stats = run_cohort(folder, tmp_path / "plans.jsonl", errors=errors)
    assert (stats.planned, stats.rejected) == (1, 1) and "b.yaml" in errors.getvalue()
    assert "is not a regular file" in errors.getvalue()
    out = spinekg("cohort", folder / "b.yaml", "--output", tmp_path / "p.jsonl", timeout=120)
    assert out.returncode == 2 and "is not a folder or a regular file" in out.stderr
