"""Fixtures for events out: a real sink on 127.0.0.1, and `kfn run` servers whose log is read live."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO, free_port


@dataclass
class Received:
    """One request the sink received."""

    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class SinkServer:
    """An HTTP/1.1 server on 127.0.0.1 that records requests and answers as scripted (202)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[Received] = []
        self.answers: deque[Answer] = deque()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse is visible

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                sink.requests.append(
                    Received(
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                        self.client_address[1],
                    )
                )
                answer = sink.answers.popleft() if sink.answers else Answer(202)
                if answer.delay:
                    time.sleep(answer.delay)
                text = b"" if answer.status < 300 else b"sink says no"
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}/"

    def script(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, then 202 again."""
        self.answers.extend(Answer(status) for status in statuses)

    def start(self) -> SinkServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def sink_server() -> Iterator[SinkServer]:
    """A real sink on 127.0.0.1, stopped after the test."""
    server = SinkServer().start()
    yield server
    server.stop()


# -- `kfn run` with its log read as it is written --------------------------------------------


@dataclass
class LiveServer:
    """A `kfn run` process whose output lines are collected by a thread as they come."""

    process: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def records(self, message: str | None = None) -> list[dict[str, Any]]:
        """The JSON log lines so far (only those with this message, if given)."""
        found = []
        for line in list(self.lines):
            if line.startswith("{"):
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if message is None or record.get("message") == message:
                    found.append(record)
        return found

    def hops(self) -> list[dict[str, Any]]:
        return self.records("hop")

    def wait_for(
        self, condition: Callable[[], bool], timeout: float = 15, what: str = "a condition"
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None and not condition():
                break
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; output:\n{self.output()}")

    def wait_ready(self, timeout: float = 20) -> None:
        def ready() -> bool:
            try:
                return httpx.get(self.url + "/health/readiness", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        self.wait_for(ready, timeout, "readiness")

    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> int:
        """SIGTERM, then SIGKILL for the whole process group it leads if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.reader is not None:
            self.reader.join(5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode


def start_live(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO, ready: bool = True
) -> LiveServer:
    """`kfn run <args>` on 127.0.0.1 in its own process group (a --reload worker is its child)."""
    port = free_port()
    environ = {
        name: value for name, value in os.environ.items() if name not in ("K_SINK", "K_SERVICE")
    }
    environ.update({"PORT": str(port), **(env or {})})
    environ["PYTHONPATH"] = str(REPO)
    process = subprocess.Popen(
        [sys.executable, "-m", "kfn", "run", "--host", "127.0.0.1", *args],
        cwd=cwd,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    server = LiveServer(process, port)
    server.reader = threading.Thread(target=server.read, daemon=True)
    server.reader.start()
    if ready:
        try:
            server.wait_ready()
        except AssertionError:
            server.stop()
            raise
    return server


@pytest.fixture
def live_server() -> Iterator[Callable[..., LiveServer]]:
    """Start `kfn run` processes with start(*args, env=..., cwd=...); all are stopped after the test."""
    started: list[LiveServer] = []

    def start(
        *args: str, env: dict[str, str] | None = None, cwd: Path = REPO, ready: bool = True
    ) -> LiveServer:
        server = start_live(*args, env=env, cwd=cwd, ready=ready)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
