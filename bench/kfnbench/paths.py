"""Where things are: derived from this file, so the harness runs from any checkout."""

from __future__ import annotations

from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
APPS = BENCH / "apps"
WORK = BENCH / ".work"
VENV = BENCH / ".venv"
FF_VENV = VENV / "anchors" / "functions-framework"
REQUIREMENTS = BENCH / "requirements.txt"
FF_REQUIREMENTS = BENCH / "requirements-functions-framework.txt"
KFN_SNAPSHOT = WORK / "kfn-src"
"""runtime/ and functions/ as they were when the run began: kfn is built from this copy
and serves the example app from it, so edits in the checkout during a run (or a
half-edited tree) cannot mix two versions of kfn in one result."""
KFN_APP = WORK / "kfn-app"
"""The example app as its image holds it (`app/`: the functions package and nothing else):
the example is served from here, so `kfn run` starts as in the container, without the
project's pyproject.toml (whose `[tool.kfn]` only a developer's `kfn run` reads)."""


def venv_bin(venv: Path, name: str) -> Path:
    """An executable of a virtual environment (POSIX layout; the bench is Linux-only)."""
    return venv / "bin" / name
