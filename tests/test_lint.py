"""The code is formatted and lint-clean with ruff, and type-checks with mypy, configured in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys

from constants import ROOT


def test_ruff_check_and_format():
    check = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout


def test_mypy():
    """The package type-checks with mypy, configured in pyproject.toml ([tool.mypy]: files, Python 3.10)."""
    check = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
