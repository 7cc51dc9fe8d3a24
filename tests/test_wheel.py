"""Issue 14: the built wheel carries the knowledge. Installed into a fresh virtual environment and run outside any
checkout, it plans a case, lists and runs the query library and serves the endpoint.

The venv sees the machine's site-packages for the dependencies (nothing is downloaded), but the checkout is out
of its reach: the commands run from an empty folder with no ``PYTHONPATH``, ``spinekg`` is the venv's own
script, and the test asserts the package it imports is the installed one.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest

from constants import EXAMPLES, ROOT

pytestmark = pytest.mark.wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"  # a copy of the tracked files, so the build leaves nothing in the checkout
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    dist = base / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(src)]
    subprocess.run(build, check=True, capture_output=True, timeout=300)
    (wheel,) = dist.glob("spinekg-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    install = [str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--force-reinstall", str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    work = base / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SPINEKG_"))}
    env["SPINEKG_CACHE"] = "off"
    return wheel, venv, work, env


def _run(installed, *args, timeout=180):
    _, venv, work, env = installed
    return subprocess.run(
        [str(venv / "bin" / "spinekg"), *args], cwd=work, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_the_wheel_holds_every_knowledge_file(installed):
    wheel = installed[0]
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(
        ["git", "ls-files", "ontology", "queries"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    missing = [t for t in tracked if f"reasoner/knowledge/{t}" not in names]
    assert missing == []
    assert "reasoner/case/schema/case.schema.json" in names


def test_the_installed_package_is_not_the_checkout(installed):
    _, venv, work, env = installed
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import reasoner.kb.load as k; print(k.__file__); print(k.ONTOLOGY_DIR)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(Path(p).is_relative_to(venv) for p in where), where


def test_the_installed_wheel_plans_a_case(installed):
    case = EXAMPLES / "000-gluteal-s2-s3-numbness.yaml"
    run = _run(installed, "recommend", str(case), "--format", "json")
    assert run.returncode == 0, run.stderr
    plan = json.loads(run.stdout)
    assert plan["red_flags"] and plan["steps"]
    assert all(e["quote"] for s in plan["steps"] for e in s["evidence"])


def test_the_installed_wheel_lists_and_runs_the_query_library(installed):
    listed = _run(installed, "query")
    assert listed.returncode == 0, listed.stderr
    names = sorted(p.stem for p in (ROOT / "queries").glob("*.rq"))
    assert all(name in listed.stdout for name in names)
    run = _run(installed, "query", "kb-modules", "--format", "json")
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)["results"]["bindings"]) == len(list((ROOT / "ontology").rglob("*.ttl"))) - 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_installed_wheel_serves_the_endpoint(installed):
    _, venv, work, env = installed
    port = _free_port()
    server = subprocess.Popen(
        [str(venv / "bin" / "spinekg"), "serve", "--port", str(port)],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        query = "SELECT (COUNT(*) AS ?n) WHERE { ?r a <https://w3id.org/spinekg/Recommendation> }"
        url = f"http://127.0.0.1:{port}/query?" + urllib.parse.urlencode({"query": query})
        request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    body = json.loads(response.read())
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.5)
        assert int(body["results"]["bindings"][0]["n"]["value"]) > 100
    finally:
        server.terminate()
        server.wait(timeout=30)
