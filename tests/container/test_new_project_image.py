"""A project made by `kfn new`, built by `kfn build --engine podman` and run as Knative would.

As a user gets there: kfn-host installed from this checkout into a virtualenv of their
own (tests/user_venv.py), `kfn new hello`, a module of their own added (a startup hook
and a slow event), then `kfn build` from that virtualenv. The image is built cold
(`--no-cache`), checked like the other images, and then built cold once more, with its
first build's images removed and kfn's wheel cache empty: the layers must be the same.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.container.conftest import build_ids, kfn_build
from tests.container.contract import (
    LIFECYCLE,
    check_non_root_on_a_read_only_root,
    check_ready_only_after_the_startup_hook,
    check_sigterm_during_a_slow_event,
    layers,
    reply_to,
)
from tests.container.harness import Podman
from tests.user_venv import Venv, check

NAME = "hello"
IMAGE = f"localhost/kfn-test/{NAME}:new"
AGAIN = f"localhost/kfn-test/{NAME}:again"
PODMAN_SETTINGS = ("CONTAINERS_CONF", "BUILDAH_ISOLATION")


@pytest.fixture(scope="module")
def user(podman: Podman, user_venv: Venv) -> Podman:
    """The user's shell (the virtualenv active) with this host's podman settings."""
    settings = {key: podman.env[key] for key in PODMAN_SETTINGS if key in podman.env}
    return Podman({**user_venv.env(), **settings})


@pytest.fixture(scope="module")
def project(user_venv: Venv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("projects")
    check(user_venv.run("kfn", "new", NAME, cwd=home), f"kfn new {NAME}")
    functions = home / NAME / "functions"
    (functions / "lifecycle.py").write_text(LIFECYCLE, encoding="utf-8")
    init = functions / "__init__.py"
    init.write_text(init.read_text(encoding="utf-8") + "from functions import lifecycle\n")
    return home / NAME


@pytest.fixture(scope="module")
def image(
    user: Podman,
    project: Path,
    base_image: str,
    intermediates: list[str],
    built: list[str],
) -> str:
    built.append(IMAGE)
    output = kfn_build(user, project, IMAGE, base_image, options=["--no-cache"], kfn=["kfn"])
    intermediates.extend(build_ids(output))
    return IMAGE


def test_the_project_runs_non_root_on_a_read_only_root(podman: Podman, image: str) -> None:
    check_non_root_on_a_read_only_root(podman, image)


def test_readiness_is_200_only_after_the_startup_hook_and_liveness_answers(
    podman: Podman, image: str
) -> None:
    check_ready_only_after_the_startup_hook(podman, image)


def test_the_order_event_is_answered_with_its_acceptance(podman: Podman, image: str) -> None:
    response = reply_to(
        podman, image, "com.example.order.received", {"order_id": "o-1", "quantity": 2}
    )
    assert response.status_code == 200, response.text
    assert response.headers["ce-type"] == "com.example.order.accepted"
    assert response.json() == {"order_id": "o-1", "message": "2 item(s) on the way"}


def test_sigterm_during_a_slow_event_still_acknowledges_it_and_exits_0(
    podman: Podman, image: str
) -> None:
    check_sigterm_during_a_slow_event(podman, image)


def test_a_second_cold_build_of_the_same_inputs_gives_the_same_layers(
    user: Podman,
    project: Path,
    base_image: str,
    image: str,
    intermediates: list[str],
    built: list[str],
    tmp_path: Path,
) -> None:
    first = layers(user, image)
    # Nothing of the first build is left to reuse: its image, its build stage, its wheels.
    user.call("rmi", "--force", image)
    user.call("rmi", "--ignore", *intermediates)
    caches = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    env = {
        **user.env,
        "XDG_CACHE_HOME": str(tmp_path / "cache"),  # kfn's wheel cache, empty
        "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(caches / "pip")),  # downloads
    }
    built.append(AGAIN)
    output = kfn_build(
        user, project, AGAIN, base_image, options=["--no-cache"], kfn=["kfn"], env=env
    )
    intermediates.extend(build_ids(output))
    assert "Using cache" not in output
    assert list((tmp_path / "cache" / "kfn" / "wheels").glob("*/hello-0.1.0-*.whl"))  # built anew
    assert len(first) > len(layers(user, base_image))
    assert layers(user, AGAIN) == first
