"""A user's own project, outside this repository, built by `kfn build` and run as Knative would.

A flat layout: pyproject.toml and a `functions/` package, which setuptools puts in the
project's wheel, `kfn-host` as a dependency (built from the checkout kfn runs from), and
the base image chosen in `[tool.kfn] base-image`. Its Service name carries the run's
tag, so the image `kfn run --container` builds (named for it) is this run's own.
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
from tests.container.conftest import build_ids
from tests.container.contract import LIFECYCLE, ContractChecks, build
from tests.container.harness import Podman, free_port

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
name = "{name}"
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
def service(run_tag: str) -> str:
    """The project's Service name in [tool.kfn]."""
    return f"greeter-{run_tag}"


@pytest.fixture(scope="module")
def project(base_image: str, service: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("greeter")
    pyproject = PYPROJECT.format(name=service, base_image=base_image)
    (folder / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    (folder / "functions").mkdir()
    (folder / "functions" / "__init__.py").write_text(FUNCTIONS, "utf-8")
    (folder / "functions" / "lifecycle.py").write_text(LIFECYCLE, "utf-8")
    return folder


@pytest.fixture(scope="module")
def image(
    podman: Podman, project: Path, run_tag: str, intermediates: list[str], built: list[str]
) -> str:
    image = f"localhost/kfn-test/greeter:project-{run_tag}"
    build(podman, project, image, (built, intermediates))  # the base image from [tool.kfn]
    return image


class TestContract(ContractChecks):
    EVENT_TYPE = "com.example.greet"
    DATA = {"name": "ann"}
    REPLY_TYPE = "com.example.greeted"
    REPLY = {"greeting": "hello ann"}


def test_kfn_run_container_serves_the_project_on_port_until_ctrl_c(
    podman: Podman,
    project: Path,
    service: str,
    image: str,
    intermediates: list[str],
    built: list[str],
) -> None:
    built.append(f"localhost/{service}:dev")
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
    left = podman.call(
        "ps", "--all", "--quiet", "--filter", f"name=kfn-run-{service}-{process.pid}"
    )
    assert code == 0, log.read_text()
    assert left.stdout.strip() == "", "the container outlived kfn run --container"
