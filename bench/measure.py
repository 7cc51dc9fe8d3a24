"""The measurements of one benchmark run: the machine, latency, cold start, cohort throughput and memory, baselines."""

from __future__ import annotations

import gzip
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
    """One case at a time, warm, in this process, over ``n`` different cases: the plan
    (``reasoner.api.reason([case])[0]``), then its provenance as N-Triples text (``.provenance_nt()``, what the
    cohort writes) and as an rdflib graph (``.provenance()``). p50 and p95 of plan + provenance (text where the
    library has it), and the p50 of the plan alone and of plan + graph."""
    from reasoner.api import reason

    def text(result):
        return result.provenance_nt(reasoner) if hasattr(result, "provenance_nt") else None

    for doc in docs[:warmup]:
        result = reason([doc], reasoner)[0]
        text(result)
        result.provenance(reasoner)
    plan, nt, graph = [], [], []
    for i in range(n):
        doc = docs[(warmup + i) % len(docs)]
        start = time.perf_counter()
        result = reason([doc], reasoner)[0]
        made = time.perf_counter()
        has_text = text(result) is not None
        written = time.perf_counter()
        result.provenance(reasoner)
        drawn = time.perf_counter()
        plan.append(made - start)
        nt.append(written - made if has_text else drawn - written)
        graph.append(drawn - written)
    total = [p + x for p, x in zip(plan, nt, strict=True)]
    return {
        "cases": n,
        "provenance": "N-Triples text" if has_text else "rdflib graph",
        "p50_ms": round(percentile(total, 50) * 1000, 2),
        "p95_ms": round(percentile(total, 95) * 1000, 2),
        "plan_only_p50_ms": round(percentile(plan, 50) * 1000, 2),
        "with_graph_p50_ms": round(percentile([p + g for p, g in zip(plan, graph, strict=True)], 50) * 1000, 2),
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


def _tree_memory(process, psutil) -> tuple[int, int]:
    """(summed proportional set size, summed resident set size) of a process and its children. PSS shares
    the pages forked workers have in common out between them; summed RSS would count them once per worker."""
    pss = rss = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            info = p.memory_full_info()
            pss, rss = pss + getattr(info, "pss", info.rss), rss + info.rss
        except psutil.Error:
            pass
    return pss, rss


def watch(command: list[str], cwd: Path) -> dict:
    """Run ``command``; its wall time and peak memory: the largest proportional set size of the process tree
    (psutil, sampled every 20 ms; also the summed RSS), and the kernel's peak RSS of the largest one process."""
    try:
        import psutil
    except ImportError:  # the kernel's figure alone
        psutil = None
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        peak_pss = peak_rss = 0
        watched = psutil.Process(proc.pid) if psutil else None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if watched is not None:
                pss, rss = _tree_memory(watched, psutil)
                peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read()[-2000:].decode(errors="replace")
    largest = usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux
    return {
        "seconds": round(seconds, 3),
        "peak_mib": round(max(peak_pss, largest) / 2**20, 1),
        "peak_pss_mib": round(peak_pss / 2**20, 1),
        "peak_rss_sum_mib": round(peak_rss / 2**20, 1),
        "largest_process_maxrss_mib": round(largest / 2**20, 1),
        "exit": proc.returncode,
        "stderr": tail,
    }


def has_cohort_command() -> bool:
    done = subprocess.run([*spinekg_command(), "cohort", "--help"], cwd=ROOT, capture_output=True, check=False)
    return done.returncode == 0


def cohort(
    cases: Path, workdir: Path, batch_size: int, fallback: bool, syntax: str = "nt", compressed: bool = False
) -> dict:
    """``spinekg cohort`` (or the stand-in) over a JSON-lines file, with provenance (``prov.nt``, or in the
    ``syntax`` given: ``ttl`` for Turtle; with ``compressed`` every output gzip-compressed, ``plans.jsonl.gz`` …):
    wall time, peak memory and the bytes written."""
    gz = ".gz" if compressed else ""
    names = [f"plans.jsonl{gz}", f"prov.{syntax}{gz}", f"summary.csv{gz}"]
    outputs = ["--output", workdir / names[0], "--provenance", workdir / names[1]]
    outputs += ["--summary", workdir / names[2], "--batch-size", str(batch_size)]
    head = [sys.executable, "-m", "bench.cohort_fallback"] if fallback else [*spinekg_command(), "cohort"]
    command = [str(x) for x in [*head, cases, *outputs]]
    result = watch(command, ROOT)
    if result["exit"] != 0:
        raise RuntimeError(f"{' '.join(command)}: exit {result['exit']}: {result['stderr']}")
    del result["stderr"]
    with (gzip.open if compressed else open)(workdir / names[0], "rb") as plans:
        lines = sum(1 for _ in plans)
    written = {
        name: (workdir / name).stat().st_size
        for name in (names[0], f"plans.kb.json{gz}", names[1])
        if (workdir / name).exists()
    }
    return {
        **result,
        "command": "bench.cohort_fallback" if fallback else "spinekg cohort",
        "plans": lines,
        "bytes": written,
        "bytes_per_case": round(sum(written.values()) / max(lines, 1)),
    }


def cohort_on_endpoint(cases: Path, workdir: Path, batch_size: int) -> dict:
    """``spinekg cohort --endpoint`` against an Oxigraph server the benchmark starts on 127.0.0.1 (and stops):
    the rules run in an external SPARQL 1.1 store, the KB and each batch loaded over the Graph Store Protocol."""
    import socket
    import urllib.request

    binary = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [binary, "serve", "--location", str(workdir / "store"), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/query?query=ASK%7B%7D", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("oxigraph serve did not start") from None
                time.sleep(0.2)
        command = [
            *spinekg_command(),
            "cohort",
            str(cases),
            "--output",
            str(workdir / "endpoint-plans.jsonl"),
            "--provenance",
            str(workdir / "endpoint-prov.nt"),
            "--batch-size",
            str(batch_size),
            "--endpoint",
            f"{base}/query",
            "--update-endpoint",
            f"{base}/update",
            "--graph-store",
            f"{base}/store",
            "--no-progress",
        ]
        result = watch(command, ROOT)
    finally:
        server.terminate()
        server.wait(timeout=30)
    if result["exit"] != 0:
        raise RuntimeError(f"{' '.join(command)}: exit {result['exit']}: {result['stderr']}")
    del result["stderr"]
    return result


def python_floor(cases: Path, workdir: Path) -> float:
    """Seconds the plain-Python floor takes: read the JSON Lines, parse every line, write it back out."""
    start = time.perf_counter()
    with open(cases, encoding="utf-8") as src, open(workdir / "floor.jsonl", "w", encoding="utf-8") as dst:
        for line in src:
            dst.write(json.dumps(json.loads(line), ensure_ascii=False) + "\n")
    return time.perf_counter() - start


def stages(reasoner, cases: Path, batch_size: int) -> dict:
    """The share of each stage of ``reasoner.cohort.run.reason_batch`` (read and validate, case graphs, reasoning,
    plan assembly, serialising, provenance) over a cohort, in process, one batch after another."""
    from reasoner.cohort.inputs import read_raw
    from reasoner.cohort.run import STAGES, reason_batch

    timings: dict[str, float] = {}
    batch: list = []
    for raw in read_raw(cases):
        batch.append(raw)
        if len(batch) == batch_size:
            reason_batch(reasoner, batch, str(cases), "nt", timings=timings)
            batch = []
    if batch:
        reason_batch(reasoner, batch, str(cases), "nt", timings=timings)
    total = sum(timings.values()) or 1.0
    return {stage: round(100 * timings.get(stage, 0.0) / total, 1) for stage in STAGES} | {"seconds": round(total, 3)}


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
