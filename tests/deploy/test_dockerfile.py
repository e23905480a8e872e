"""The Dockerfile in deploy/: multi-stage, slim, non-root, dependencies from pyproject.toml."""

from __future__ import annotations

import re

from kfn.deploy.dockerfile import COMMAND
from tests.deploy.conftest import REPO
from tests.deploy.dockerfile_parsing import command, ignore_patterns, ignored, stages

DOCKERFILE = (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")
IGNORE = ignore_patterns((REPO / "deploy" / "Dockerfile.dockerignore").read_text(encoding="utf-8"))


def test_two_stages_on_a_slim_python_base() -> None:
    build, run = stages(DOCKERFILE)
    assert build.name == "build"
    for stage in (build, run):
        assert re.fullmatch(r"python:3\.\d+-slim", stage.base), stage.base
    assert run.base == build.base  # the venv's interpreter links stay valid


def test_dependencies_come_from_pyproject_before_the_code() -> None:
    build = stages(DOCKERFILE)[0]
    copies = build.all("COPY")
    assert copies.index("pyproject.toml ./") < copies.index(". .")
    runs = " ".join(build.all("RUN"))
    assert "tomllib" in runs and "pip install -r requirements.txt" in runs
    assert "pip install --no-deps ." in runs


def test_the_final_stage_compiles_bytecode_and_runs_as_a_numeric_non_root_user() -> None:
    run = stages(DOCKERFILE)[-1]
    assert any("compileall" in line for line in run.all("RUN"))
    (user,) = run.all("USER")
    uid, gid = (int(part) for part in user.split(":"))
    assert uid > 0 and gid > 0
    assert "COPY --from=build /opt/venv /opt/venv" in [f"COPY {c}" for c in run.all("COPY")]


def test_the_command_runs_the_host_on_all_interfaces_and_reads_port_from_the_env() -> None:
    run = stages(DOCKERFILE)[-1]
    assert command(run) == list(COMMAND)
    assert "--port" not in command(run)  # $PORT comes from Knative through the environment
    assert run.all("ENTRYPOINT") == []
    assert run.all("EXPOSE") == ["8080"]


def test_the_ignore_file_keeps_the_context_small_but_complete() -> None:
    for path in (".git", ".venv", "tests", "bench", "runtime/kfn/__pycache__", "kfn_host.egg-info"):
        assert ignored(path, IGNORE), path
    for path in (
        "pyproject.toml",
        "runtime/kfn/app.py",
        "functions/orders.py",
        "deploy/Dockerfile",
    ):
        assert not ignored(path, IGNORE), path
