"""A user's virtualenv: kfn-host built from this checkout as a wheel and installed into it.

One per session, shared by the suites that drive kfn as a user does (tests/project,
tests/container): `kfn new`, `pip install -e '.[dev]'`, `kfn run`, `kfn build`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

INSTALL_TIMEOUT = 300
SOURCE = ("pyproject.toml", "README.md", "runtime")
"""What the wheel is built from."""


@dataclass
class Venv:
    root: Path
    wheelhouse: Path
    install_output: str

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def env(self) -> dict[str, str]:
        """The user's shell with the virtualenv activated: nothing of this repository."""
        environ = {
            key: value
            for key, value in os.environ.items()
            if key not in {"PYTHONPATH", "KFN_FUNCTIONS", "PORT", "PYTHONHOME"}
            and not key.startswith("PYTEST_")
        }
        environ["VIRTUAL_ENV"] = str(self.root)
        environ["PATH"] = f"{self.bin}{os.pathsep}{environ.get('PATH', '')}"
        return environ

    def run(
        self, *command: str, cwd: Path, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(command), cwd=cwd, env=self.env(), capture_output=True, text=True, timeout=timeout
        )

    def pip(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        """pip for the virtualenv (the suite's own pip, pointed at it with --python)."""
        return subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(self.bin / "python"), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
        )


def check(result: subprocess.CompletedProcess[str], what: str) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{what} failed:\n{output}"
    return output


@pytest.fixture(scope="session")
def user_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """kfn-host built as a wheel and installed, with pip and the test tools, into a new virtualenv.

    The virtualenv gets setuptools (and pip, which `kfn build` runs) first and builds
    without isolation, which saves creating a throwaway build environment for each of
    the two builds.
    """
    base = tmp_path_factory.mktemp("user")
    root, wheelhouse = base / "venv", base / "wheels"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    environment = Venv(root, wheelhouse, "")
    quiet = ("--no-compile", "--no-warn-script-location")
    tools = environment.pip("install", *quiet, "setuptools>=77", "pip", cwd=base)
    output = check(tools, "setuptools and pip")
    source = base / "source"  # setuptools builds in the tree: keep build/ out of the repository
    source.mkdir()
    for name in SOURCE:
        if (REPO / name).is_dir():
            skip = shutil.ignore_patterns("__pycache__", "*.egg-info")
            shutil.copytree(REPO / name, source / name, ignore=skip)
        else:
            shutil.copy2(REPO / name, source / name)
    build = environment.pip(
        "wheel", "--no-build-isolation", "--no-deps", "-w", str(wheelhouse), str(source), cwd=base
    )
    output += check(build, "building the wheel")
    (wheel,) = wheelhouse.glob("kfn_host-*.whl")
    install = environment.pip(
        "install",
        *quiet,
        f"kfn-host[deploy] @ {wheel.as_uri()}",
        "pytest>=8",
        "pytest-asyncio",
        cwd=base,
    )
    environment.install_output = output + check(install, "installing the wheel")
    return environment
