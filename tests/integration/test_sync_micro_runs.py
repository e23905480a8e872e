"""The sync-function benchmark keeps running, both ways (no timing is asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.conftest import REPO


def run_bench(*options: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "bench/sync_micro.py", "--repeats", "1", *options],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def assert_measured_both(report: dict[str, Any]) -> None:
    for kind in ("sync", "async"):
        (run,) = report["runs"][kind]
        assert run["requests"] > 0
        assert run["errors"] == 0  # every event was acknowledged 2xx
    assert report["throughput_ratio"] > 0
    assert report["targets"] == {"throughput_ratio_min": 0.9, "p99_ratio_max": 1.5}


def test_the_sync_benchmark_runs_in_process() -> None:
    report = run_bench("--in-process", "--connections", "4", "--per-task", "20")
    assert report["mode"] == "in-process"
    assert_measured_both(report)
    assert report["runs"]["sync"][0]["requests"] == 4 * 20


def test_the_sync_benchmark_runs_against_a_real_server() -> None:
    report = run_bench("--load", "python", "--seconds", "0.5", "--warmup", "0", "--threads", "2")
    assert report["mode"] == "server"
    assert report["setup"]["load"] == "python"
    assert_measured_both(report)
