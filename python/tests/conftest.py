"""Shared helpers: the repository root and the `qlab` command to compare with."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
"""The repository root."""


def qlab_command() -> list[str]:
    """The `qlab` command line to compare the package with: the cargo-built binary named by
    `QLAB_BIN` (tools/test.sh sets it), else the package's own console command."""
    binary = os.environ.get("QLAB_BIN")
    if binary:
        return [binary]
    found = shutil.which("qlab")
    if found is None:
        pytest.skip("no qlab command: set QLAB_BIN or install the package")
    return [found]


def run_qlab(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Runs the `qlab` command with `args`."""
    result = subprocess.run(
        [*qlab_command(), *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )
    if check and result.returncode != 0:
        raise AssertionError(f"qlab {' '.join(args)}: {result.returncode}\n{result.stderr}")
    return result
