from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import Server, start_server


@pytest.fixture(scope="module")
def mirror_server() -> Iterator[Server]:
    # The mirror replies to every event, itself included: under the local broker each
    # reply would loop back to it until the hop limit (as behind a real Broker).
    server = start_server("tests.apps.mirror", {"KFN_LOCAL_BROKER": "false"})
    yield server
    server.stop()


@pytest.fixture(scope="session")
def guards_server() -> Iterator[Server]:
    """One server with tests.apps.guards for the session; tests leave its gate open."""
    server = start_server("tests.apps.guards")
    yield server
    server.stop()
