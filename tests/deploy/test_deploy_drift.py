"""deploy/ is exactly what the generator produces for functions/ and [tool.kfn] today."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from kfn.deploy.generate import is_generated
from tests.deploy.conftest import REPO

DEPLOY = REPO / "deploy"
GENERATE = """
import json
from pathlib import Path
from kfn.deploy.generate import generate, load_project
settings, registry = load_project(Path("."))
print(json.dumps(generate(settings, registry).files))
"""


@pytest.fixture(scope="module")
def expected() -> dict[str, str]:
    """The generator's files for the example app, from a fresh process (a clean registry)."""
    result = subprocess.run(
        [sys.executable, "-c", GENERATE], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    files: dict[str, str] = json.loads(result.stdout)
    return files


def test_deploy_holds_exactly_the_generated_files(expected: dict[str, str]) -> None:
    stale = [
        path.name
        for path in DEPLOY.iterdir()
        if path.is_file() and path.name not in expected and is_generated(path.read_text())
    ]
    missing = [name for name in expected if not (DEPLOY / name).is_file()]
    changed = [
        name
        for name, text in expected.items()
        if (DEPLOY / name).is_file() and (DEPLOY / name).read_text(encoding="utf-8") != text
    ]
    assert not (stale or missing or changed), (
        f"deploy/ drifted from the code (missing {missing}, changed {changed}, stale {stale}): "
        "run `kfn manifests` and commit the result"
    )


def test_the_cli_check_agrees() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kfn", "manifests", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="needs kubectl on PATH (kubernetes.io/docs/tasks/tools)"
)
def test_kustomize_renders_deploy_without_touching_the_knative_service(
    expected: dict[str, str],
) -> None:
    """`kubectl kustomize` works offline; `commonLabels` would add a selector to the ksvc."""
    result = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "selector" not in result.stdout
    assert result.stdout.count("app.kubernetes.io/part-of: shop") >= len(expected) - 3
