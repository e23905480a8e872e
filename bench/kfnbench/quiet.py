"""Noticing other work on the machine, which would otherwise pass for a slow system.

A shared machine (a CI runner, a laptop running a test suite) steals CPU from the
pinned server at random. The server CPU's busy time is compared with what our own
server used: the difference is foreign work. A run that was disturbed is repeated
after the machine has been quiet for a moment, and the share is recorded either way.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
DISTURBED = 0.05
"""Foreign work above this share of the server CPU makes a run disturbed."""
QUIET = 0.03
QUIET_WAIT_SECONDS = 60.0
ATTEMPTS = 3
"""Tries of a disturbed measurement before keeping the least disturbed one."""


def _cpu_busy(cpu: int) -> tuple[int, int]:
    """(busy, total) ticks of one CPU since boot.

    Busy is user + nice + system, plus steal: time a virtual machine's host gave the
    CPU to someone else is as lost to the server as a neighbour process's time.
    """
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{cpu} "):
            fields = [int(v) for v in line.split()[1:]]
            steal = fields[7] if len(fields) > 7 else 0
            return fields[0] + fields[1] + fields[2] + steal, sum(fields)
    return 0, 0


def _family(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    family, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = {child for child, ppid in parents.items() if ppid == parent}
        family |= children
        frontier.extend(children)
    return family


def _ticks(pids: set[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def _own_ticks() -> int:
    """CPU ticks of this process and of the children it has reaped (wrk, once done)."""
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime


@dataclass
class Watch:
    """Foreign CPU while `pid`'s process tree (pinned to `cpu`) is measured.

    With `load_cpu`, the load generator's CPU is watched too: everything on it that is
    not this harness or a child it reaped (wrk) is someone else's, and a descheduled
    load generator inflates latencies as surely as a descheduled server.
    """

    cpu: int
    pid: int
    load_cpu: int | None = None
    foreign: float = 0.0
    _start: tuple[int, int, int, int, int, int] = (0, 0, 0, 0, 0, 0)
    _family: frozenset[int] = frozenset()

    def _sample(self) -> tuple[int, int, int, int, int, int]:
        busy, total = _cpu_busy(self.cpu)
        load_busy, load_total = _cpu_busy(self.load_cpu) if self.load_cpu is not None else (0, 0)
        own = _own_ticks() if self.load_cpu is not None else 0
        return busy, total, _ticks(set(self._family)), load_busy, load_total, own

    def __enter__(self) -> Watch:
        self._family = frozenset(_family(self.pid))
        self._start = self._sample()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._sample()
        delta = [after - before for after, before in zip(end, self._start, strict=True)]
        busy, total, ours, load_busy, load_total, own = delta
        shares = [(busy - ours) / max(1, total)]
        if self.load_cpu is not None:
            shares.append((load_busy - own) / max(1, load_total))
        self.foreign = max(0.0, *shares)


def wait_quiet(cpus: list[int], timeout: float | None = None) -> float:
    """Wait until `cpus` are (nearly) idle for half a second; seconds waited.

    Called between measurements, when none of our servers is loaded, so any busy
    time is someone else's. Gives up after `timeout` (the run goes on, flagged).
    """
    timeout = QUIET_WAIT_SECONDS if timeout is None else timeout
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = {cpu: _cpu_busy(cpu) for cpu in cpus}
        time.sleep(0.5)
        after = {cpu: _cpu_busy(cpu) for cpu in cpus}
        shares = [(after[c][0] - before[c][0]) / max(1, after[c][1] - before[c][1]) for c in cpus]
        if max(shares) <= QUIET:
            break
    return time.monotonic() - started
