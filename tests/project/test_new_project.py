"""A project of one's own, as a new user gets it: the built wheel in a fresh virtualenv,
`kfn new demo`, then `pip install -e '.[dev]'`, `pytest`, `kfn run`, `kfn invoke` and
`kfn manifests` in it, each as the user types it (no flags beyond the README's).

One virtualenv per session; every server a test starts, the test stops.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.user_venv import Venv, check

WARNING = re.compile(r"warning", re.IGNORECASE)


@pytest.fixture(scope="session")
def venv(user_venv: Venv) -> Venv:
    """The session's user virtualenv (tests/user_venv.py): kfn-host from this checkout."""
    return user_venv


@pytest.fixture(scope="session")
def demo(venv: Venv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`kfn new demo`, then `pip install -e '.[dev]'` in it (kfn-host from the wheel)."""
    home = tmp_path_factory.mktemp("projects")
    check(venv.run("kfn", "new", "demo", cwd=home), "kfn new demo")
    project = home / "demo"
    installed = venv.pip(
        "install",
        "--no-build-isolation",
        "--no-compile",
        "--find-links",
        str(venv.wheelhouse),
        "-e",
        ".[dev]",
        cwd=project,
    )
    check(installed, "pip install -e '.[dev]' in the new project")
    return project


def test_the_wheel_builds_and_installs_without_packaging_warnings(venv: Venv) -> None:
    assert not WARNING.search(venv.install_output), venv.install_output


def test_kfn_version_names_the_installed_distribution(venv: Venv, tmp_path: Path) -> None:
    result = venv.run("kfn", "--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"kfn-host \d+\.\d+\.\d+\S*\n", result.stdout)


def test_kfn_new_writes_a_project_with_functions_tests_and_settings(demo: Path) -> None:
    files = {str(p.relative_to(demo)) for p in demo.rglob("*") if p.is_file()}
    assert {
        "pyproject.toml",
        "README.md",
        "functions/__init__.py",
        "functions/greet.py",
        "functions/orders.py",
        "tests/test_greet.py",
        "tests/test_orders.py",
    } <= files
    pyproject = (demo / "pyproject.toml").read_text()
    assert 'dependencies = ["kfn-host>=' in pyproject
    assert "[tool.kfn]" in pyproject and 'name = "demo"' in pyproject


def kfn_here(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`kfn ...` from this checkout's own install (measured by coverage, no fresh venv)."""
    environ = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "KFN_FUNCTIONS"}}
    return subprocess.run(
        [sys.executable, "-m", "kfn", *args], cwd=cwd, env=environ, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip


def test_kfn_new_refuses_a_folder_that_exists(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "notes.txt").write_text("mine")
    result = kfn_here("new", "demo", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "kfn: demo already exists here; choose another name or remove it\n"
    assert [p.name for p in (tmp_path / "demo").iterdir()] == ["notes.txt"]


def test_kfn_new_refuses_a_file_of_that_name(tmp_path: Path) -> None:
    (tmp_path / "demo").write_text("a file")
    result = kfn_here("new", "demo", cwd=tmp_path)
    assert result.returncode == 2
    assert "demo already exists here" in result.stderr
    assert (tmp_path / "demo").read_text() == "a file"


def test_kfn_new_refuses_a_name_knative_cannot_take(tmp_path: Path) -> None:
    result = kfn_here("new", "My_Shop", cwd=tmp_path)
    assert result.returncode == 2
    assert "lower-case letters" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "My_Shop").exists()


def test_kfn_new_fills_an_empty_folder_with_a_project_kfn_can_load(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    result = kfn_here("new", "shop", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("kfn: created shop/ with .gitignore, README.md, ")
    assert "cd shop\n  pip install -e '.[dev]'" in result.stdout
    project = tmp_path / "shop"
    assert ".venv/" in (project / ".gitignore").read_text()
    assert not list(project.rglob("*.tmpl"))
    assert 'name = "shop"' in (project / "pyproject.toml").read_text()
    listed = kfn_here("list", cwd=project)  # the registration check kfn run makes
    assert listed.returncode == 0, listed.stderr
    assert "hello" in listed.stdout and "accept" in listed.stdout


@pytest.mark.parametrize("command", [["pytest"], ["python", "-m", "pytest"]])
def test_the_new_projects_tests_pass(venv: Venv, demo: Path, command: list[str]) -> None:
    result = venv.run(*command, "-q", "-p", "no:cacheprovider", cwd=demo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b3 passed\b", result.stdout), result.stdout
    assert "warning" not in result.stdout.lower(), result.stdout


@pytest.fixture(scope="module")
def served(venv: Venv, demo: Path) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """`kfn run` in the project, on the port its [tool.kfn] names; stopped after the test."""
    port = free_port()
    pyproject = demo / "pyproject.toml"
    original = pyproject.read_text()
    pyproject.write_text(re.sub(r"(?m)^port = \d+", f"port = {port}", original))
    process = subprocess.Popen(
        ["kfn", "run"],
        cwd=demo,
        env=venv.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/readiness").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "kfn run did not get ready in 20 s"
            time.sleep(0.05)
        yield port, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()
        pyproject.write_text(original)


def test_kfn_run_serves_the_http_function(served: tuple[int, subprocess.Popen[str]]) -> None:
    port, _ = served
    response = httpx.get(f"http://127.0.0.1:{port}/hello", params={"name": "you"})
    assert response.json() == {"greeting": "hello you"}


def test_kfn_invoke_reaches_kfn_run_on_the_configured_port(
    venv: Venv, demo: Path, served: tuple[int, subprocess.Popen[str]]
) -> None:
    result = venv.run(
        "kfn",
        "invoke",
        "--type",
        "com.example.order.received",
        "--data",
        '{"order_id": "o-1", "quantity": 2}',
        cwd=demo,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("200 OK")
    assert "type: com.example.order.accepted" in result.stdout


def test_kfn_manifests_writes_deploy(venv: Venv, demo: Path) -> None:
    result = venv.run("kfn", "manifests", cwd=demo)
    assert result.returncode == 0, result.stderr
    written = {p.name for p in (demo / "deploy").iterdir()}
    assert {"services.yaml", "triggers.yaml", "kustomization.yaml", "Dockerfile"} <= written
    services = (demo / "deploy" / "services.yaml").read_text()
    assert "name: demo" in services
    assert "image: registry.example.com/demo:0.1.0" in services
