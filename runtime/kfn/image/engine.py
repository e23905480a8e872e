"""The container engine: which one works here, and the commands kfn gives it.

podman and docker take the same build, run and push commands; they differ in how a
build is made reproducible (podman's `--timestamp`, BuildKit's `SOURCE_DATE_EPOCH`).
podman reads its own configuration (CONTAINERS_CONF, BUILDAH_ISOLATION), so kfn passes
no runtime flags and a machine-specific setup stays in the engine's configuration.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kfn.image.errors import BuildError

ENGINES = ("docker", "podman")
CHECK_TIMEOUT = 20
INSTALL = {
    "podman": "podman (Debian and Ubuntu: `apt-get install podman`; https://podman.io/docs/installation)",
    "docker": "docker (https://docs.docker.com/engine/install/)",
}
RUNTIME_HINT = (
    "podman could not start a container here. On hosts where crun or the default ulimits fail "
    "(error setting rlimits, cgroup errors), install runc and point CONTAINERS_CONF at a "
    'containers.conf with `[containers] default_ulimits = []` and `[engine] runtime = "runc"`, '
    '`cgroup_manager = "cgroupfs"`; builds inside a container also need BUILDAH_ISOLATION=chroot'
)


@dataclass(frozen=True)
class Engine:
    """A container engine on PATH whose engine answers; `name` is the command."""

    name: str

    def build(
        self,
        *,
        dockerfile: Path,
        context: Path,
        image: str,
        build_args: Mapping[str, str],
        platform: str | None,
        epoch: int,
    ) -> list[str]:
        """Build `context` with `dockerfile`; every file in the new layers dated `epoch`."""
        command = [self.name, "build", "--file", str(dockerfile), "--tag", image]
        for key, value in build_args.items():
            command += ["--build-arg", f"{key}={value}"]
        if self.name == "podman":
            command += ["--timestamp", str(epoch)]
        else:
            command += ["--build-arg", f"SOURCE_DATE_EPOCH={epoch}"]
        if platform:
            command += ["--platform", platform]
        return [*command, str(context)]

    def run(
        self,
        image: str,
        *,
        options: Sequence[str] = (),
        platform: str | None = None,
        entrypoint: str | None = None,
        arguments: Sequence[str] = (),
    ) -> list[str]:
        command = [self.name, "run", "--rm", *options]
        if platform:
            command += ["--platform", platform]
        if entrypoint:
            command += ["--entrypoint", entrypoint]
        return [*command, image, *arguments]

    def stop(self, container: str, timeout: int) -> list[str]:
        return [self.name, "stop", "--time", str(timeout), container]

    def push(self, image: str) -> list[str]:
        return [self.name, "push", image]

    def cannot_run(self, detail: str) -> str:
        """Why a container did not start, with what usually fixes it on this engine."""
        if self.name == "podman" and any(
            word in detail for word in ("rlimit", "cgroup", "crun", "OCI runtime")
        ):
            return f"{detail}. {RUNTIME_HINT}"
        return detail


def find(wanted: str | None) -> Engine:
    """`wanted`, or the first of docker and podman that is installed and whose engine answers."""
    candidates = (wanted,) if wanted else ENGINES
    installed = [name for name in candidates if shutil.which(name)]
    if not installed:
        names = " or ".join(INSTALL[name] for name in candidates)
        raise BuildError(f"no container engine found: install {names}")
    problems = []
    for name in installed:
        try:
            result = subprocess.run(
                [name, "info"], capture_output=True, text=True, timeout=CHECK_TIMEOUT
            )
        except subprocess.TimeoutExpired:
            problems.append(f"{name} did not answer `{name} info` within {CHECK_TIMEOUT} s")
            continue
        if result.returncode == 0:
            return Engine(name)
        problems.append(
            f"{name} is installed but its engine is not running "
            f"({last_line(result.stderr or result.stdout)})"
        )
    raise BuildError(
        "; ".join(problems) + ". Start it (e.g. Docker Desktop, `sudo systemctl start docker`, "
        "`podman machine start`) and run kfn build again"
    )


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
