"""podman driven from the tests: containers run as Knative runs them, and a slow event sink."""

from __future__ import annotations

import http.server
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

KNATIVE_ENV = {"K_SERVICE": "shop", "K_CONFIGURATION": "shop", "K_REVISION": "shop-00001"}
"""What Knative sets in every container (runtime contract)."""
GRACE_PERIOD = 10  # seconds; KFN_GRACE_PERIOD in the container


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Podman:
    env: dict[str, str]

    def call(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["podman", *args], capture_output=True, text=True, env=self.env, timeout=timeout
        )


@dataclass
class Container:
    """One detached container on the host network, serving on 127.0.0.1:`port`."""

    podman: Podman
    name: str
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60) -> httpx.Response:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"{self.url}/health/readiness", timeout=2)
                if response.status_code == 200:
                    return response
            except httpx.HTTPError:
                pass
            if not self.running():
                break
            time.sleep(0.2)
        raise AssertionError(f"the container never became ready:\n{self.logs()}")

    def running(self) -> bool:
        state = self.podman.call("inspect", "--format", "{{.State.Running}}", self.name)
        return state.stdout.strip() == "true"

    def exec(self, *command: str) -> subprocess.CompletedProcess[str]:
        return self.podman.call("exec", self.name, *command)

    def terminate(self) -> None:
        """SIGTERM, as the kubelet sends it when the revision scales down."""
        result = self.podman.call("kill", "--signal", "TERM", self.name)
        assert result.returncode == 0, result.stderr

    def wait_exit(self, timeout: float) -> int:
        result = self.podman.call("wait", self.name, timeout=timeout)
        assert result.returncode == 0, result.stderr
        return int(result.stdout.strip())

    def logs(self) -> str:
        result = self.podman.call("logs", self.name)
        return result.stdout + result.stderr


@contextmanager
def running(podman: Podman, image: str, environment: Mapping[str, str] = {}) -> Iterator[Container]:
    """The image run as a Knative revision: read-only root, its own user, $PORT; then removed."""
    port = free_port()
    name = f"kfn-test-{uuid.uuid4().hex[:12]}"
    env = {**KNATIVE_ENV, "PORT": str(port), "KFN_GRACE_PERIOD": f"{GRACE_PERIOD}s", **environment}
    flags = [f"--env={key}={value}" for key, value in env.items()]
    started = podman.call(
        "run", "--detach", "--name", name, "--read-only", "--network", "host", *flags, image
    )
    assert started.returncode == 0, started.stderr
    try:
        yield Container(podman, name, port)
    finally:
        podman.call("rm", "--force", "--time", "0", name)


@dataclass
class SlowSink:
    """An event sink on 127.0.0.1 that holds each request for `delay` seconds, then answers 202."""

    delay: float
    received: list[dict[str, str]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    @contextmanager
    def serving(self) -> Iterator[str]:
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                self.rfile.read(length)
                sink.received.append({k.lower(): v for k, v in self.headers.items()})
                sink.arrived.set()
                time.sleep(sink.delay)
                self.send_response(202)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


class InFlight:
    """One request sent on a thread, so the test can signal the container meanwhile."""

    def __init__(self, method: str, url: str, **kwargs: object) -> None:
        self.response: httpx.Response | None = None
        self.error: BaseException | None = None

        def send() -> None:
            try:
                self.response = httpx.request(method, url, timeout=30, **kwargs)  # type: ignore[arg-type]
            except BaseException as error:
                self.error = error

        self._thread = threading.Thread(target=send, daemon=True)
        self._thread.start()

    def result(self, timeout: float = 30) -> httpx.Response:
        self._thread.join(timeout)
        assert self.error is None, f"the request failed: {self.error!r}"
        assert self.response is not None, "no response"
        return self.response
