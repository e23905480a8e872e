"""Sender identity in a `kfn new` project whose kfn-host has no `oidc` extra (so no PyJWT).

In the session's user virtualenv (tests/user_venv.py: kfn-host[deploy] from this
checkout), `kfn manifests` refuses `sender-identity = true` and says what to add, and
`kfn run` with KFN_OIDC_AUDIENCE stops at startup with one clear line, no traceback.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.user_venv import Venv, check


@pytest.fixture(scope="module")
def guarded(user_venv: Venv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`kfn new guarded` with `sender-identity = true` in its [tool.kfn]."""
    home = tmp_path_factory.mktemp("guarded")
    check(user_venv.run("kfn", "new", "guarded", cwd=home), "kfn new guarded")
    project = home / "guarded"
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "sender-identity = true\n")
    return project


def test_the_virtualenv_has_no_jose_library(user_venv: Venv, guarded: Path) -> None:
    result = user_venv.run("python", "-c", "import jwt", cwd=guarded)
    assert "No module named 'jwt'" in result.stderr


def test_kfn_manifests_says_to_depend_on_the_oidc_extra(user_venv: Venv, guarded: Path) -> None:
    result = user_venv.run("kfn", "manifests", cwd=guarded)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    requirement = re.search(r'for "(kfn-host>=[^"]+)"', line)
    assert requirement is not None, line
    wanted = requirement.group(1).replace("kfn-host", "kfn-host[oidc]")
    assert line.startswith("kfn: [tool.kfn] sender-identity = true makes the host check OIDC")
    assert f'write "{wanted}" for "{requirement.group(1)}" in [project] dependencies' in line
    assert not (guarded / "deploy").exists()


def test_kfn_run_with_an_audience_stops_at_startup_with_a_clear_line(
    user_venv: Venv, guarded: Path
) -> None:
    env = user_venv.env()
    env["KFN_OIDC_AUDIENCE"] = "serving.knative.dev/service/default/guarded"
    result = subprocess.run(
        ["kfn", "run", "--port", str(free_port())],
        cwd=guarded,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 3, output  # uvicorn's code for a failed startup
    assert "Traceback" not in output
    assert (
        "startup failed: KFN_OIDC_AUDIENCE is set, but the JOSE library sender identity needs "
        "is not installed: pip install 'kfn-host[oidc]'"
    ) in output
    assert result.stderr.splitlines()[-1] == "kfn: the app did not start (see the error above)"
