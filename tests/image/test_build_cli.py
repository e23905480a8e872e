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
    assert result.returncode == 2
    assert "no container engine found: install docker" in result.stderr
    assert "apt-get install podman" in result.stderr and "Traceback" not in result.stderr
    assert (project / "deploy" / "Dockerfile").is_file()  # written before looking for an engine


def test_a_stopped_engine_is_named_with_its_own_error(project: Path, bin_dir: Path) -> None:
    fake(
        bin_dir, "docker", 'echo "Cannot connect to the Docker daemon at unix:///x." >&2; exit 1\n'
    )
    result = build(project, bin_dir)
    assert result.returncode == 2
    assert "docker is installed but its engine is not running" in result.stderr
    assert "Cannot connect to the Docker daemon" in result.stderr


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
