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
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [size["functions"] for size in report["sizes"]] == [10, 100, 1000]
    # The same event matches the same functions at every size: the catch-alls and f5.
    assert {size["matched"] for size in report["sizes"]} == {4}
    assert all(size["same_as_every_filter"] for size in report["sizes"])
    assert report["largest_vs_smallest"] > 0
