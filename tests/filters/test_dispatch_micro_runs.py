"""The dispatch micro-benchmark keeps running (no timing is asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO


def test_the_dispatch_micro_benchmark_runs() -> None:
    result = subprocess.run(
        [sys.executable, "bench/dispatch_micro.py", "--rounds", "2", "--per-round", "10"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["functions"] == 100
    assert report["matched"] == 20  # the same event matches the same functions every time
