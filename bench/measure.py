"""The measurements of one benchmark run: the machine, latency, cold start, cohort throughput and memory, baselines."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLD_CASE = "examples/002-lumbosacral-radiculopathy.yaml"
PACKAGES = ("pyoxigraph", "rdflib", "owlrl", "owlready2", "pyshacl", "psutil")


def _first_line(path: str, prefix: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith(prefix)), None)
    except OSError:
        return None


def machine() -> dict:
    """What the run ran on: CPU, cores, memory, load, Python and the versions of the libraries compared."""
    mem = _first_line("/proc/meminfo", "MemTotal")
    java = shutil.which("java")
    java_version = None
    if java:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
        java_version = (done.stderr or done.stdout).splitlines()[0] if (done.stderr or done.stdout) else None
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu": _first_line("/proc/cpuinfo", "model name") or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "ram_gib": round(int(mem.split()[0]) / 2**20, 1) if mem else None,
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "java": java_version,
        "packages": versions,
    }


def git_revision() -> tuple[str, bool]:
    """The short commit the run measured, and whether the working tree differed from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    return git("rev-parse", "--short", "HEAD") or "nogit", bool(git("status", "--porcelain", "--untracked-files=no"))


def digest(plan) -> str:
    """A fingerprint of a plan: equal for equal plans (the repr of frozen dataclasses of strings, numbers and
    tuples is their value), and far cheaper than ``Plan.to_dict()`` over 100,000 plans."""
    return hashlib.blake2b(repr(plan).encode(), digest_size=16).hexdigest()


def first_difference(a, b, path: str = "plan") -> str | None:
    """Where two ``Plan.to_dict()`` values first differ, and how (None when they are equal).

    >>> first_difference({"steps": [{"id": "nsaid"}]}, {"steps": [{"id": "opioid"}]})
    "plan.steps[0].id: 'nsaid' != 'opioid'"
    """
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            found = first_difference(a.get(key), b.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):  # lengths compared below
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        if len(a) != len(b):
            return f"{path}: {len(a)} entries != {len(b)}"
        return None
    return None if a == b else f"{path}: {str(a)[:200]!r} != {str(b)[:200]!r}"


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50), percentile([1.0, 2.0, 3.0, 4.0], 95)
    (2.0, 4.0)
    """
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def single_case(reasoner, docs: list[dict], n: int, warmup: int) -> dict:
    """Plan and provenance of one case at a time, warm, in this process: p50 and p95 over ``n`` cases."""
    from reasoner.api import reason

    for doc in docs[:warmup]:
        reason([doc], reasoner)[0].provenance(reasoner)
    times = []
    for i in range(n):
        doc = docs[(warmup + i) % len(docs)]
        start = time.perf_counter()
        result = reason([doc], reasoner)[0]
        result.provenance(reasoner)
        times.append(time.perf_counter() - start)
    return {
        "cases": n,
        "p50_ms": round(percentile(times, 50) * 1000, 2),
        "p95_ms": round(percentile(times, 95) * 1000, 2),
    }


def spinekg_command() -> list[str]:
    """The installed ``spinekg`` command (beside this Python), else the module."""
    script = Path(sys.executable).parent / "spinekg"
    if script.exists():
        return [str(script)]
    found = shutil.which("spinekg")
    return [found] if found else [sys.executable, "-m", "reasoner"]


def cold_cli(runs: int) -> dict:
    """Wall time of ``spinekg recommend CASE --format json`` in a fresh process: the median of ``runs``."""
    command = [*spinekg_command(), "recommend", COLD_CASE, "--format", "json"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)}: exit {done.returncode}: {done.stderr.decode()[-500:]}")
    return {"runs": runs, "median_s": round(statistics.median(times), 3), "command": " ".join(command[-4:])}


def watch(command: list[str], cwd: Path) -> dict:
    """Run ``command`` and measure its wall time and peak memory: the largest resident set of the process tree
    (sampled every 20 ms with psutil, summed over children) or the kernel's peak of any one of them."""
    try:
        import psutil
    except ImportError:  # the kernel's figure alone
        psutil = None
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        peak = 0
        watched = psutil.Process(proc.pid) if psutil else None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if watched is not None:
                try:
                    tree = [watched, *watched.children(recursive=True)]
                    peak = max(peak, sum(p.memory_info().rss for p in tree))
                except psutil.Error:
                    pass
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read()[-2000:].decode(errors="replace")
    peak = max(peak, usage.ru_maxrss * 1024)  # ru_maxrss is in KiB on Linux
    return {
        "seconds": round(seconds, 3),
        "peak_rss_mib": round(peak / 2**20, 1),
        "exit": proc.returncode,
        "stderr": tail,
    }


def has_cohort_command() -> bool:
    done = subprocess.run([*spinekg_command(), "cohort", "--help"], cwd=ROOT, capture_output=True, check=False)
    return done.returncode == 0


def cohort(cases: Path, workdir: Path, batch_size: int, fallback: bool) -> dict:
    """``spinekg cohort`` (or the stand-in) over a JSON-lines file, with provenance: wall time and peak memory."""
    outputs = ["--output", workdir / "plans.jsonl", "--provenance", workdir / "prov.nt"]
    outputs += ["--summary", workdir / "summary.csv", "--batch-size", str(batch_size)]
    head = [sys.executable, "-m", "bench.cohort_fallback"] if fallback else [*spinekg_command(), "cohort"]
    command = [str(x) for x in [*head, cases, *outputs]]
    result = watch(command, ROOT)
    if result["exit"] != 0:
        raise RuntimeError(f"{' '.join(command)}: exit {result['exit']}: {result['stderr']}")
    del result["stderr"]
    lines = sum(1 for _ in open(workdir / "plans.jsonl", encoding="utf-8"))
    return {**result, "command": "bench.cohort_fallback" if fallback else "spinekg cohort", "plans": lines}


def timed(batches: Iterator[list], total: int, budget: float | None, consume: Callable[[list], None]) -> dict:
    """Time a producer of plan batches (only the producing; ``consume`` runs off the clock) until all ``total``
    plans are made or the producer has used ``budget`` seconds (checked between batches)."""
    seconds, done = 0.0, 0
    it = iter(batches)
    while True:
        start = time.perf_counter()
        try:
            batch = next(it)
        except StopIteration:
            seconds += time.perf_counter() - start
            break
        seconds += time.perf_counter() - start
        consume(batch)
        done += len(batch)
        if budget is not None and seconds > budget and done < total:
            break
    return {"seconds": round(seconds, 3), "cases": done, "finished": done == total}


def spinekg_batches(reasoner, docs: list[dict], batch_size: int) -> Iterator[list]:
    """spinekg's plans for the documents, ``batch_size`` at a time (``reasoner.api.reason``)."""
    from reasoner.api import reason

    for start in range(0, len(docs), batch_size):
        yield [result.plan for result in reason(docs[start : start + batch_size], reasoner)]


def explain_difference(doc: dict, plan, reasoner) -> str:
    """The first place a baseline's plan differs from spinekg's for one case."""
    from reasoner.api import reason

    want = reason([doc], reasoner)[0].plan.to_dict()
    return first_difference(want, plan.to_dict()) or "plans differ only in their representation"


def dump_jsonl(docs: list[dict], path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for doc in docs:
            out.write(json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n")
