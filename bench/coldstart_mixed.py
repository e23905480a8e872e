"""Cold start of the mixed example app (HTTP and event functions) in production mode.

Each start is a fresh process, timed from the fork to its first 2xx answer, polled
every 2 ms (as bench/run.py's cold-start code does, which this reuses): kfn serving
`functions/` from this checkout with K_SERVICE set, probed once with the binary
event (`POST /events/audit`) and once with `GET /hello`, beside func-python's
CloudEvent flavour (the event anchor) and bare FastAPI on uvicorn (the HTTP anchor).
A third kfn probe sends the event and then the GET on the same fresh process: the
time to that HTTP answer, i.e. what an HTTP request pays when an event woke the
instance. A fourth starts the event-only app (bench/apps/kfn_events), which is to
stay at or below func-python. The systems are interleaved, the order rotated per
round; medians and the target ratios are printed as JSON.

    python bench/coldstart_mixed.py --python bench/.venv/bin/python --runs 15
    python bench/coldstart_mixed.py --baseline ../other-checkout   # before/after, one run

`--baseline` adds the first event and the first HTTP answer of the example app as
another checkout (its runtime/ and functions/) serves it, interleaved with the
rest, so a change is measured against its parent under the same load.

`--python` is an interpreter with the bench's packages (bench/run.py builds
bench/.venv); kfn itself is imported from this checkout's runtime/ (PYTHONPATH).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from kfnbench import servers  # noqa: E402
from kfnbench.systems import HOST, Server  # noqa: E402
from kfnbench.workloads import WORKLOADS, Request  # noqa: E402

POLL_SECONDS = 0.002
START_TIMEOUT = 60.0
EVENT = WORKLOADS["event-binary"].request
GET = WORKLOADS["http-get"].request


@dataclass(frozen=True)
class Probe:
    """What ends one start: requests in order; the last one's 2xx is the time taken."""

    name: str
    server: str
    steps: tuple[tuple[str, Request], ...]


def _kfn(key: str, python: str, checkout: Path, cwd: Path, functions: str = "") -> Server:
    venv = Path(python).resolve().parent.parent
    env: tuple[tuple[str, str], ...] = (
        ("PORT", "{port}"),
        ("PYTHONPATH", str(checkout / "runtime")),
    )
    if functions:
        env += (("KFN_FUNCTIONS", functions),)
    return Server(key, (python, "-m", "kfn", "run", "--host", HOST), cwd, venv, env)


def _servers(python: str, baseline: Path | None) -> dict[str, Server]:
    venv = Path(python).resolve().parent.parent
    uvicorn = str(Path(python).parent / "uvicorn")
    table = {
        "kfn": _kfn("kfn", python, ROOT, ROOT),
        "kfn/events": _kfn("kfn/events", python, ROOT, BENCH / "apps", "kfn_events"),
        "func-python": Server(
            "func-python",
            (python, "func_python_cloudevent.py"),
            BENCH / "apps",
            venv,
            (("LISTEN_ADDRESS", f"{HOST}:{{port}}"),),
        ),
        "fastapi": Server(
            "fastapi",
            (uvicorn, "fastapi_app:app", "--host", HOST, "--port", "{port}", "--no-access-log"),
            BENCH / "apps",
            venv,
        ),
    }
    if baseline is not None:
        table["baseline"] = _kfn("baseline", python, baseline, baseline)
    return table


PROBES = (
    Probe("kfn event", "kfn", (("/events/audit", EVENT),)),
    Probe("kfn http", "kfn", (("/hello", GET),)),
    Probe("kfn http after event", "kfn", (("/events/audit", EVENT), ("/hello", GET))),
    Probe("func-python event", "func-python", (("/", EVENT),)),
    Probe("fastapi http", "fastapi", (("/hello", GET),)),
    Probe("kfn event-only", "kfn/events", (("/events/ack", EVENT),)),
)
BASELINE_PROBES = (
    Probe("baseline event", "baseline", (("/events/audit", EVENT),)),
    Probe("baseline http", "baseline", (("/hello", GET),)),
)
RATIOS = (
    ("first_event_vs_func_python", "kfn event", "func-python event"),
    ("first_http_vs_fastapi", "kfn http", "fastapi http"),
    ("event_only_vs_func_python", "kfn event-only", "func-python event"),
    ("first_event_vs_baseline", "kfn event", "baseline event"),
    ("first_http_vs_baseline", "kfn http", "baseline http"),
)


def cpu_ms(pid: int) -> float:
    """CPU time the process's threads ran so far (schedstat, in ns): wall time less the waits."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e6


def once(server: Server, probe: Probe, log_dir: Path, cpu: int | None) -> tuple[float, float]:
    """Milliseconds from the fork to the 2xx of the probe's last request: wall and CPU time."""
    running = servers.start(server, log_dir, cpu, tag="-cold")
    try:
        seconds = 0.0
        for path, request in probe.steps:
            seconds = servers.first_success(running, path, request, START_TIMEOUT, POLL_SECONDS)
        return seconds * 1000, cpu_ms(running.process.pid)
    finally:
        servers.kill(running)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--python", default=str(BENCH / ".venv" / "bin" / "python"))
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--cpu", type=int, default=None, help="pin every server to this CPU")
    parser.add_argument("--only", nargs="*", help="probe names to run (default: all)")
    parser.add_argument(
        "--baseline", type=Path, help="another checkout of kfn to measure beside this one"
    )
    args = parser.parse_args()
    baseline = args.baseline.resolve() if args.baseline else None
    table = _servers(args.python, baseline)
    servers.precompile(ROOT / "runtime", ROOT / "functions", BENCH / "apps")
    every: tuple[Probe, ...] = PROBES
    if baseline is not None:
        servers.precompile(baseline / "runtime", baseline / "functions")
        every += BASELINE_PROBES
    probes = [p for p in every if not args.only or p.name in args.only]
    runs: dict[str, list[float]] = {p.name: [] for p in probes}
    cpu: dict[str, list[float]] = {p.name: [] for p in probes}
    with tempfile.TemporaryDirectory(prefix="kfn-cold-") as logs:
        for probe in probes:  # one untimed start each: warm page caches
            once(table[probe.server], probe, Path(logs), args.cpu)
        for round_ in range(args.runs):
            shift = round_ % len(probes)
            for probe in probes[shift:] + probes[:shift]:
                wall, used = once(table[probe.server], probe, Path(logs), args.cpu)
                runs[probe.name].append(wall)
                cpu[probe.name].append(used)
            time.sleep(0.05)
    result: dict[str, object] = {"runs": args.runs}
    for label, measured in (("wall", runs), ("cpu", cpu)):
        medians = {name: round(statistics.median(values), 1) for name, values in measured.items()}
        result[f"{label}_median_ms"] = medians
        for ratio, numerator, denominator in RATIOS:
            if numerator in medians and denominator in medians:
                result[f"{label}_{ratio}"] = round(medians[numerator] / medians[denominator], 3)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
