"""A user's own project, outside this repository, built by `kfn build` and run as Knative would.

A flat layout: pyproject.toml and a `functions/` package, which setuptools puts in the
project's wheel, `kfn-host` as a dependency (built from the checkout kfn runs from), and
the base image chosen in `[tool.kfn] base-image`.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kfn.image.build import STOP_TIMEOUT
from tests.container.conftest import build_ids, kfn_build
from tests.container.contract import (
    LIFECYCLE,
    check_non_root_on_a_read_only_root,
    check_ready_only_after_the_startup_hook,
    check_sigterm_during_a_slow_event,
    reply_to,
)
from tests.container.harness import Podman, free_port

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
FUNCTIONS = """\
from kfn import CloudEvent, cloudevent

from functions import lifecycle  # noqa: F401  (its functions register on import)


@cloudevent(type="com.example.greet", reply_type="com.example.greeted")
async def greet(event: CloudEvent) -> dict[str, str]:
    return {"greeting": f"hello {event.get_data()['name']}"}
"""


@pytest.fixture(scope="module")
def project(base_image: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("greeter")
    pyproject = PYPROJECT.format(base_image=base_image)
    (folder / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    (folder / "functions").mkdir()
    (folder / "functions" / "__init__.py").write_text(FUNCTIONS, "utf-8")
    (folder / "functions" / "lifecycle.py").write_text(LIFECYCLE, "utf-8")
    return folder


@pytest.fixture(scope="module")
def image(podman: Podman, project: Path, intermediates: list[str], built: list[str]) -> str:
    built.append(IMAGE)
    output = kfn_build(podman, project, IMAGE)  # the base image from [tool.kfn]
    intermediates.extend(build_ids(output))
    return IMAGE


def test_the_project_runs_non_root_on_a_read_only_root(podman: Podman, image: str) -> None:
    check_non_root_on_a_read_only_root(podman, image)


def test_readiness_is_200_only_after_the_startup_hook_and_liveness_answers(
    podman: Podman, image: str
) -> None:
    check_ready_only_after_the_startup_hook(podman, image)


def test_an_event_is_answered_with_its_reply(podman: Podman, image: str) -> None:
    response = reply_to(podman, image, "com.example.greet", {"name": "ann"})
    assert response.status_code == 200, response.text
    assert response.headers["ce-type"] == "com.example.greeted"
    assert response.json() == {"greeting": "hello ann"}


def test_sigterm_during_a_slow_event_still_acknowledges_it_and_exits_0(
    podman: Podman, image: str
) -> None:
    check_sigterm_during_a_slow_event(podman, image)


def test_kfn_run_container_serves_the_project_on_port_until_ctrl_c(
    podman: Podman, project: Path, image: str, intermediates: list[str], built: list[str]
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
        intermediates.extend(build_ids(log.read_text()))
    left = podman.call("ps", "--all", "--quiet", "--filter", f"name=kfn-run-greeter-{process.pid}")
    assert code == 0, log.read_text()
    assert left.stdout.strip() == "", "the container outlived kfn run --container"
