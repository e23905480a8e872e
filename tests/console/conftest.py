"""The example app under `kfn run` for the console tests, and a headless Chromium driven by Playwright.

The browser is Debian's `chromium` package, launched by Playwright through its
executable path (Playwright's own browser download cannot work offline). Under CI
a missing browser fails the run; elsewhere the browser tests skip, saying what to
install.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, Server, start_server

CHROMIUM = os.environ.get("KFN_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="session")
def console_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`kfn run` on the example app: local broker, schedules and console on, as on a laptop."""
    server = start_server(
        "functions",
        {
            "SHOP_ARCHIVE": str(tmp_path_factory.mktemp("shop") / "archive.jsonl"),
            "KFN_LOG_FORMAT": "json",
        },
    )
    yield server
    server.stop()  # SIGTERM: the server writes its coverage data


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must install it: .ci/setup.d/40-chromium.sh)")
    pytest.skip(f"{what}: install it to run the browser tests")


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A fresh headless Chromium profile; closed (and the browser stopped) after the module.

    Playwright's sync API runs an event loop in this thread while it is open, so it
    must not outlive the browser tests (asyncio tests after them need the thread).
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[dev]')")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1100},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where browser tests keep what they saw (screenshots); not committed."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
