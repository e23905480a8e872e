"""Dispatch cost against the number of functions: bench/dispatch_micro.py, run as is.

The micro-benchmark matches one event against an app of N functions with mixed
filters, in-process, and prints JSON; this runs it in bench/.venv (kfn from the
snapshot) at the counts the dispatch target compares, pinned to the server CPU.
It takes the sizes either all at once (`--sizes 10 1000`, one JSON document with a
`sizes` list) or one per run (`--functions N`, one JSON line each).
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
USAGE_ERROR = 2
"""argparse's exit status for an option the micro-benchmark does not know."""


def _run(options: list[str], cpu: int | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(MICRO), *options],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        preexec_fn=servers.pinner(cpu),
    )


def parse(stdout: str) -> list[dict[str, Any]]:
    """Rows with at least `functions` and `median_us_per_event`, from either output form."""
    text = stdout.strip()
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    if isinstance(document, dict) and isinstance(document.get("sizes"), list):
        return list(document["sizes"])
    return [document]


def measure(rounds: int, cpu: int | None, counts: tuple[int, ...] = COUNTS) -> list[dict[str, Any]]:
    common = ["--rounds", str(rounds), "--per-round", str(PER_ROUND)]
    done = _run(["--sizes", *map(str, counts), *common], cpu)
    if done.returncode == USAGE_ERROR and "--sizes" in done.stderr:
        outputs = []
        for functions in counts:
            done = _run(["--functions", str(functions), *common], cpu)
            if done.returncode != 0:
                break
            outputs.append(done.stdout)
        stdout = "\n".join(outputs)
    else:
        stdout = done.stdout
    rows = parse(stdout) if done.returncode == 0 else []
    if [row.get("functions") for row in rows] != list(counts):
        raise servers.ServerError(
            f"dispatch_micro.py failed ({done.returncode}): {done.stderr.strip()[-500:]}"
        )
    for row in rows:
        print(f"  dispatch {row['functions']:>5} functions: {row['median_us_per_event']} us/event")
    return rows
