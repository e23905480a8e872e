"""Real images: `kfn build --engine podman` builds them, podman runs them as Knative would.

No registry is reachable from the test machines, so the base image is made here, from
Debian's packages (mmdebstrap), imported into podman and kept under a tag named for its
recipe: the next run reuses it. podman is configured for this kind of host by a
containers.conf the fixture writes (unless CONTAINERS_CONF is already set). Where
containers cannot run, the tests skip with the reason; under CI=true they fail instead.

The images a test run builds are tagged with a suffix of that run (`run_tag`), and
removed at the end, so two suites on one machine never build over each other's tags.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from tests.container.harness import Podman

BASE_RECIPE = ("bookworm", "apt", "python3,python3-venv,ca-certificates")
BASE_IMAGE = (
    "localhost/kfn-test-base:"
    + f"{BASE_RECIPE[0]}-{hashlib.sha256(repr(BASE_RECIPE).encode()).hexdigest()[:12]}"
)
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CONTAINERS_CONF = """\
# podman on a host without systemd cgroups, where the default ulimits cannot be set
[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
"""
NEEDED = {"podman": "podman", "runc": "runc", "mmdebstrap": "mmdebstrap"}


def cannot_run(reason: str) -> None:
    """Skip on a user's machine; fail in CI, where the setup scripts installed everything."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"container tests cannot run in CI: {reason}")
    pytest.skip(f"containers cannot run here: {reason}")


@pytest.fixture(scope="session")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Podman:
    missing = [package for tool, package in NEEDED.items() if shutil.which(tool) is None]
    if missing:
        cannot_run(f"install {' '.join(missing)} (e.g. apt-get install {' '.join(missing)})")
    env = dict(os.environ)
    if "CONTAINERS_CONF" not in env:
        conf = tmp_path_factory.mktemp("podman") / "containers.conf"
        conf.write_text(CONTAINERS_CONF, encoding="utf-8")
        env["CONTAINERS_CONF"] = str(conf)
    env.setdefault("BUILDAH_ISOLATION", "chroot")
    return Podman(env)


@pytest.fixture(scope="session")
def run_tag() -> str:
    """A suffix for this run's image tags, unique on the machine."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def base_image(podman: Podman, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Debian image with python3, made once and then reused from podman's storage."""
    if podman.call("image", "exists", BASE_IMAGE).returncode != 0:
        suite, variant, packages = BASE_RECIPE
        tarball = tmp_path_factory.mktemp("base") / "base.tar"
        options = ["--quiet", f"--variant={variant}", f"--include={packages}"]
        made = subprocess.run(
            ["mmdebstrap", *options, suite, str(tarball)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if made.returncode != 0:
            cannot_run(f"mmdebstrap could not make the base image: {made.stderr.strip()[-300:]}")
        imported = podman.call(
            "import", "--change", f"ENV PATH={SYSTEM_PATH}", str(tarball), BASE_IMAGE
        )
        tarball.unlink()
        if imported.returncode != 0:
            cannot_run(f"podman import failed: {imported.stderr.strip()[-300:]}")
    ran = podman.call("run", "--rm", "--network", "none", BASE_IMAGE, "python3", "-c", "pass")
    if ran.returncode != 0:
        cannot_run(f"podman cannot run a container: {ran.stderr.strip()[-300:]}")
    return BASE_IMAGE


@pytest.fixture(scope="module")
def built(podman: Podman, base_image: str) -> Iterator[list[str]]:
    """The images a module built, removed when it is done."""
    images: list[str] = []
    yield images
    for image in images:
        podman.call("rmi", "--force", image)


@pytest.fixture(scope="module")
def intermediates(podman: Podman) -> Iterator[list[str]]:
    """The intermediate images of a module's builds (see `build_ids`), removed after its images.

    Request it before `built`: its clean-up then runs last, when the images are gone and
    only the build stage's images are left. Ones another build still uses stay.
    """
    ids: list[str] = []
    yield ids
    if ids:
        podman.call("rmi", "--ignore", *ids)


BUILD_STEP = re.compile(r"^--> ([0-9a-f]{11,64})$", re.MULTILINE)


def build_ids(output: str) -> list[str]:
    """The image each step of a podman build committed, as its output names them."""
    return BUILD_STEP.findall(output)


def kfn_build(
    podman: Podman,
    project: Path,
    image: str,
    base_image: str | None = None,
    *,
    options: Sequence[str] = (),
    kfn: Sequence[str] = (sys.executable, "-m", "kfn"),
    env: Mapping[str, str] | None = None,
) -> str:
    """`kfn build --engine podman` as a user runs it; the build's output, for failures."""
    command = ["build", "--engine", "podman", "--image", image, *options]
    if base_image is not None:
        command += ["--base-image", base_image]
    result = subprocess.run(
        [*kfn, *command, "--project", str(project)],
        capture_output=True,
        text=True,
        env=podman.env if env is None else dict(env),
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
    return result.stderr + result.stdout
