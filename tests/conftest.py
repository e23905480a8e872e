"""Shared fixtures: real kfn servers on 127.0.0.1 that tests stop, and Knative's own code."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]

pytest_plugins = ["tests.knative.fixtures", "tests.user_venv"]

IMPOSSIBLE_HERE = "impossible on this machine: "
"""How a skip reason starts when no tool can be installed to run the test (e.g. not Linux)."""


def impossible_here(reason: str) -> str:
    """A skip reason that CI accepts: the test cannot run on this kind of machine at all."""
    return IMPOSSIBLE_HERE + reason


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI=true a skip fails the test, unless it says it is impossible on this machine.

    CI installs every tool the suites need (.ci/setup.d), so a skip there means a test
    did not run that should have.
    """
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if not (report.skipped and _under_ci()) or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if reason.removeprefix("Skipped: ").startswith(IMPOSSIBLE_HERE):
        return
    report.outcome = "failed"
    report.longrepr = f"skipped under CI=true, where nothing may be skipped: {reason}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A `kfn run` process on 127.0.0.1; its output goes to a file, so it never blocks."""

    process: subprocess.Popen[str]
    port: int
    log_file: IO[str]
    final_logs: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Stop the process (SIGTERM: it drains); its log stays readable, its file is removed."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.final_logs is None:
            self.final_logs = self.logs()
            self.log_file.close()
        return self.process.returncode

    def logs(self) -> str:
        if self.final_logs is not None:
            return self.final_logs
        with open(self.log_file.name) as handle:
            return handle.read()


READY_TIMEOUT = 60
"""Seconds a server may take to turn ready: a few on a quiet machine, more beside other work."""


def start_server(
    functions: str, env: dict[str, str] | None = None, wait_ready: bool = True
) -> Server:
    port = free_port()
    environ = {**os.environ, "KFN_FUNCTIONS": functions, "PORT": str(port), **(env or {})}
    environ["PYTHONPATH"] = str(REPO)
    return start_process(
        [sys.executable, "-m", "kfn", "run", "--host", "127.0.0.1"],
        environ,
        port,
        ready=(lambda response: response.status_code == 200) if wait_ready else None,
    )


def start_process(
    argv: list[str],
    environ: dict[str, str],
    port: int,
    *,
    cwd: Path = REPO,
    ready: Callable[[httpx.Response], bool] | None,
    path: str = "/health/readiness",
) -> Server:
    """A server process whose output goes to a file, once `ready` says so of `path`'s answer.

    `ready=None` returns at once. A process that exits first, or is not ready in
    READY_TIMEOUT, fails the test with its log.
    """
    log_file = tempfile.NamedTemporaryFile("w+", prefix="kfn-server-", suffix=".log")  # noqa: SIM115
    process = subprocess.Popen(
        argv, cwd=cwd, env=environ, stdout=log_file, stderr=subprocess.STDOUT, text=True
    )
    server = Server(process, port, log_file)
    if ready is None:
        return server
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.logs()}")
        try:
            if ready(httpx.get(f"{server.url}{path}", timeout=1)):
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"server not ready in time:\n{server.logs()}")


@pytest.fixture
def kfn_server() -> Iterator[Callable[..., Server]]:
    """Start servers with start_server(...); every one is stopped after the test."""
    started: list[Server] = []

    def start(functions: str, env: dict[str, str] | None = None, wait_ready: bool = True) -> Server:
        server = start_server(functions, env, wait_ready)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def contract_server() -> Iterator[Server]:
    """One server with the contract app and small limits, shared by a test module."""
    server = start_server(
        "tests.apps.contract",
        {"KFN_MAX_BODY_BYTES": "100000", "KFN_TIMEOUT": "5", "KFN_REPLY_SOURCE": "/tests/host"},
    )
    yield server
    server.stop()
