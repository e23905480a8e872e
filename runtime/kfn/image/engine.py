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
HOW_TO_INSTALL = {
    "podman": "Debian and Ubuntu: `apt-get install podman`; https://podman.io/docs/installation",
    "docker": "https://docs.docker.com/engine/install/",
}
INSTALL = {name: f"{name} ({how})" for name, how in HOW_TO_INSTALL.items()}
START = {
    "docker": "start the Docker daemon (`sudo systemctl start docker`, or open Docker Desktop)",
    "podman": "on macOS and Windows start podman's machine (`podman machine start`)",
}
PERMISSION_HINT = (
    "your user may not use the Docker daemon's socket: add it to the docker group "
    "(`sudo usermod -aG docker $USER`, then log in again)"
)
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
        cache: bool = True,
    ) -> list[str]:
        """Build `context` with `dockerfile`; every file in the new layers dated `epoch`."""
        command = [self.name, "build", "--file", str(dockerfile), "--tag", image]
        if not cache:
            command.append("--no-cache")
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
    """`wanted`, or the first of docker and podman that is installed and whose engine answers.

    Every way of failing ends in one message that names what to install or start:
    neither installed, the wanted one not installed, or installed but not answering
    (docker without its daemon, podman without its machine).
    """
    candidates = (wanted,) if wanted else ENGINES
    installed = [name for name in candidates if shutil.which(name)]
    if not installed:
        if wanted:
            raise BuildError(f"--engine {wanted}: {wanted} is not on PATH: {_install(wanted)}")
        names = " or ".join(INSTALL[name] for name in candidates)
        raise BuildError(f"no container engine found: install {names}")
    problems = []
    for name in installed:
        problem = _check(name)
        if problem is None:
            return Engine(name)
        problems.append(problem)
    raise BuildError("; ".join(problems) + ". " + _remedy(installed))


def _check(name: str) -> str | None:
    """None when `name info` answers; otherwise why not, in the engine's own words."""
    try:
        result = subprocess.run(
            [name, "info"], capture_output=True, text=True, timeout=CHECK_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return f"{name} did not answer `{name} info` within {CHECK_TIMEOUT} s"
    except OSError as error:
        return f"{name} could not be started ({error.strerror or error})"
    if result.returncode == 0:
        return None
    detail = engine_error(result.stderr + "\n" + result.stdout)
    if name == "docker":
        problem = f"docker is installed but cannot reach the Docker daemon ({detail})"
        if "permission denied" in detail.lower():
            problem += f"; {PERMISSION_HINT}"
        return problem
    return f"{name} is installed but `{name} info` failed ({detail})"


def _install(name: str) -> str:
    """What to install for `--engine name`, with the other engine as the alternative."""
    other = "podman" if name == "docker" else "docker"
    return f"install {INSTALL[name]}, or build with {other} (--engine {other})"


def _remedy(installed: list[str]) -> str:
    """What to do when every installed engine failed its check."""
    steps = [START[name] for name in installed]
    if "podman" not in installed:
        steps.append(f"install podman, which needs no daemon ({HOW_TO_INSTALL['podman']})")
    return "To build, " + "; or ".join(steps) + ", and run kfn again"


def engine_error(output: str) -> str:
    """The line of an engine's output that says what failed (not its last words).

    A docker client without its daemon prints its own information first and ends with
    `errors pretty printing info`; the line that matters names the daemon.
    """
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if "daemon" in line.lower() or "permission denied" in line.lower():
            return line.removeprefix("ERROR: ")
    for line in lines:
        if line.lower().startswith("error") and line != "errors pretty printing info":
            return line
    return lines[-1] if lines else "no output"


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
