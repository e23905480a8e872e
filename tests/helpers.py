"""Small builders for CloudEvent requests, so tests read as what they send, and probes of a host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.conftest import REPO, free_port

if TYPE_CHECKING:
    import httpx


def binary_headers(
    type_: str, id_: str = "e-1", source: str = "/tests", **extra: str
) -> dict[str, str]:
    headers = {"ce-specversion": "1.0", "ce-id": id_, "ce-source": source, "ce-type": type_}
    for name, value in extra.items():
        headers[name if name == "content-type" else f"ce-{name}"] = value
    return headers


def structured_body(type_: str, id_: str = "e-1", source: str = "/tests", **fields: Any) -> bytes:
    return json.dumps(
        {"specversion": "1.0", "id": id_, "source": source, "type": type_, **fields}
    ).encode()


STRUCTURED = {"content-type": "application/cloudevents+json"}
BATCH = {"content-type": "application/cloudevents-batch+json"}


def reply_data(response: Any) -> Any:
    """The data of a reply event, whichever content mode it came back in."""
    if response.headers.get("content-type", "").startswith("application/cloudevents+json"):
        return response.json().get("data")
    return response.json()


def counter(metrics: str, name: str, **labels: str) -> float:
    """The sum of the samples `name` with these labels in a /metrics text (0 when none yet)."""
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += float(sample.value)
    return total


def raw_request(port: int, request: bytes, timeout: float = 10) -> bytes:
    """Send bytes as they are to 127.0.0.1:port; the answer, read until the server closes.

    The request should say `Connection: close`, so that the server closes after answering.
    """
    import socket

    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


_STARTS_THE_APP = """
import asyncio, json, sys

async def main(requests):
    from kfn.app import App

    app = App()
    await app.startup()
    seen = {"modules": sorted(sys.modules), "answers": []}
    if requests:
        import httpx

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kfn.test") as client:
            for method, url, headers, content in requests:
                answer = await client.request(
                    method, url, headers=headers, content=content.encode("latin-1")
                )
                seen["answers"].append(
                    {"status": answer.status_code, "text": answer.text, "modules": sorted(sys.modules)}
                )
    await app.shutdown()
    print(json.dumps(seen))

asyncio.run(main(json.loads(sys.argv[1])))
"""


@dataclass(frozen=True)
class Answer:
    """What one request to a cold app got, and which modules were imported once it had."""

    status: int
    text: str
    modules: frozenset[str]

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass(frozen=True)
class ColdStart:
    """The modules a fresh process had imported when the app's startup finished, then answers."""

    modules: frozenset[str]
    answers: tuple[Answer, ...]


def cold_start(
    functions: str, env: Mapping[str, str] | None = None, requests: Sequence[httpx.Request] = ()
) -> ColdStart:
    """Start the app of `functions` in a fresh interpreter and send it `requests` over ASGI.

    The test process has imported nearly everything already, so what an app imports (and
    whether it imports a heavy library at all) is seen only in a new one. Its environment
    is this one without any KFN_*, K_* or OTEL_* variable, plus `env`.
    """
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("KFN_", "K_", "OTEL_"))}
    environ.update(KFN_FUNCTIONS=functions, PYTHONPATH=str(REPO), **(env or {}))
    asked = [[r.method, str(r.url), dict(r.headers), r.read().decode("latin-1")] for r in requests]
    result = subprocess.run(
        [sys.executable, "-c", _STARTS_THE_APP, json.dumps(asked)],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    return ColdStart(
        frozenset(seen["modules"]),
        tuple(Answer(a["status"], a["text"], frozenset(a["modules"])) for a in seen["answers"]),
    )


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def start_failure(module: str, env: Mapping[str, str] | None = None, code: int = 3) -> str:
    """Run `kfn run` expecting it to refuse to start with `code`; return what it printed.

    3 is a host that could not start (its functions or hooks), 2 a configuration error.
    Whatever the reason, it is said without a traceback.
    """
    result = subprocess.run(
        [sys.executable, "-m", "kfn", "run", "--port", str(free_port()), "--functions", module],
        cwd=REPO,
        env={"PATH": "", "PYTHONPATH": str(REPO), **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr + result.stdout
