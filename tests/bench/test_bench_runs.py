"""The benchmark harness runs end to end on its tiny configuration, so it cannot rot.

Nothing here asserts a timing: numbers from a shared CI machine mean nothing, and
bench/RESULTS.md is where measurements live. The run bootstraps bench/.venv (and
wrk, or falls back to its own load generator) exactly as `python3 bench/run.py` does
for a user; a second run reuses the environments.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import impossible_here

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "bench" / "run.py"
SYSTEMS = ("floor", "fastapi", "func-python", "functions-framework", "kfn", "kfn-async")
WORKLOADS = ("http-get", "event-binary")
BUDGET_SECONDS = 600

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason=impossible_here("the bench pins CPUs and reads /proc (Linux only)"),
)


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench")
    argv = [sys.executable, str(RUN), "--quick", "--workloads", ",".join(WORKLOADS),
            "--output", str(out)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=BUDGET_SECONDS)
    assert done.returncode == 0, (
        f"bench/run.py failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    )
    return out


@pytest.fixture(scope="module")
def results(output: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((output / "RESULTS.json").read_text())
    return loaded


def test_every_system_is_measured_on_every_workload_it_serves(results: dict[str, Any]) -> None:
    measured = {(c["system"], c["workload"]) for c in results["throughput"]}
    expected = {(s, w) for s in SYSTEMS for w in WORKLOADS if (s, w) != ("kfn-async", "http-get")}
    assert measured == expected
    assert all(cell["runs"] and cell["median"]["rps"] > 0 for cell in results["throughput"])


def test_cold_start_memory_and_imports_are_measured_for_each_app(results: dict[str, Any]) -> None:
    cold = {(c["group"], c["system"]) for c in results["coldstart"]}
    assert {("events", s) for s in ("floor", "func-python", "functions-framework", "kfn")} <= cold
    assert {("http", s) for s in ("fastapi", "func-python", "functions-framework", "kfn")} <= cold
    assert all(c["median_ms"] > 0 and c["median_rss_mib"] > 0 for c in results["coldstart"])
    assert {(p["group"], p["system"]) for p in results["imports"]} == cold


def test_every_target_gets_a_ratio(results: dict[str, Any]) -> None:
    assert len(results["targets"]) == 9
    assert all(t["ratio"] is not None for t in results["targets"])


def test_the_report_chart_and_raw_numbers_are_written(output: Path) -> None:
    markdown = (output / "RESULTS.md").read_text()
    assert "Quick mode" in markdown
    for system in SYSTEMS:
        assert f"| {system} " in markdown or f"| **{system}** " in markdown
    assert (output / "RESULTS.png").read_bytes().startswith(b"\x89PNG")
