"""Instructions per event: a figure that stays put from run to run, unlike req/s.

Each system's ASGI app is driven in-process (asgi_driver.py) under valgrind's
callgrind with instrumentation off; after start-up and a warm-up the harness turns
it on (`callgrind_control -i on`), the driver handles a fixed number of events, and
the harness dumps the count (`callgrind_control -d`). Instructions divided by
events is the app's, the host's and the interpreter's work per event on the event
path: no sockets, no HTTP parsing (the server's, the same for every system), no
scheduler. PYTHONHASHSEED is fixed so dict layouts, and with them the count, repeat.
The machine's load changes how long this takes, not what it counts.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from kfnbench import servers
from kfnbench.paths import APPS, KFN_APP, VENV, venv_bin
from kfnbench.workloads import WORKLOADS

DRIVER = Path(__file__).resolve().parent / "asgi_driver.py"
TIMEOUT = 900.0
_TOTALS = re.compile(r"^(?:totals|summary):\s+(\d+)", re.M)


@dataclass(frozen=True)
class Subject:
    """An app as the driver loads it: MODULE:ATTR, working directory, path, environment."""

    system: str
    target: str
    cwd: Path
    path: str
    env: tuple[tuple[str, str], ...] = ()


SUBJECTS = {
    s.system: s
    for s in (
        Subject("floor", "floor:app", APPS, "/"),
        Subject("kfn", "kfn.app:app", KFN_APP, "/events/audit", (("KFN_FUNCTIONS", "functions"),)),
        Subject(
            "kfn-async", "kfn.app:app", APPS, "/events/ack", (("KFN_FUNCTIONS", "kfn_events"),)
        ),
        Subject(
            "kfn-sync", "kfn.app:app", APPS, "/events/ack_sync", (("KFN_FUNCTIONS", "kfn_events"),)
        ),
    )
}


@dataclass
class Count:
    system: str
    workload: str
    events: int
    instructions: int

    @property
    def per_event(self) -> float:
        return self.instructions / self.events

    def as_dict(self) -> dict[str, object]:
        return {
            "system": self.system,
            "workload": self.workload,
            "events": self.events,
            "instructions": self.instructions,
            "per_event": round(self.per_event),
        }


class InstructionsError(RuntimeError):
    """callgrind is missing or a driven app did not run through."""


def available() -> str | None:
    """Why instructions cannot be counted here, or None when they can."""
    missing = [tool for tool in ("valgrind", "callgrind_control") if not shutil.which(tool)]
    if missing:
        return f"{' and '.join(missing)} not on PATH (apt-get install valgrind)"
    return None


def parse_totals(text: str) -> int:
    """The total instruction count of a callgrind output file."""
    match = _TOTALS.search(text)
    if match is None:
        raise InstructionsError("no totals line in the callgrind output")
    return int(match.group(1))


def _wait_for(stream: IO[str], word: str, process: subprocess.Popen[str]) -> None:
    """Read the driver's stdout (the app may log there too) until `word`."""
    for line in stream:
        if line.strip() == word:
            return
    process.wait(10)
    raise InstructionsError(f"the driver exited with {process.returncode} before {word}")


def _control(*args: str) -> None:
    done = subprocess.run(
        ["callgrind_control", *args], capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise InstructionsError(f"callgrind_control {' '.join(args)}: {done.stderr.strip()}")


def count(
    system: str, workload: str, events: int, warmup: int, work: Path, cpu: int | None
) -> Count:
    """Instructions for `events` requests of `workload` to `system`, after `warmup` of them."""
    subject = SUBJECTS[system]
    request = WORKLOADS[workload].request
    work.mkdir(parents=True, exist_ok=True)
    request_file = work / f"instructions-{workload}.json"
    request_file.write_text(
        json.dumps(
            {"method": request.method, "headers": request.headers, "body": request.body.decode()}
        )
    )
    out = work / f"callgrind-{system}-{workload}.out"
    for old in work.glob(f"{out.name}*"):
        old.unlink()
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in servers.LEAKY_ENV and not name.startswith("KFN_")
    }
    env.update(servers.IMAGE_ENV)
    env.update(servers.KNATIVE_ENV)
    env.update(subject.env)
    env["PYTHONHASHSEED"] = "0"
    argv = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
            f"--callgrind-out-file={out}", str(venv_bin(VENV, "python")), str(DRIVER),
            subject.target, subject.path, str(request_file), str(warmup), str(events)]  # fmt: skip
    log = open(work / f"callgrind-{system}-{workload}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        argv,
        cwd=subject.cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        process_group=0,
        preexec_fn=servers.pinner(cpu),
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        _wait_for(process.stdout, "READY", process)
        _control("-i", "on", str(process.pid))
        process.stdin.write("go\n")
        process.stdin.flush()
        _wait_for(process.stdout, "DONE", process)
        _control("-d", str(process.pid))
        process.stdin.write("go\n")
        process.stdin.flush()
        process.communicate(timeout=TIMEOUT)
        if process.returncode != 0:
            raise InstructionsError(f"the driver for {system} exited with {process.returncode}")
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 9)
            process.wait(10)
        log.close()
    dump = out.with_name(out.name + ".1")  # the first dump on request; `out` is the exit's
    if not dump.exists():
        raise InstructionsError(f"callgrind wrote no dump for {system} (see {log.name})")
    return Count(system, workload, events, parse_totals(dump.read_text(errors="replace")))


def measure(
    systems: list[str], events: int, warmup: int, work: Path, cpu: int | None
) -> list[Count]:
    """Instructions per binary event for each selected system that the driver can load."""
    counts = []
    for system in [s for s in SUBJECTS if s in systems]:
        counted = count(system, "event-binary", events, warmup, work, cpu)
        counts.append(counted)
        print(f"  instructions {system:<10} {counted.per_event:>10,.0f} per event", flush=True)
    return counts
