"""Observability costs nothing it does not need: no OpenTelemetry import unless OTEL_* asks for it.

An event-only app: FastAPI, when an app has @http functions, imports opentelemetry-api
itself whenever it is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO

STARTS_THE_APP = """
import asyncio, sys
from kfn.app import App
app = App()
asyncio.run(app.startup())
print(sorted({name.split(".")[0] for name in sys.modules if name.startswith("opentelemetry")}))
"""


def _started_app_imports(**env: str) -> str:
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith("OTEL_") and k != "K_SERVICE"
    }
    environ.update(KFN_FUNCTIONS="tests.apps.loop", PYTHONPATH=str(REPO), **env)
    result = subprocess.run(
        [sys.executable, "-c", STARTS_THE_APP],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_without_otel_variables_nothing_of_opentelemetry_is_imported() -> None:
    assert _started_app_imports() == "[]"


def test_with_an_otlp_endpoint_the_exporter_is_loaded() -> None:
    assert (
        _started_app_imports(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9")
        == "['opentelemetry']"
    )
