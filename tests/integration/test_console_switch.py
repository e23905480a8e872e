"""The dev console is served at /_kfn/ only where it is switched on; elsewhere /_kfn/ is a 404."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import start_server


@pytest.mark.parametrize(("switch", "status", "media"), [
    ("true", 200, "text/html"),
    ("false", 404, "application/problem+json"),
])  # fmt: skip
def test_the_console_answers_at_kfn_only_when_switched_on(
    switch: str, status: int, media: str
) -> None:
    server = start_server("tests.apps.contract", {"KFN_CONSOLE": switch})
    try:
        response = httpx.get(server.url + "/_kfn/")
        assert response.status_code == status
        assert response.headers["content-type"].startswith(media)
    finally:
        server.stop()
