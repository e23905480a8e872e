from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from tests.conftest import Server, start_server


@pytest.fixture(scope="module")
def mirror_server() -> Iterator[Server]:
    server = start_server("tests.apps.mirror")
    yield server
    server.stop(signal.SIGKILL)
