"""A user's own project, outside this repository, built by `kfn build` and run as Knative would.

A flat layout: pyproject.toml and a `functions/` package, which setuptools puts in the
project's wheel, `kfn-host` as a dependency (built from the checkout kfn runs from), and
the base image chosen in `[tool.kfn] base-image`.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from kfn.image.build import STOP_TIMEOUT
from tests.container.conftest import kfn_build
from tests.container.harness import GRACE_PERIOD, Container, InFlight, Podman, free_port, running
from tests.helpers import binary_headers

IMAGE = "localhost/kfn-test/greeter:project"
PYPROJECT = """\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "greeter"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["kfn-host"]

[tool.kfn]
name = "greeter"
base-image = "{base_image}"
"""
FUNCTIONS = '''\
"""A greeter: a startup hook, a reply, and a slow event."""

import asyncio
from pathlib import Path

from kfn import CloudEvent, cloudevent, http, on_startup

STARTED: list[bool] = []


@on_startup
async def connect() -> None:
    await asyncio.sleep(0.5)
    STARTED.append(True)


@http("/started", methods=["GET"])
async def started() -> dict[str, bool]:
    return {"started": bool(STARTED)}


@cloudevent(type="com.example.greet", reply_type="com.example.greeted")
async def greet(event: CloudEvent) -> dict[str, str]:
    return {"greeting": f"hello {event.get_data()['name']}"}


@cloudevent(type="com.example.slow")
async def slow(event: CloudEvent) -> None:
    Path("/tmp/slow-started").touch()
    await asyncio.sleep(3)
'''


@pytest.fixture(scope="module")
def project(base_image: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("greeter")
    pyproject = PYPROJECT.format(base_image=base_image)
    (folder / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    (folder / "functions").mkdir()
    (folder / "functions" / "__init__.py").write_text(textwrap.dedent(FUNCTIONS), "utf-8")
    return folder


@pytest.fixture(scope="module")
def image(podman: Podman, project: Path, built: list[str]) -> str:
    built.append(IMAGE)
    kfn_build(podman, project, IMAGE)  # the base image from [tool.kfn]
    return IMAGE


def _wait_for_file(container: Container, path: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if container.exec("test", "-e", path).returncode == 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"{path} never appeared:\n{container.logs()}")


def test_the_project_runs_non_root_on_a_read_only_root(podman: Podman, image: str) -> None:
    with running(podman, image) as container:
        container.wait_ready()
        uid = container.exec("id", "-u")
        outside = container.exec("python3", "-c", "open('/opt/venv/written', 'w')")
    assert uid.stdout.strip() not in ("", "0")
    assert outside.returncode != 0 and "Read-only file system" in outside.stderr


def test_readiness_is_200_only_after_the_startup_hook_and_liveness_answers(
    podman: Podman, image: str
) -> None:
    with running(podman, image) as container:
        container.wait_ready()
        started = httpx.get(f"{container.url}/started", timeout=5)
        live = httpx.get(f"{container.url}/health/liveness", timeout=5)
    assert started.json() == {"started": True}
    assert live.status_code == 200


def test_an_event_is_answered_with_its_reply(podman: Podman, image: str) -> None:
    with running(podman, image) as container:
        container.wait_ready()
        response = httpx.post(
            container.url,
            content=json.dumps({"name": "ann"}),
            headers=binary_headers("com.example.greet", **{"content-type": "application/json"}),
            timeout=10,
        )
    assert response.status_code == 200, response.text
    assert response.headers["ce-type"] == "com.example.greeted"
    assert response.json() == {"greeting": "hello ann"}


def test_sigterm_during_a_slow_event_still_acknowledges_it_and_exits_0(
    podman: Podman, image: str
) -> None:
    with running(podman, image) as container:
        container.wait_ready()
        event = InFlight(
            "POST",
            f"{container.url}/events/slow",
            content=b"{}",
            headers=binary_headers("com.example.slow", **{"content-type": "application/json"}),
        )
        _wait_for_file(container, "/tmp/slow-started")
        container.terminate()
        response = event.result()
        code = container.wait_exit(timeout=GRACE_PERIOD + 5)
        logs = container.logs()
    assert response.status_code == 202, response.text
    assert code == 0, logs
    assert "Traceback" not in logs


def test_kfn_run_container_serves_the_project_on_port_until_ctrl_c(
    podman: Podman, project: Path, image: str, built: list[str]
) -> None:
    built.append("localhost/greeter:dev")
    port = free_port()
    log = project / "run.log"
    command = ["run", "--container", "--engine", "podman", "--port", str(port)]
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "kfn", *command],
            cwd=project,
            env=podman.env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 300  # builds first (from the layer cache)
        ready = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/health/readiness", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert ready is not None and ready.status_code == 200, log.read_text()
        process.send_signal(signal.SIGINT)
        # kfn stops the container as the kubelet would: SIGTERM, SIGKILL after STOP_TIMEOUT
        # (a kill gives a non-zero code below); podman's own clean-up of --rm comes after.
        code = process.wait(timeout=STOP_TIMEOUT + 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    left = podman.call("ps", "--all", "--quiet", "--filter", f"name=kfn-run-greeter-{process.pid}")
    assert code == 0, log.read_text()
    assert left.stdout.strip() == "", "the container outlived kfn run --container"
