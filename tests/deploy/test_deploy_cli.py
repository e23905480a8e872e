"""`kfn manifests`, `kfn build` and `kfn deploy` as a user runs them, with fake docker and kubectl."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kfn.deploy import render
from tests.deploy.conftest import REPO

PYPROJECT = """\
[project]
name = "demo"
version = "0.1.0"

[tool.kfn]
functions = ["handlers"]
image = "registry.example.com/demo:1"
"""
HANDLERS = """\
from kfn import cloudevent, http, schedule

@http("/hi")
async def hi() -> dict:
    return {}

@cloudevent(type="demo.created", emits=["demo.done"])
async def created(event) -> None:
    return None

@schedule("@hourly", data={"job": "tick"})
async def tick(event) -> None:
    return None
"""
CAT = shutil.which("cat") or "/bin/cat"
KNATIVE_RESOURCES = """\
services.serving.knative.dev
triggers.eventing.knative.dev
pingsources.sources.knative.dev
sinkbindings.sources.knative.dev
eventtypes.eventing.knative.dev
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (folder / "handlers.py").write_text(HANDLERS, encoding="utf-8")
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


def kfn(project: Path, *args: str, path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if path is not None:
        env["PATH"] = str(path)
    return subprocess.run(
        [sys.executable, "-m", "kfn", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


# -- kfn manifests ------------------------------------------------------------------------


def test_manifests_writes_deploy_and_then_finds_it_up_to_date(project: Path) -> None:
    result = kfn(project, "manifests")
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (project / "deploy").iterdir())
    assert names == [
        "Dockerfile",
        "eventtypes.yaml",
        "kustomization.yaml",
        "pingsources.yaml",
        "services.yaml",
        "sinkbindings.yaml",
        "triggers.yaml",
    ]
    assert "KFN_FUNCTIONS=handlers" in (project / "deploy" / "Dockerfile").read_text()
    again = kfn(project, "manifests")
    assert "is up to date" in again.stdout
    assert kfn(project, "manifests", "--check").returncode == 0


def test_manifests_check_fails_on_drift_and_names_the_files(project: Path) -> None:
    kfn(project, "manifests")
    (project / "handlers.py").write_text(HANDLERS.replace("demo.created", "demo.made"))
    result = kfn(project, "manifests", "--check")
    assert result.returncode == 1
    assert "triggers.yaml" in result.stderr and "run `kfn manifests`" in result.stderr


def test_manifests_removes_what_it_no_longer_generates_and_keeps_hand_written_files(
    project: Path,
) -> None:
    kfn(project, "manifests")
    (project / "deploy" / "Dockerfile").write_text("FROM scratch\n")  # no kfn header
    (project / "handlers.py").write_text(HANDLERS.split("@schedule")[0])
    result = kfn(project, "manifests")
    assert result.returncode == 0, result.stderr
    assert not (project / "deploy" / "pingsources.yaml").exists()
    assert (project / "deploy" / "Dockerfile").read_text() == "FROM scratch\n"
    assert "kept deploy/Dockerfile" in result.stderr


def test_manifests_to_stdout_with_overrides(project: Path) -> None:
    result = kfn(
        project, "manifests", "--stdout", "--image", "other.example/x:2", "--namespace", "team"
    )
    assert result.returncode == 0, result.stderr
    documents = render.load_all(result.stdout)
    assert {d["metadata"]["namespace"] for d in documents} == {"team"}
    service = documents[0]
    assert service["spec"]["template"]["spec"]["containers"][0]["image"] == "other.example/x:2"
    assert not (project / "deploy").exists()


def test_a_settings_error_is_one_line_naming_the_key(project: Path) -> None:
    (project / "pyproject.toml").write_text(PYPROJECT + "\n[tool.kfn.scale]\nmax-scal = 3\n")
    result = kfn(project, "manifests")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "kfn: tool.kfn.scale.max-scal: unknown key (did you mean 'max-scale'?); the keys "
        "are class, min-scale, max-scale, initial-scale, activation-scale, metric, target, "
        "target-utilization-percentage, target-burst-capacity, window, panic-window-percentage, "
        "panic-threshold-percentage, scale-down-delay, scale-to-zero-pod-retention-period, "
        "metric-aggregation-algorithm"
    )


def test_a_broken_functions_module_is_reported(project: Path) -> None:
    (project / "handlers.py").write_text("import nothing_here\n")
    result = kfn(project, "manifests")
    assert result.returncode == 2
    assert "nothing_here" in result.stderr and "Traceback" not in result.stderr


# -- kfn deploy -------------------------------------------------------------------------------


def test_deploy_dry_run_prints_the_manifests_without_kubectl(project: Path, bin_dir: Path) -> None:
    result = kfn(project, "deploy", "--image", "r.example/demo:1", "--dry-run", path=bin_dir)
    assert result.returncode == 0, result.stderr
    kinds = [d["kind"] for d in render.load_all(result.stdout)]
    # The public Service's event functions run in a cluster-local Service of their own.
    assert kinds == [
        "Service",
        "Service",
        "SinkBinding",
        "Trigger",
        "PingSource",
        "EventType",
        "EventType",
    ]


def test_deploy_without_kubectl_says_so(project: Path, bin_dir: Path) -> None:
    result = kfn(project, "deploy", "--image", "r.example/demo:1", path=bin_dir)
    assert result.returncode == 2
    assert "kubectl not found" in result.stderr


def test_deploy_without_a_cluster_says_so(project: Path, bin_dir: Path) -> None:
    fake(
        bin_dir,
        "kubectl",
        """\
        echo 'The connection to the server localhost:8080 was refused' >&2
        exit 1
        """,
    )
    result = kfn(project, "deploy", "--image", "r.example/demo:1", path=bin_dir)
    assert result.returncode == 2
    assert "kubectl cannot reach a cluster (The connection to the server" in result.stderr


def test_deploy_without_knative_eventing_says_what_to_install(project: Path, bin_dir: Path) -> None:
    fake(bin_dir, "kubectl", "echo services.serving.knative.dev\necho pods\n")
    result = kfn(project, "deploy", "--image", "r.example/demo:1", path=bin_dir)
    assert result.returncode == 2
    assert "no eventtypes.eventing.knative.dev: install Knative Eventing" in result.stderr


def test_deploy_applies_the_generated_manifests(
    project: Path, bin_dir: Path, tmp_path: Path
) -> None:
    applied = tmp_path / "applied.yaml"
    fake(
        bin_dir,
        "kubectl",
        f"""\
        case "$*" in
          *api-resources*) printf '{KNATIVE_RESOURCES}' ;;
          *apply*) echo "$*" > {tmp_path / "args"}; {CAT} > {applied} ;;
        esac
        """,
    )
    result = kfn(project, "deploy", "--image", "r.example/demo:1", "--prune", path=bin_dir)
    assert result.returncode == 0, result.stderr
    dry = kfn(project, "deploy", "--image", "r.example/demo:1", "--dry-run")
    assert applied.read_text() == dry.stdout
    arguments = (tmp_path / "args").read_text()
    assert (
        "apply -f - --prune -l app.kubernetes.io/part-of=demo,app.kubernetes.io/managed-by=kfn"
        in arguments
    )
    assert "--prune-allowlist serving.knative.dev/v1/Service" in arguments
    assert "kubectl get ksvc -n default" in result.stdout


def test_a_failing_apply_is_an_error(project: Path, bin_dir: Path) -> None:
    fake(
        bin_dir,
        "kubectl",
        f"""\
        case "$*" in
          *api-resources*) printf '{KNATIVE_RESOURCES}' ;;
          *apply*) echo 'admission webhook denied the request' >&2; exit 1 ;;
        esac
        """,
    )
    result = kfn(project, "deploy", "--image", "r.example/demo:1", path=bin_dir)
    assert result.returncode == 2
    assert "admission webhook denied" in result.stderr
    assert "kubectl apply failed (exit 1)" in result.stderr


# -- the serving path stays light -----------------------------------------------------------


def test_the_serving_path_never_imports_the_generator() -> None:
    code = (
        "import sys, kfn.app, kfn.cli, kfn.cli.run\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('kfn.deploy') or m == 'yaml')\n"
        "print(loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
