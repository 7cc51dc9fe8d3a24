"""Shared fixtures: the merged knowledge base, loaded once per session (tests copy it before changing it), and the
command line run in this process."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

import pytest
from rdflib import Graph

from reasoner.cli import main
from reasoner.kb import load as kb
from reasoner.quality.gates import SEEDS_DIR


@pytest.fixture(scope="session")
def kb_graph() -> Graph:
    return kb.load_kb()


@pytest.fixture()
def kb_copy(kb_graph: Graph) -> Graph:
    g = kb.new_graph()
    for triple in kb_graph:
        g.add(triple)
    return g


@pytest.fixture(scope="session")
def seeds_dir():
    if not SEEDS_DIR.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{SEEDS_DIR}: the source articles must be present on CI")
        pytest.skip(f"{SEEDS_DIR}: source articles not present (set SPINEKG_SEEDS)")
    return SEEDS_DIR


@pytest.fixture(scope="session")
def java():
    if shutil.which("java") is None:
        pytest.fail("java is not on the PATH: HermiT needs it (.ci/run installs it)")
    return shutil.which("java")


@dataclass(frozen=True)
class Ran:
    """What one run of the command line gave: the attributes of ``subprocess.CompletedProcess`` a test reads."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture()
def spinekg(capsys):
    """``spinekg ARG…`` run in this process through ``reasoner.cli.main`` (the KB loaded once per session, not once
    per command): its exit status, standard output and standard error. A usage error (argparse's ``SystemExit``)
    gives its status, as the real command would. Tests about the process itself (an environment variable read at
    import, a signal, a device as stdout, the console script) start a real one instead."""

    def run(*args) -> Ran:
        capsys.readouterr()  # what came before is not this command's
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return Ran(code, out, err)

    return run
