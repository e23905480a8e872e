"""A real redis-server on a free loopback port (no persistence), and kfn servers sharing it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port


@dataclass
class RedisServer:
    """One redis-server process; `stop` and `start` again keep the port (and lose the data)."""

    binary: str
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.ping():
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (Debian: apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.fixture
def start_redis() -> Iterator[Callable[[], RedisServer]]:
    """Start redis-servers with start_redis(); every one is stopped after the test."""
    started: list[RedisServer] = []

    def start() -> RedisServer:
        server = RedisServer(redis_binary(), free_port())
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def runs_file(tmp_path: Path) -> Path:
    """Where the test app's functions log each run (tests/apps/idempotent.py)."""
    return tmp_path / "runs.log"


def runs(path: Path, function: str, key: str) -> list[tuple[int, str]]:
    """(pid, phase) of every logged step of `function` on `key`, in order."""
    if not path.exists():
        return []
    steps = []
    for line in path.read_text().splitlines():
        name, logged_key, pid, phase = line.split(" ")
        if (name, logged_key) == (function, key):
            steps.append((int(pid), phase))
    return steps


def starts(path: Path, function: str, key: str) -> int:
    return sum(1 for _, phase in runs(path, function, key) if phase == "start")
