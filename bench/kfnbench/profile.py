"""Where an event's CPU time goes: py-spy samples a server under wrk load.

The raw stacks are folded two ways: by the leaf frame's library ("area"), which says
how much of each request is the host's own Python versus the codec, the server and
the event loop; and by inclusive time of the host's own functions, which says which
step of the event path to work on.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from kfnbench import load, servers
from kfnbench.paths import VENV, venv_bin
from kfnbench.systems import SERVERS, SYSTEMS
from kfnbench.workloads import WORKLOADS

RATE_HZ = 250
KFN_CODE = re.compile(r"(?:^|/)kfn/")
"""kfn's own modules wherever they are: `runtime/kfn/` in a checkout, `kfn/` as py-spy
names an installed package (its path relative to site-packages), never `kfnbench/` or
`kfn_events/`."""
AREAS = (
    ("functions/", "example functions"),
    ("kfn_events", "bench functions"),
    ("floor.py", "bench functions"),
    ("cloudevents/", "cloudevents SDK"),
    ("dateutil/", "dateutil"),
    ("pydantic", "pydantic"),
    ("fastapi/", "fastapi"),
    ("starlette/", "starlette"),
    ("uvicorn/", "uvicorn"),
    ("concurrent/futures", "thread pool"),
    ("threading.py", "thread pool"),
    ("asyncio/", "asyncio"),
    ("logging/", "logging"),
    ("json/", "json"),
    ("uuid.py", "uuid"),
    ("urllib/", "urllib"),
    ("contextvars", "contextvars"),
)
Rows = list[tuple[str, float]]


@dataclass
class Profile:
    system: str
    workload: str
    samples: int
    rps_under_profiler: float
    python_share: float
    areas: Rows
    top_self: Rows
    top_inclusive: Rows

    def as_dict(self) -> dict[str, object]:
        def pct(rows: Rows) -> list[dict[str, object]]:
            return [{"name": name, "percent": round(share, 1)} for name, share in rows]

        return {
            "system": self.system,
            "workload": self.workload,
            "samples": self.samples,
            "rps_under_profiler": round(self.rps_under_profiler, 1),
            "python_share": round(self.python_share, 3),
            "areas": pct(self.areas),
            "top_self": pct(self.top_self),
            "top_inclusive": pct(self.top_inclusive),
        }


def area_of(frame: str) -> str:
    """The library a frame `func (path:line)` belongs to."""
    location = frame.rsplit("(", 1)[-1]
    if KFN_CODE.search(location):
        return "kfn runtime"
    for needle, area in AREAS:
        if needle in location:
            return area
    return "other"


ENTRY_FRAMES = ("kfn/cli/", "kfn/server.py")
"""The process's entry (the CLI, uvicorn's loop): they contain everything, so say nothing."""


def _function(frame: str) -> str:
    """`func (path:line)` -> `func (path)`: a function's lines counted together."""
    name, _, location = frame.rpartition(" (")
    return f"{name} ({location.rsplit(':', 1)[0]})"


def _own(frame: str) -> bool:
    """A frame of kfn's own code, not its process entry (which contains everything)."""
    return bool(KFN_CODE.search(frame.rsplit("(", 1)[-1])) and not any(
        entry in frame for entry in ENTRY_FRAMES
    )


def fold(raw: str) -> tuple[int, Rows, Rows, Rows]:
    """Samples, areas by leaf, top leaf frames, top inclusive functions of the host's code."""
    samples = 0
    areas: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        samples += count
        leaves[frames[-1]] += count
        areas[area_of(frames[-1])] += count
        functions = {_function(frame) for frame in frames if _own(frame)}
        for function in functions:
            inclusive[function] += count
    share = 100.0 / samples if samples else 0.0

    def top(counter: Counter[str], n: int) -> Rows:
        return [(name, count * share) for name, count in counter.most_common(n)]

    return samples, top(areas, 12), top(leaves, 15), top(inclusive, 20)


def profile(
    system: str,
    workload: str,
    seconds: float,
    wrk: str,
    cpus: tuple[int | None, int | None],
    out_dir: Path,
    connections: int = 32,
) -> Profile:
    """Sample `system` with py-spy while wrk drives `workload` at it.

    `--gil` samples only the thread holding the GIL: on a server pinned to one CPU,
    that is the Python work being done, whichever thread does it (a thread waiting
    for the GIL is not work). py-spy starts once the load is running and stops before
    it ends, so the share of samples taken says how much of the time Python ran.
    """
    server_cpu, load_cpu = cpus
    route = SYSTEMS[system].routes[workload]
    script = load.wrk_script(WORKLOADS[workload].request, out_dir, f"profile-{workload}")
    raw_path = out_dir / f"profile-{system}-{workload}.raw"
    sampled = max(1.0, seconds - 2)
    py_spy = [str(venv_bin(VENV, "py-spy")), "record", "--gil", "--rate", str(RATE_HZ),
              "--format", "raw", "--duration", str(round(sampled)), "--output", str(raw_path)]  # fmt: skip
    with servers.pool([SERVERS[route.server]], out_dir, server_cpu) as running:
        target = running[route.server]
        url = target.url + route.path
        load.run_wrk(wrk, url, script, connections, 1, load_cpu)  # warm up
        with load.wrk_in_background(wrk, url, script, connections, seconds, load_cpu) as result:
            time.sleep(1.0)
            subprocess.run(
                [*py_spy, "--pid", str(target.process.pid)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                preexec_fn=servers.pinner(load_cpu),
                timeout=sampled + 30,
                check=False,
            )
    samples, areas, top_self, top_inclusive = fold(
        raw_path.read_text() if raw_path.exists() else ""
    )
    python_share = min(1.0, samples / (RATE_HZ * round(sampled)))
    return Profile(
        system, workload, samples, result[0].rps, python_share, areas, top_self, top_inclusive
    )
