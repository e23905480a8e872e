"""`kfn build` and `kfn run --container` when the engine is missing or cannot run, with fakes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO

PYPROJECT = """\
[project]
name = "demo"
version = "0.1.0"
dependencies = ["kfn-host"]

[tool.kfn]
functions = ["handlers"]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (folder / "handlers.py").write_text("", encoding="utf-8")
    return folder


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """A PATH with nothing on it but the fakes a test writes."""
    folder = tmp_path / "bin"
    folder.mkdir()
    return folder


def fake(bin_dir: Path, name: str, script: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + textwrap.dedent(script), encoding="utf-8")
    path.chmod(0o755)


def kfn(project: Path, bin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PATH": str(bin_dir)}
    return subprocess.run(
        [sys.executable, "-m", "kfn", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def build(project: Path, bin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return kfn(project, bin_dir, "build", "--image", "registry.example.com/demo:1", *args)


def test_without_an_engine_the_error_says_what_to_install(project: Path, bin_dir: Path) -> None:
    result = build(project, bin_dir)
    assert_clean_failure(result)
    assert "no container engine found: install docker" in result.stderr
    assert "apt-get install podman" in result.stderr and "Traceback" not in result.stderr
    assert (project / "deploy" / "Dockerfile").is_file()  # written before looking for an engine


DAEMONLESS_DOCKER = """\
echo "Client:"
echo " Version:    27.3.1"
echo " Context:    default"
echo
echo "Server:"
echo "ERROR: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2
echo "errors pretty printing info" >&2
exit 1
"""
"""What a docker client prints for `docker info` when no daemon answers (stdout and stderr)."""


def assert_clean_failure(result: subprocess.CompletedProcess[str]) -> None:
    """The CLI's convention: exit 2, one `kfn:` line on stderr, no traceback."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("kfn: ") for line in lines), result.stderr
    assert "[1/5]" not in result.stderr  # no build step began


@pytest.mark.parametrize("engine", [[], ["--engine", "docker"]], ids=["auto", "docker"])
def test_a_docker_without_its_daemon_is_named_with_its_error_and_what_to_do(
    project: Path, bin_dir: Path, engine: list[str]
) -> None:
    fake(bin_dir, "docker", DAEMONLESS_DOCKER)
    result = build(project, bin_dir, *engine)
    assert_clean_failure(result)
    assert "docker is installed but cannot reach the Docker daemon (Cannot connect" in result.stderr
    assert "errors pretty printing info" not in result.stderr
    assert "sudo systemctl start docker" in result.stderr
    assert "install podman, which needs no daemon (Debian and Ubuntu: `apt-get install podman`" in (
        result.stderr
    )


def test_with_engine_docker_and_no_docker_the_error_says_what_to_install(
    project: Path, bin_dir: Path
) -> None:
    fake(bin_dir, "podman", "exit 0\n")  # installed and working, but not the one asked for
    result = build(project, bin_dir, "--engine", "docker")
    assert_clean_failure(result)
    assert "--engine docker: docker is not on PATH: install docker (https://docs.docker.com" in (
        result.stderr
    )
    assert "or build with podman (--engine podman)" in result.stderr


def test_automatic_choice_passes_over_a_daemonless_docker_to_a_working_podman(
    project: Path, bin_dir: Path
) -> None:
    fake(bin_dir, "docker", DAEMONLESS_DOCKER)
    fake(
        bin_dir, "podman", '[ "$1" = info ] && exit 0\necho "Error: no such image" >&2\nexit 125\n'
    )
    result = build(project, bin_dir)
    assert result.returncode == 2
    assert "[1/5] container engine: podman" in result.stderr
    assert "podman could not run the base image" in result.stderr


def test_a_docker_refused_the_socket_points_at_the_docker_group(
    project: Path, bin_dir: Path
) -> None:
    denied = (
        "permission denied while trying to connect to the Docker daemon socket at "
        "unix:///var/run/docker.sock"
    )
    fake(bin_dir, "docker", f'echo "{denied}" >&2\nexit 1\n')
    result = build(project, bin_dir, "--engine", "docker")
    assert_clean_failure(result)
    assert denied in result.stderr and "sudo usermod -aG docker" in result.stderr


def test_a_podman_whose_info_fails_says_so_in_its_own_words(project: Path, bin_dir: Path) -> None:
    fake(bin_dir, "podman", 'echo "Error: cannot connect to Podman socket" >&2\nexit 125\n')
    result = build(project, bin_dir, "--engine", "podman")
    assert_clean_failure(result)
    assert "podman is installed but `podman info` failed (Error: cannot connect" in result.stderr
    assert "podman machine start" in result.stderr


def test_podman_that_cannot_start_a_container_points_at_its_configuration(
    project: Path, bin_dir: Path
) -> None:
    fake(
        bin_dir,
        "podman",
        """\
        [ "$1" = info ] && exit 0
        echo "Error: runc create failed: error setting rlimits for ready process" >&2
        exit 126
        """,
    )
    result = build(project, bin_dir, "--engine", "podman")
    assert result.returncode == 2
    assert "podman could not run the base image python:3.13-slim" in result.stderr
    assert "CONTAINERS_CONF" in result.stderr and "default_ulimits = []" in result.stderr
    assert "[1/5] container engine: podman" in result.stderr


def test_a_base_image_with_an_old_python_is_refused(project: Path, bin_dir: Path) -> None:
    answer = '{"implementation": "cpython", "python": [3, 9], "machine": "x86_64", "glibc": "glibc 2.31", "musl": null}'
    fake(bin_dir, "podman", f"[ \"$1\" = info ] && exit 0\necho '{answer}'\n")
    result = build(project, bin_dir, "--engine", "podman", "--base-image", "python:3.9-slim")
    assert result.returncode == 2
    assert "python:3.9-slim has cpython 3.9; kfn needs CPython 3.11" in result.stderr


def test_a_bad_base_image_reference_is_refused(project: Path, bin_dir: Path) -> None:
    result = build(project, bin_dir, "--base-image", "Not An Image")
    assert result.returncode == 2 and "--base-image 'Not An Image'" in result.stderr


def test_run_in_a_container_without_an_engine_says_what_to_install(
    project: Path, bin_dir: Path
) -> None:
    result = kfn(project, bin_dir, "run", "--container")
    assert result.returncode == 2
    assert "no container engine found" in result.stderr and "Traceback" not in result.stderr


def test_a_docker_that_cannot_be_started_is_named(project: Path, bin_dir: Path) -> None:
    broken = bin_dir / "docker"
    broken.write_text("#!/nonexistent/interpreter\n", encoding="utf-8")
    broken.chmod(0o755)
    result = build(project, bin_dir, "--engine", "docker")
    assert_clean_failure(result)
    assert "docker could not be started (No such file or directory)" in result.stderr
