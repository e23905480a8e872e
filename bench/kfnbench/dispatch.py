"""Dispatch cost against the number of functions: bench/dispatch_micro.py, run as is.

The micro-benchmark matches one event against an app of N functions with mixed
filters, in-process, and prints one JSON line; this runs it in bench/.venv (kfn from
the snapshot) at the counts the dispatch target compares, pinned to the server CPU.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from kfnbench import servers
from kfnbench.paths import BENCH

MICRO = BENCH / "dispatch_micro.py"
COUNTS = (10, 1000)
PER_ROUND = 500


def measure(rounds: int, cpu: int | None, counts: tuple[int, ...] = COUNTS) -> list[dict[str, Any]]:
    rows = []
    for functions in counts:
        argv = [sys.executable, str(MICRO), "--functions", str(functions),
                "--rounds", str(rounds), "--per-round", str(PER_ROUND)]  # fmt: skip
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            preexec_fn=servers.pinner(cpu),
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            raise servers.ServerError(
                f"dispatch_micro.py --functions {functions} failed: {done.stderr.strip()[-500:]}"
            )
        row: dict[str, Any] = json.loads(lines[-1])
        rows.append(row)
        print(f"  dispatch {functions:>5} functions: {row['median_us_per_event']} us/event")
    return rows
