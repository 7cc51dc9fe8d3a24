"""Shared fixtures: the merged knowledge base, loaded once per session (tests copy it before changing it)."""

from __future__ import annotations

import os
import shutil

import pytest
from rdflib import Graph

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
