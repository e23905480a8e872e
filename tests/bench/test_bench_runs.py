"""The benchmark harness runs end to end on its tiny configuration, so it cannot rot.

Nothing here asserts a timing: numbers from a shared CI machine mean nothing, and
bench/RESULTS.md is where measurements live. The run bootstraps bench/.venv (and
wrk, or falls back to its own load generator) exactly as `python3 bench/run.py` does
for a user; a second run reuses the environments.

bench/run.py is started in a session of its own. Every server it starts stays in
that session, so when the run fails or overruns, the harness is asked to stop
(SIGTERM, which it turns into its own clean-up) and then whatever is left of the
session is killed: no anchor server outlives the test.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import impossible_here

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "bench" / "run.py"
SYSTEMS = ("floor", "fastapi", "func-python", "functions-framework", "kfn", "kfn-async", "kfn-sync")
EVENT_ONLY = ("kfn-async", "kfn-sync")
WORKLOADS = ("http-get", "event-binary")
CURVES = ("payload", "functions", "connections", "batch")
BUDGET_SECONDS = 600
STOP_GRACE = 15.0

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason=impossible_here("the bench pins CPUs and reads /proc (Linux only)"),
)


def session_members(session: int) -> list[int]:
    """Live processes of a session (zombies excluded: they hold nothing)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError):
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == session and fields[0] != "Z":
                members.append(int(entry))
    return members


def kill_session(session: int) -> None:
    """SIGKILL every process left in the session, and wait until none is."""
    deadline = time.monotonic() + STOP_GRACE
    while (members := session_members(session)) and time.monotonic() < deadline:
        for pid in members:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


@contextlib.contextmanager
def bench_run(*options: str) -> Iterator[subprocess.Popen[str]]:
    """bench/run.py in its own session; its whole session is gone when the block ends."""
    process = subprocess.Popen(
        [sys.executable, str(RUN), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # the harness stops its servers itself
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.communicate(timeout=STOP_GRACE)
        kill_session(process.pid)
        if process.poll() is None:
            process.kill()
        process.communicate()


def finish(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Wait for the run within the budget; a failure shows the end of its output."""
    try:
        stdout, stderr = process.communicate(timeout=BUDGET_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"bench/run.py overran {BUDGET_SECONDS}s")
    assert process.returncode == 0, f"bench/run.py failed:\n{stdout[-4000:]}\n{stderr[-4000:]}"
    return stdout, stderr


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench")
    with bench_run("--quick", "--workloads", ",".join(WORKLOADS), "--output", str(out)) as run:
        finish(run)
        leftover = session_members(run.pid)
    assert leftover == [], f"servers left running after the run: {leftover}"
    return out


@pytest.fixture(scope="module")
def results(output: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((output / "RESULTS.json").read_text())
    return loaded


def test_every_system_is_measured_on_every_workload_it_serves(results: dict[str, Any]) -> None:
    measured = {(c["system"], c["workload"]) for c in results["throughput"]}
    expected = {
        (s, w) for s in SYSTEMS for w in WORKLOADS if not (s in EVENT_ONLY and w == "http-get")
    }
    assert measured == expected
    assert all(cell["runs"] and cell["median"]["rps"] > 0 for cell in results["throughput"])


def test_cold_start_memory_and_imports_are_measured_for_each_app(results: dict[str, Any]) -> None:
    cold = {(c["group"], c["system"]) for c in results["coldstart"]}
    assert {("events", s) for s in ("floor", "func-python", "functions-framework", "kfn")} <= cold
    assert {("http", s) for s in ("fastapi", "func-python", "functions-framework", "kfn")} <= cold
    assert {("mixed-event", s) for s in ("fastapi", "func-python", "kfn")} <= cold
    assert all(c["median_ms"] > 0 and c["median_rss_mib"] > 0 for c in results["coldstart"])
    assert {(p["group"], p["system"]) for p in results["imports"]} == cold


def test_every_scaling_curve_has_a_point_at_each_end(results: dict[str, Any]) -> None:
    points = results["curves"]
    assert {p["curve"] for p in points} == set(CURVES)
    assert all(p["rps"] > 0 and p["errors"] == 0 for p in points)
    batch = [p for p in points if p["curve"] == "batch"]
    assert all(p["events_per_s"] == pytest.approx(p["rps"] * p["x"], rel=1e-3) for p in batch)
    assert {p["x"] for p in points if p["curve"] == "functions"} == {1, 100}


def test_dispatch_is_measured_at_10_and_1000_functions(results: dict[str, Any]) -> None:
    assert [row["functions"] for row in results["dispatch"]] == [10, 1000]
    assert all(row["median_us_per_event"] > 0 for row in results["dispatch"])


def test_every_target_gets_a_ratio(results: dict[str, Any]) -> None:
    assert len(results["targets"]) == 13
    assert all(t["ratio"] is not None for t in results["targets"])


def test_the_report_chart_and_raw_numbers_are_written(output: Path) -> None:
    markdown = (output / "RESULTS.md").read_text()
    assert "Quick mode" in markdown
    for system in SYSTEMS:
        assert f"| {system} " in markdown or f"| **{system}** " in markdown
    for section in ("## Scaling curves", "## Dispatch against the number of functions"):
        assert section in markdown
    assert (output / "RESULTS.png").read_bytes().startswith(b"\x89PNG")


def test_instructions_per_event_are_counted_under_callgrind_where_valgrind_is(
    tmp_path: Path,
) -> None:
    options = ["--quick", "--systems", "kfn-async", "--no-throughput", "--no-cold",
               "--curves", "none", "--no-dispatch", "--instructions", "--output", str(tmp_path)]  # fmt: skip
    with bench_run(*options) as run:
        finish(run)
    written = json.loads((tmp_path / "RESULTS.json").read_text())
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        assert "instructions" not in written
        assert written["meta"]["instructions_note"].startswith("not counted: ")
        return
    counts = written["instructions"]
    assert [c["system"] for c in counts] == ["kfn-async"]
    assert all(c["per_event"] > 10_000 and c["events"] == 20 for c in counts)
    assert "## Instructions per event" in (tmp_path / "RESULTS.md").read_text()


def test_a_run_stopped_half_way_leaves_no_server_behind(tmp_path: Path) -> None:
    options = ["--quick", "--systems", "floor,kfn", "--workloads", "event-binary",
               "--seconds", "30", "--no-cold", "--curves", "none", "--no-dispatch",
               "--attempts", "1", "--quiet-wait", "0",
               "--output", str(tmp_path)]  # fmt: skip
    with bench_run(*options) as run:
        assert run.stdout is not None
        for line in run.stdout:  # the first load run has begun: servers are up
            if "throughput" in line:
                break
        time.sleep(3)
        assert len(session_members(run.pid)) > 1
        run.send_signal(signal.SIGTERM)
        run.communicate(timeout=STOP_GRACE)
        left = session_members(run.pid)
    assert run.returncode == 128 + signal.SIGTERM
    assert left == [], f"servers left running after SIGTERM: {left}"
