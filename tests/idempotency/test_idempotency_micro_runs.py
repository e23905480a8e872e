"""The idempotency micro-benchmark keeps running (no timing is asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO
from tests.idempotency.conftest import redis_binary


def test_the_idempotency_micro_benchmark_runs_with_both_stores() -> None:
    redis_binary()  # skips (or fails under CI) without redis-server
    result = subprocess.run(
        [sys.executable, "bench/idempotency_micro.py", "--rounds", "1", "--per-round", "20"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for store in ("memory", "redis"):
        assert set(report[store]) >= {"plain_us", "first_delivery_us", "first_delivery_ratio"}
