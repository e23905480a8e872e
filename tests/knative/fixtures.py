"""Session fixtures for Knative's own code: the oracle's commands and the pinned CRDs.

Loaded by tests/conftest.py as a plugin, so any suite can ask for them. Each oracle
process starts on first use and is stopped when the session ends. Without Go, the
tests that need it (they use these fixtures, or carry the `needs_go` mark) are not
run and the session says so in one line; under CI=true they run and fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.deploy.crd_validation import CrdValidator
from tests.knative.go import EVENTING, MISSING_GO, SERVING, module_dir, oracle_binary
from tests.knative.oracle_client import Oracle


def _started(command: str, *args: str) -> Iterator[Oracle]:
    oracle = Oracle(oracle_binary(), command, *args)
    yield oracle
    oracle.close()


@pytest.fixture(scope="session")
def knative_admission() -> Iterator[Oracle]:
    """`oracle admit`: manifests through the webhooks, with the released config maps."""
    yield from _started(
        "admit",
        "-eventing-config",
        str(module_dir(EVENTING) / "config" / "core" / "configmaps"),
        "-serving-config",
        str(module_dir(SERVING) / "config" / "core" / "configmaps"),
    )


@pytest.fixture(scope="session")
def knative_filter() -> Iterator[Oracle]:
    """`oracle filter`: events through the broker ingress and a Trigger's filters."""
    yield from _started("filter")


@pytest.fixture(scope="session")
def knative_cesql() -> Iterator[Oracle]:
    """`oracle cesql`: expressions through cloudevents sdk-go sql/v2."""
    yield from _started("cesql")


@pytest.fixture(scope="session")
def crds() -> CrdValidator:
    """The CRDs of the pinned Eventing and Serving releases (their config/ YAML), strict."""
    return CrdValidator(
        [
            module_dir(EVENTING) / "config" / "core" / "resources",
            module_dir(SERVING) / "config" / "core" / "300-resources",
        ]
    )


GO_FIXTURES = frozenset({"knative_admission", "knative_filter", "knative_cesql", "crds"})
_not_run: list[int] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "needs_go: the test reads pinned Go modules or runs the oracle"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("go") is not None or os.environ.get("CI") == "true":
        return
    needing = [
        item
        for item in items
        if item.get_closest_marker("needs_go")
        or GO_FIXTURES & set(getattr(item, "fixturenames", ()))
    ]
    if needing:
        config.hook.pytest_deselected(items=needing)
        items[:] = [item for item in items if item not in needing]
        _not_run.append(len(needing))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _not_run:
        terminalreporter.write_line(f"{sum(_not_run)} tests not run. {MISSING_GO}.", yellow=True)
