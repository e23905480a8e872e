"""Knative's runtime contract, checked from outside on a running image; shared by the projects.

`LIFECYCLE` is a functions module a project adds (as a user adds one of their own):
a startup hook that takes a moment, a route that says whether it ran, and an event
that is still running when SIGTERM comes. `build` makes a project's image and has it
removed after its module; `ContractChecks` holds the checks every project's image
passes, for a test class of each project's module.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import httpx

from tests.container.conftest import build_ids, kfn_build
from tests.container.harness import GRACE_PERIOD, Container, InFlight, Podman, running
from tests.helpers import binary_headers

LIFECYCLE = '''\
"""A startup hook, a route that says it ran, and a slow event."""

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


@cloudevent(type="com.example.slow")
async def slow(event: CloudEvent) -> None:
    Path("/tmp/slow-started").touch()
    await asyncio.sleep(3)
'''


def build(
    podman: Podman,
    project: Path,
    image: str,
    cleanup: tuple[list[str], list[str]],
    base_image: str | None = None,
    *,
    options: Sequence[str] = (),
    kfn: Sequence[str] = (sys.executable, "-m", "kfn"),
    env: Mapping[str, str] | None = None,
) -> str:
    """`kfn build` of `project` as `image`; the build's output.

    `cleanup` is the module's (`built`, `intermediates`): the image and the images of
    its build stage are recorded there first, so they are removed even when a check fails.
    """
    built, intermediates = cleanup
    built.append(image)
    output = kfn_build(podman, project, image, base_image, options=options, kfn=kfn, env=env)
    intermediates.extend(build_ids(output))
    return output


def wait_for_file(container: Container, path: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if container.exec("test", "-e", path).returncode == 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"{path} never appeared:\n{container.logs()}")


def check_non_root_on_a_read_only_root(podman: Podman, image: str) -> None:
    with running(podman, image) as container:
        container.wait_ready()
        uid = container.exec("id", "-u")
        outside = container.exec("python3", "-c", "open('/opt/venv/written', 'w')")
        inside = container.exec("python3", "-c", "open('/tmp/written', 'w')")
    assert uid.stdout.strip() not in ("", "0"), uid.stderr
    assert outside.returncode != 0 and "Read-only file system" in outside.stderr
    assert inside.returncode == 0, inside.stderr


def check_ready_only_after_the_startup_hook(podman: Podman, image: str) -> None:
    with running(podman, image) as container:
        ready = container.wait_ready()
        started = httpx.get(f"{container.url}/started", timeout=5)
        live = httpx.get(f"{container.url}/health/liveness", timeout=5)
        logs = container.logs()
    assert ready.json() == {"status": "ready"}
    assert started.json() == {"started": True}
    assert live.status_code == 200
    assert "Traceback" not in logs


def reply_to(podman: Podman, image: str, event_type: str, data: object) -> httpx.Response:
    """The answer to one binary-mode event at `/`."""
    with running(podman, image) as container:
        container.wait_ready()
        return httpx.post(
            container.url,
            content=json.dumps(data),
            headers=binary_headers(event_type, **{"content-type": "application/json"}),
            timeout=10,
        )


def check_sigterm_during_a_slow_event(podman: Podman, image: str) -> None:
    """The in-flight event still gets its 2xx, and the container exits 0 within the grace."""
    with running(podman, image) as container:
        container.wait_ready()
        event = InFlight(
            "POST",
            f"{container.url}/events/slow",
            content=b"{}",
            headers=binary_headers("com.example.slow", **{"content-type": "application/json"}),
        )
        wait_for_file(container, "/tmp/slow-started")
        container.terminate()
        response = event.result()
        code = container.wait_exit(timeout=GRACE_PERIOD + 5)
        logs = container.logs()
    assert response.status_code == 202, response.text
    assert code == 0, logs
    assert "Traceback" not in logs


def layers(podman: Podman, image: str) -> list[str]:
    """The content digests of the image's layers (uncompressed), base first."""
    found = podman.call("image", "inspect", "--format", "{{json .RootFS.Layers}}", image)
    assert found.returncode == 0, found.stderr
    digests: Any = json.loads(found.stdout)
    return [str(digest) for digest in digests]


class ContractChecks:
    """What every project's image keeps, on its `image` fixture, with the project's own event.

    A project's module subclasses it as a test class and says which event (`EVENT_TYPE`,
    `DATA`) its functions answer, and with what (`REPLY_TYPE`, `REPLY`).
    """

    EVENT_TYPE: ClassVar[str]
    DATA: ClassVar[object]
    REPLY_TYPE: ClassVar[str]
    REPLY: ClassVar[object]

    def test_the_project_runs_non_root_on_a_read_only_root(
        self, podman: Podman, image: str
    ) -> None:
        check_non_root_on_a_read_only_root(podman, image)

    def test_readiness_is_200_only_after_the_startup_hook_and_liveness_answers(
        self, podman: Podman, image: str
    ) -> None:
        check_ready_only_after_the_startup_hook(podman, image)

    def test_the_projects_event_is_answered_with_its_reply(
        self, podman: Podman, image: str
    ) -> None:
        response = reply_to(podman, image, self.EVENT_TYPE, self.DATA)
        assert response.status_code == 200, response.text
        assert response.headers["ce-type"] == self.REPLY_TYPE
        assert response.json() == self.REPLY

    def test_sigterm_during_a_slow_event_still_acknowledges_it_and_exits_0(
        self, podman: Podman, image: str
    ) -> None:
        check_sigterm_during_a_slow_event(podman, image)
