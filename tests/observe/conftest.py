"""One example-app server for the observability tests, its emits going to a recording sink."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import Server, start_server
from tests.events.conftest import SinkServer


@pytest.fixture(scope="session")
def sink() -> Iterator[SinkServer]:
    server = SinkServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def shop(sink: SinkServer) -> Iterator[Server]:
    """`kfn run` on the example app with K_SINK set (no local broker), logging JSON."""
    server = start_server("functions", {"K_SINK": sink.url, "KFN_LOG_FORMAT": "json"})
    yield server
    server.stop()  # SIGTERM: the server writes its coverage data
