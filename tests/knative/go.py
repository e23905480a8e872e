"""The pytest side of tests/knative/oracle_build.py: no Go, no oracle suites; CI fails.

Without Go the tests that need it are left out with one line saying what to install
(tests/knative/fixtures.py); under CI=true they fail instead, so CI never passes by
skipping them.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

import pytest

from tests.knative import oracle_build
from tests.knative.oracle_build import CESQL, CONFORMANCE, EVENTING, SERVING, GoError

__all__ = ["CESQL", "CONFORMANCE", "EVENTING", "SERVING", "module_dir", "oracle_binary"]

MISSING_GO = (
    "Go is not installed: install Go 1.25 or newer (https://go.dev/dl/) to run the suites "
    "that check kfn against Knative's own code"
)


def _have_go() -> None:
    if shutil.which("go") is not None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {MISSING_GO}", pytrace=False)
    pytest.skip(MISSING_GO)


@functools.cache
def _module_dir(module: str) -> Path:
    return oracle_build.module_dir(module)


def module_dir(module: str) -> Path:
    """A pinned module's folder, for fixtures and tests (skips without Go)."""
    _have_go()
    try:
        return _module_dir(module)
    except GoError as error:
        pytest.fail(str(error), pytrace=False)


def module_dir_for_collection(module: str) -> Path | None:
    """module_dir() for module-level code that builds test parameters: None without Go.

    The module marks its tests `needs_go`, so without Go they are left out and the session
    says so in one line (under CI=true a missing Go is an error here).
    """
    if shutil.which("go") is None:
        if os.environ.get("CI") == "true":
            raise GoError(f"CI=true and {MISSING_GO}")
        return None
    return _module_dir(module)


@functools.cache
def _binary() -> Path:
    return oracle_build.oracle_binary()


def oracle_binary() -> Path:
    """The oracle, built once per source version (skips without Go)."""
    _have_go()
    try:
        return _binary()
    except GoError as error:
        pytest.fail(str(error), pytrace=False)
