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

from tests.container.contract import LIFECYCLE, ContractChecks, build, layers
from tests.container.harness import Podman
from tests.user_venv import Venv, check

NAME = "hello"
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
    run_tag: str,
    intermediates: list[str],
    built: list[str],
) -> str:
    image = f"localhost/kfn-test/{NAME}:new-{run_tag}"
    build(
        user,
        project,
        image,
        (built, intermediates),
        base_image,
        options=["--no-cache"],
        kfn=["kfn"],
    )
    return image


class TestContract(ContractChecks):
    EVENT_TYPE = "com.example.order.received"
    DATA = {"order_id": "o-1", "quantity": 2}
    REPLY_TYPE = "com.example.order.accepted"
    REPLY = {"order_id": "o-1", "message": "2 item(s) on the way"}


def test_a_second_cold_build_of_the_same_inputs_gives_the_same_layers(
    user: Podman,
    project: Path,
    base_image: str,
    image: str,
    run_tag: str,
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
    again = f"localhost/kfn-test/{NAME}:again-{run_tag}"
    cleanup = (built, intermediates)
    output = build(
        user, project, again, cleanup, base_image, options=["--no-cache"], kfn=["kfn"], env=env
    )
    assert "Using cache" not in output
    assert list((tmp_path / "cache" / "kfn" / "wheels").glob("*/hello-0.1.0-*.whl"))  # built anew
    assert len(first) > len(layers(user, base_image))
    assert layers(user, again) == first
