"""`[tool.kfn]` is the one source of every command, and every command checks the functions
the same way: a user's project folder, the commands run in it as typed, no flags."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

WEB = """
from kfn import cloudevent, http


@http("/ping")
def ping() -> dict[str, str]:
    return {"pong": "yes"}


@cloudevent(type="test.echo", reply_type="test.echoed")
def echo(event_data: dict[str, int]) -> dict[str, int]:
    return event_data
"""


def write_project(folder: Path, tool_kfn: str, files: dict[str, str]) -> Path:
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "mine"\nversion = "0.1.0"\n\n[tool.kfn]\n' + textwrap.dedent(tool_kfn)
    )
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text))
    return folder


def environ(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PORT", "KFN_FUNCTIONS", "PYTHONPATH"}}
    return {**env, **extra}


def kfn(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kfn", *args],
        cwd=cwd,
        env=environ(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def running() -> Iterator[list[subprocess.Popen[str]]]:
    """`kfn run` processes a test starts; each is stopped after it."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def kfn_run(cwd: Path, running: list[subprocess.Popen[str]], port: int, *args: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "kfn", "run", *args],
        cwd=cwd,
        env=environ(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    running.append(process)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/readiness").status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    pytest.fail(f"kfn run did not serve on port {port}")


def test_run_and_invoke_use_the_functions_and_port_of_tool_kfn(
    tmp_path: Path, running: list[subprocess.Popen[str]]
) -> None:
    port = free_port()
    project = write_project(
        tmp_path, f'functions = ["webapp"]\nport = {port}\n', {"webapp.py": WEB}
    )
    kfn_run(project, running, port)
    assert httpx.get(f"http://127.0.0.1:{port}/ping").json() == {"pong": "yes"}
    result = kfn(project, "invoke", "--type", "test.echo", "--data", '{"n": 1}')
    assert result.returncode == 0, result.stderr
    assert "type: test.echoed" in result.stdout


def test_a_port_flag_overrides_tool_kfn(
    tmp_path: Path, running: list[subprocess.Popen[str]]
) -> None:
    configured, flagged = free_port(), free_port()
    project = write_project(
        tmp_path, f'functions = ["webapp"]\nport = {configured}\n', {"webapp.py": WEB}
    )
    kfn_run(project, running, flagged, "--port", str(flagged))
    result = kfn(project, "invoke", "--port", str(flagged), "--type", "test.echo", "--data", "{}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("200 OK")


def test_list_loads_the_functions_of_tool_kfn(tmp_path: Path) -> None:
    project = write_project(tmp_path, 'functions = ["webapp"]\n', {"webapp.py": WEB})
    result = kfn(project, "list")
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    assert names == ["ping", "echo"]
    assert result.stdout.splitlines()[1].split()[-1] == "mine"  # the Service, from [project]


def test_the_environment_overrides_tool_kfn_functions(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        'functions = ["webapp"]\n',
        {"webapp.py": WEB, "other.py": WEB.replace("ping", "pong").replace("echo", "again")},
    )
    result = kfn(project, "list", KFN_FUNCTIONS="other")
    assert [line.split()[0] for line in result.stdout.splitlines()[1:]] == ["pong", "again"]


def test_deploy_takes_the_image_of_tool_kfn(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        'functions = ["webapp"]\nimage = "registry.example.com/mine:1.0"\n',
        {"webapp.py": WEB},
    )
    result = kfn(project, "deploy", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "image: registry.example.com/mine:1.0" in result.stdout


def test_build_without_any_image_says_where_to_set_one(tmp_path: Path) -> None:
    project = write_project(tmp_path, 'functions = ["webapp"]\n', {"webapp.py": WEB})
    result = kfn(project, "build")
    assert result.returncode == 2
    assert "set [tool.kfn] image" in result.stderr


UNANNOTATED = """
from kfn import cloudevent


@cloudevent(type="test.answer")
def answer(event):
    return {"answer": 42}
"""


def test_run_list_and_manifests_refuse_a_data_reply_without_reply_type_alike(
    tmp_path: Path,
) -> None:
    project = write_project(
        tmp_path,
        'functions = ["answers"]\nimage = "registry.example.com/mine:1.0"\n',
        {"answers.py": UNANNOTATED},
    )
    message = re.compile(
        r"function 'answer' in answers\.answer \(.*answers\.py:\d+\): it returns a value "
        r"\(line 7\) but declares no reply_type"
    )
    for command in (["list"], ["manifests", "--stdout"]):
        result = kfn(project, *command)
        assert result.returncode == 2, (command, result.stdout)
        assert message.search(result.stderr), (command, result.stderr)
    run = kfn(project, "run", "--port", str(free_port()))
    assert run.returncode != 0
    assert message.search(run.stderr + run.stdout), run.stderr


def test_a_package_that_registers_nothing_names_the_module_it_never_imported(
    tmp_path: Path,
) -> None:
    project = write_project(tmp_path, "", {"functions/__init__.py": "", "functions/web.py": WEB})
    for command in (["list"], ["manifests", "--stdout"]):
        result = kfn(project, *command)
        assert result.returncode == 2
        assert result.stderr.startswith("kfn: no functions registered: imported functions,")
        assert "functions.web is never imported" in result.stderr
        assert "from functions import web" in result.stderr


def test_version_prints_the_distribution_and_its_version(tmp_path: Path) -> None:
    result = kfn(tmp_path, "--version")
    assert result.returncode == 0
    assert re.fullmatch(r"kfn-host \d+\.\d+\.\d+\S*\n", result.stdout)


def test_a_closed_pipe_ends_the_command_without_a_traceback(tmp_path: Path) -> None:
    project = write_project(tmp_path, 'functions = ["webapp"]\n', {"webapp.py": WEB})
    process = subprocess.Popen(
        [sys.executable, "-m", "kfn", "list"],
        cwd=project,
        env=environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before kfn writes, as with `| head -0`
    stderr = process.stderr.read()
    process.stderr.close()
    assert process.wait(30) == 1
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr


def test_run_list_and_manifests_refuse_a_wrong_key_in_one_line_naming_its_path(
    tmp_path: Path,
) -> None:
    project = write_project(
        tmp_path, '[tool.kfn.scale]\nmax-scale = "lots"\n', {"functions.py": WEB}
    )
    for command in (["list"], ["manifests", "--stdout"], ["run", "--port", str(free_port())]):
        result = kfn(project, *command)
        assert result.returncode == 2, (command, result.stdout)
        assert result.stderr == "kfn: tool.kfn.scale.max-scale = 'lots': must be a whole number\n"


def test_kfn_run_without_a_pyproject_never_loads_the_settings_model(tmp_path: Path) -> None:
    # The container's `kfn run` has no pyproject.toml: its start must not pay for pydantic.
    probe = (
        "import sys\nfrom kfn.cli import project\nassert project.load() is None\n"
        "print(sorted(m for m in sys.modules if m.startswith(('pydantic', 'kfn.deploy.s'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=environ(), capture_output=True, text=True
    )
    assert (result.returncode, result.stdout) == (0, "[]\n"), result.stderr
