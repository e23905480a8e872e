"""Cold start, idle memory and import time: what a request after scale-to-zero waits for.

Cold start is the time from forking the server process to its first 2xx answer to
the group's probe request (an event for the event-only apps, GET for the HTTP
apps), polled every few milliseconds. Each timed run is preceded by one untimed run
of the same app, so bytecode caches are warm as they are in a built image. Idle RSS
is read shortly after that first answer, over the whole process tree.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from kfnbench import quiet, servers
from kfnbench.paths import VENV, venv_bin
from kfnbench.systems import COLD_GROUPS, SERVERS, SYSTEMS, Route
from kfnbench.workloads import WORKLOADS

POLL_SECONDS = 0.002
SETTLE_SECONDS = 0.5
"""Wait after the first answer before reading RSS: what a just-woken idle instance holds."""
START_TIMEOUT = 60.0
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


@dataclass
class ColdResult:
    group: str
    system: str
    server: str
    runs_ms: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    foreign: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.runs_ms)

    @property
    def median_rss_mib(self) -> float:
        return statistics.median(self.rss_kib) / 1024

    def as_dict(self) -> dict[str, object]:
        return {
            "group": self.group,
            "system": self.system,
            "server": self.server,
            "runs_ms": [round(v, 2) for v in self.runs_ms],
            "rss_kib": self.rss_kib,
            "other_work": [round(v, 3) for v in self.foreign],
            "median_ms": round(self.median_ms, 2),
            "median_rss_mib": round(self.median_rss_mib, 2),
        }


def cold_targets(systems: list[str]) -> list[tuple[str, str, Route]]:
    """(group, system, route) for every selected system that has an app in the group."""
    return [
        (group, name, SYSTEMS[name].cold[group])
        for group in COLD_GROUPS
        for name in systems
        if group in SYSTEMS[name].cold
    ]


def _once(
    route: Route, group: str, log_dir: Path, cpu: int | None, load_cpu: int | None = None
) -> tuple[float, int, float]:
    """One cold start: (ms to first 2xx, idle RSS KiB, share of the CPU that was other work)."""
    probe = WORKLOADS[COLD_GROUPS[group][1]].request
    running = servers.start(SERVERS[route.server], log_dir, cpu, tag="-cold")
    try:
        if cpu is None:
            seconds = servers.first_success(running, route.path, probe, START_TIMEOUT, POLL_SECONDS)
            foreign = 0.0
        else:
            with quiet.Watch(cpu, running.process.pid, load_cpu) as watch:
                seconds = servers.first_success(
                    running, route.path, probe, START_TIMEOUT, POLL_SECONDS
                )
            foreign = watch.foreign
        time.sleep(SETTLE_SECONDS)
        return seconds * 1000, servers.tree_rss_kib(running.process.pid), foreign
    finally:
        servers.kill(running)


def _undisturbed(
    route: Route, group: str, log_dir: Path, cpus: tuple[int | None, int | None], retry: bool
) -> tuple[float, int, float]:
    cpu, load_cpu = cpus
    tries = []
    attempts = quiet.ATTEMPTS if retry and cpu is not None else 1
    for attempt in range(attempts):
        tries.append(_once(route, group, log_dir, cpu, load_cpu))
        if tries[-1][2] <= quiet.DISTURBED or attempt == attempts - 1:
            break  # no wait for a quiet machine when no other attempt follows (--quick)
        quiet.wait_quiet([c for c in cpus if c is not None])
    return min(tries, key=lambda t: t[2])


def measure(
    systems: list[str],
    runs: int,
    log_dir: Path,
    cpus: tuple[int | None, int | None],
    careful: bool = True,
) -> list[ColdResult]:
    """`runs` timed starts per app, the apps interleaved within each round.

    `careful` (full runs) adds an untimed start of each app first, so bytecode and page
    caches are warm as in a built image, waits for a quiet machine before each round
    and repeats a start that other work disturbed.
    """
    targets = cold_targets(systems)
    results = {
        (group, name): ColdResult(group, name, route.server) for group, name, route in targets
    }
    cpu = cpus[0]
    if careful:
        for group, _, route in targets:
            _once(route, group, log_dir, cpu)
    for round_ in range(runs):
        if careful and cpu is not None:
            quiet.wait_quiet([c for c in cpus if c is not None])
        order = targets[round_ % len(targets) :] + targets[: round_ % len(targets)]
        for group, name, route in order:
            ms, rss, foreign = _undisturbed(route, group, log_dir, cpus, careful)
            result = results[(group, name)]
            result.runs_ms.append(ms)
            result.rss_kib.append(rss)
            result.foreign.append(foreign)
        print(f"  cold start round {round_ + 1}/{runs} done", flush=True)
    return list(results.values())


@dataclass
class ImportProfile:
    group: str
    system: str
    total_ms: float
    modules: int
    top: list[tuple[str, float]]

    def as_dict(self) -> dict[str, object]:
        return {
            "group": self.group,
            "system": self.system,
            "total_ms": round(self.total_ms, 1),
            "modules": self.modules,
            "top": [{"package": p, "cumulative_ms": round(ms, 1)} for p, ms in self.top],
        }


def parse_importtime(text: str, top: int = 8) -> tuple[float, int, list[tuple[str, float]]]:
    """Total self time, module count and the top-level packages by cumulative time.

    `-X importtime` prints one line per module, nested imports indented; a top-level
    line's cumulative time includes everything it pulled in, so summing those per root
    package says which dependency the start-up time goes to.
    """
    total_us, count = 0, 0
    by_package: dict[str, int] = defaultdict(int)
    for match in _IMPORT_LINE.finditer(text):
        self_us, cumulative_us, indent, name = match.groups()
        total_us += int(self_us)
        count += 1
        if len(indent) == 1:  # one space after the bar: a top-level import
            by_package[name.split(".")[0]] += int(cumulative_us)
    ranked = sorted(by_package.items(), key=lambda item: -item[1])[:top]
    return total_us / 1000, count, [(name, us / 1000) for name, us in ranked]


def import_profiles(systems: list[str], log_dir: Path, cpu: int | None) -> list[ImportProfile]:
    """One start per app with `-X importtime` (PYTHONPROFILEIMPORTTIME, so it reaches
    console scripts and forked workers too)."""
    profiles = []
    for group, name, route in cold_targets(systems):
        probe = WORKLOADS[COLD_GROUPS[group][1]].request
        running = servers.start(
            SERVERS[route.server], log_dir, cpu, {"PYTHONPROFILEIMPORTTIME": "1"}, tag="-imports"
        )
        try:
            servers.first_success(running, route.path, probe, START_TIMEOUT, POLL_SECONDS)
            time.sleep(SETTLE_SECONDS)
        finally:
            servers.kill(running)
        total, count, ranked = parse_importtime(running.log.read_text(errors="replace"))
        profiles.append(ImportProfile(group, name, total, count, ranked))
    return profiles


def interpreter_ms(runs: int, cpu: int | None) -> float:
    """Median `python -c pass` in bench/.venv: the part of every cold start no host can cut."""
    argv = [str(venv_bin(VENV, "python")), "-c", "pass"]
    times = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(argv, check=True, timeout=30, preexec_fn=servers.pinner(cpu))
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[1:])
