"""Server processes: started pinned to the server CPU, always stopped, probed over loopback.

Every process gets its own process group, so stopping it stops whatever it forked
too (gunicorn's worker); a `Pool` stops everything it started even when the run fails
half-way. The groups stay in the harness's session, so whoever started the harness in
a session of its own can still find and stop everything if the harness itself is
killed.
"""

from __future__ import annotations

import compileall
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from kfnbench.systems import HOST, Server
from kfnbench.workloads import Request

LEAKY_ENV = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONPROFILEIMPORTTIME",
    "VIRTUAL_ENV",
    "PORT",
    "LISTEN_ADDRESS",
    "K_SERVICE",
    "WORKERS",
    "THREADS",
    "FUNCTION_TARGET",
    "FUNCTION_SIGNATURE_TYPE",
    "FUNCTION_SOURCE",
)
"""Inherited variables that would change what a server does; KFN_* are dropped too."""

KNATIVE_ENV = {"K_SERVICE": "shop", "K_REVISION": "shop-00001", "K_CONFIGURATION": "shop"}
"""What Knative sets in every container. kfn reads it: on Knative, `kfn run` leaves
routing to the Broker and schedules to PingSources, as in production."""

IMAGE_ENV = {"PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
"""What kfn's Dockerfile sets; its bytecode is compiled into the image instead, which
`precompile` reproduces, so no system compiles its own modules on each start."""


def precompile(*directories: Path) -> None:
    """Bytecode for the apps, as the Dockerfile's `compileall` step makes it.

    Installed packages got theirs from pip; the apps are plain source directories,
    and with PYTHONDONTWRITEBYTECODE a start would otherwise compile them every time.
    """
    for directory in directories:
        if directory.is_dir():
            compileall.compile_dir(directory, quiet=1)


class ServerError(RuntimeError):
    """A server did not start or did not answer as expected; the message names its log."""


@dataclass
class Running:
    server: Server
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    started: float

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def pinner(cpu: int | None) -> Callable[[], None] | None:
    """A preexec_fn pinning the child to `cpu`: what taskset does, without exec-ing taskset."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def _environment(server: Server, port: int, extra: Mapping[str, str]) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in LEAKY_ENV and not name.startswith("KFN_")
    }
    env.update(IMAGE_ENV)
    env.update(KNATIVE_ENV)
    env.update(server.environment(port))
    env.update(extra)
    return env


def start(
    server: Server,
    log_dir: Path,
    cpu: int | None,
    extra_env: Mapping[str, str] | None = None,
    tag: str = "",
) -> Running:
    """Start `server` on a fresh port; `started` is taken just before the fork."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{server.key.replace('/', '_')}{tag}-{port}.log"

    handle: IO[bytes]
    with open(log, "wb") as handle:
        started = time.perf_counter()
        process = subprocess.Popen(
            server.command(port),
            cwd=server.cwd,
            env=_environment(server, port, extra_env or {}),
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            process_group=0,
            preexec_fn=pinner(cpu),  # the harness is single-threaded: preexec_fn is safe
        )
    return Running(server, port, process, log, started)


def _signal_group(running: Running, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(running.process.pid, sig)


def stop(servers: list[Running], grace: float = 3.0) -> None:
    """SIGTERM every group, wait up to `grace`, then SIGKILL what is left."""
    for running in servers:
        _signal_group(running, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for running in servers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            running.process.wait(max(0.0, deadline - time.monotonic()))
    for running in servers:
        _signal_group(running, signal.SIGKILL)  # also reaps forked children left behind
        with contextlib.suppress(subprocess.TimeoutExpired):
            running.process.wait(5)


def kill(running: Running) -> None:
    """Stop at once (cold-start runs: how a server shuts down is not measured)."""
    _signal_group(running, signal.SIGKILL)
    running.process.wait(5)


@contextlib.contextmanager
def pool(servers: list[Server], log_dir: Path, cpu: int | None) -> Iterator[dict[str, Running]]:
    """Start every server, wait until each answers, stop them all afterwards, whatever happens."""
    started: dict[str, Running] = {}
    try:
        for server in servers:
            started[server.key] = start(server, log_dir, cpu)
        for running in started.values():
            wait_listening(running, timeout=60)
        yield started
    finally:
        stop(list(started.values()))


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def request(port: int, path: str, req: Request, timeout: float = 10.0) -> Response:
    """One request on a fresh connection (probes and checks; load uses wrk)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(req.method, path, body=req.body or None, headers=dict(req.headers))
        resp = conn.getresponse()
        body = resp.read()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
    finally:
        conn.close()


def wait_listening(running: Running, timeout: float) -> None:
    """Until the port accepts connections; a process that exits first is an error."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise ServerError(
                f"{running.server.key} exited with {running.process.returncode} before "
                f"listening; see {running.log}"
            )
        try:
            socket.create_connection((HOST, running.port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.01)
    raise ServerError(
        f"{running.server.key} did not listen within {timeout:.0f}s; see {running.log}"
    )


def first_success(running: Running, path: str, req: Request, timeout: float, poll: float) -> float:
    """Seconds from the fork to the first 2xx, polling every `poll` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = request(running.port, path, req, timeout=timeout)
        except (ConnectionError, http.client.HTTPException, TimeoutError, OSError):
            response = None
        if response is not None and 200 <= response.status < 300:
            return time.perf_counter() - running.started
        if running.process.poll() is not None:
            raise ServerError(
                f"{running.server.key} exited with {running.process.returncode}; see {running.log}"
            )
        time.sleep(poll)
    raise ServerError(f"{running.server.key}: no 2xx within {timeout:.0f}s; see {running.log}")


def tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants (gunicorn forks a worker)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    family, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        family.update(children)
        frontier.extend(children)
    total = 0
    for member in family:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total
