"""Observability costs nothing it does not need: no OpenTelemetry import unless OTEL_* asks for it.

An event-only app: FastAPI, when an app has @http functions, imports opentelemetry-api
itself whenever it is installed.
"""

from __future__ import annotations

from tests.helpers import cold_start


def _started_app_imports(**env: str) -> set[str]:
    """The top-level OpenTelemetry packages a fresh process imported by the end of startup."""
    modules = cold_start("tests.apps.loop", env).modules
    return {name.split(".")[0] for name in modules if name.startswith("opentelemetry")}


def test_without_otel_variables_nothing_of_opentelemetry_is_imported() -> None:
    assert _started_app_imports() == set()


def test_with_an_otlp_endpoint_the_exporter_is_loaded() -> None:
    assert _started_app_imports(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9") == {
        "opentelemetry"
    }
