"""Requests per second and latency: every system under the same load, interleaved.

Each repetition starts every server afresh, then for each workload and connection
count runs the systems one after another, in an order rotated per repetition, so a
slow drift of the machine (thermal, noisy neighbours) spreads over all systems
instead of landing on whichever ran last. Reported values are medians over the
repetitions.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kfnbench import load, quiet, servers
from kfnbench.systems import SERVERS, SYSTEMS
from kfnbench.workloads import INVOICE_CREATED, WORKLOADS, Workload


@dataclass(frozen=True)
class Plan:
    systems: list[str]
    workloads: list[str]
    connections: list[int]
    repetitions: int
    seconds: float
    warmup: float
    wrk: str | None
    server_cpu: int | None
    load_cpu: int | None
    work_dir: Path
    quiet: bool = True


@dataclass
class Cell:
    """One system on one workload at one connection count, over the repetitions."""

    workload: str
    connections: int
    system: str
    runs: list[load.LoadResult] = field(default_factory=list)
    foreign: list[float] = field(default_factory=list)

    def median(self, metric: str) -> float:
        return float(statistics.median(getattr(run, metric) for run in self.runs))

    def as_dict(self) -> dict[str, object]:
        return {
            "workload": self.workload,
            "connections": self.connections,
            "system": self.system,
            "runs": [
                {**run.as_dict(), "other_work": round(share, 3)}
                for run, share in zip(self.runs, self.foreign, strict=True)
            ],
            "median": {
                "rps": round(self.median("rps"), 1),
                "p50_ms": round(self.median("p50_ms"), 3),
                "p99_ms": round(self.median("p99_ms"), 3),
            },
            "errors": sum(run.errors for run in self.runs),
            "disturbed": sum(share > quiet.DISTURBED for share in self.foreign),
        }


def check(workload: Workload, system: str, port: int, path: str) -> None:
    """One request before measuring: the system must answer as the workload expects.

    A benchmark of a system answering 4xx or skipping the reply would measure nothing.
    """
    response = servers.request(port, path, workload.request)
    where = f"{system} on {workload.name} ({path})"
    if not 200 <= response.status < 300:
        raise servers.ServerError(f"{where}: status {response.status}: {response.body[:200]!r}")
    if workload.reply and response.headers.get("ce-type") != INVOICE_CREATED:
        raise servers.ServerError(f"{where}: expected a reply event, got {response.headers}")
    if workload.event and not workload.reply and "ce-type" in response.headers:
        raise servers.ServerError(f"{where}: replied with an event to an acknowledged event")


def _systems_for(plan: Plan, workload: str, repetition: int) -> list[str]:
    chosen = [name for name in plan.systems if workload in SYSTEMS[name].routes]
    shift = repetition % len(chosen) if chosen else 0
    return chosen[shift:] + chosen[:shift]


Measure = Callable[[float], load.LoadResult]
"""One load run of the given seconds against one system, workload and connection count."""


def _measurer(
    plan: Plan,
    target: servers.Running,
    path: str,
    script: Path | None,
    workload: Workload,
    connections: int,
) -> Measure:
    def measure(seconds: float) -> load.LoadResult:
        if plan.wrk and script is not None:
            url = target.url + path
            return load.run_wrk(plan.wrk, url, script, connections, seconds, plan.load_cpu)
        return load.run_python(target.port, path, workload.request, connections, seconds)

    return measure


def _undisturbed(
    plan: Plan, target: servers.Running, measure: Measure
) -> tuple[load.LoadResult, float]:
    """A measurement and the share of the server CPU that was someone else's.

    A disturbed run is repeated once the machine is quiet again, up to
    quiet.ATTEMPTS times; the least disturbed one is kept.
    """
    if plan.server_cpu is None:
        return measure(plan.seconds), 0.0
    tries: list[tuple[load.LoadResult, float]] = []
    attempts = quiet.ATTEMPTS if plan.quiet else 1
    for attempt in range(attempts):
        with quiet.Watch(plan.server_cpu, target.process.pid, plan.load_cpu) as watch:
            result = measure(plan.seconds)
        tries.append((result, watch.foreign))
        if watch.foreign <= quiet.DISTURBED or attempt == attempts - 1:
            break
        print(f"    disturbed: {watch.foreign:.0%} of a CPU was other work; repeating")
        quiet.wait_quiet(_cpus(plan))
    return min(tries, key=lambda pair: pair[1])


def _cpus(plan: Plan) -> list[int]:
    return [cpu for cpu in (plan.server_cpu, plan.load_cpu) if cpu is not None]


def run(plan: Plan) -> list[Cell]:
    cells: dict[tuple[str, int, str], Cell] = {}
    needed = sorted(
        {
            SYSTEMS[s].routes[w].server
            for s in plan.systems
            for w in plan.workloads
            if w in SYSTEMS[s].routes
        }
    )
    scripts = {
        name: load.wrk_script(WORKLOADS[name].request, plan.work_dir, name) if plan.wrk else None
        for name in plan.workloads
    }
    for repetition in range(plan.repetitions):
        with servers.pool([SERVERS[key] for key in needed], plan.work_dir, plan.server_cpu) as up:
            for name in plan.workloads:
                workload = WORKLOADS[name]
                for index, connections in enumerate(plan.connections):
                    if plan.quiet:
                        quiet.wait_quiet(_cpus(plan))
                    for system in _systems_for(plan, name, repetition):
                        route = SYSTEMS[system].routes[name]
                        target = up[route.server]
                        measure = _measurer(
                            plan, target, route.path, scripts[name], workload, connections
                        )
                        if index == 0:
                            check(workload, system, target.port, route.path)
                            if plan.warmup > 0:
                                measure(plan.warmup)
                        result, foreign = _undisturbed(plan, target, measure)
                        cell = cells.setdefault(
                            (name, connections, system), Cell(name, connections, system)
                        )
                        cell.runs.append(result)
                        cell.foreign.append(foreign)
                        print(
                            f"  rep {repetition + 1}/{plan.repetitions} {name:<16} "
                            f"c{connections:<3} {system:<20} {result.rps:>9.0f} req/s  "
                            f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms"
                            + (f"  errors {result.errors}" if result.errors else "")
                            + (f"  other work {foreign:.0%}" if foreign > quiet.DISTURBED else ""),
                            flush=True,
                        )
    return list(cells.values())
