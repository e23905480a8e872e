"""`kfn run --reload` keeps serving through a syntax error in a function file."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.events.conftest import LiveServer
from tests.helpers import binary_headers

VERSION = """
from kfn import CloudEvent, cloudevent


@cloudevent(type="test.version", reply_type="test.version.is")
async def version(event: CloudEvent) -> str:
    return "{version}"
"""


def answer(server: LiveServer) -> str | None:
    try:
        response = httpx.post(
            server.url + "/events/version", headers=binary_headers("test.version"), timeout=2
        )
    except httpx.HTTPError:
        return None
    return response.text if response.status_code == 200 else None


def test_a_syntax_error_is_printed_and_fixing_it_serves_again(
    live_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    package = tmp_path / "reloadfns"
    package.mkdir()
    module = package / "__init__.py"
    module.write_text(VERSION.format(version="v1"))
    server = live_server("--reload", env={"KFN_FUNCTIONS": "reloadfns"}, cwd=tmp_path)
    assert answer(server) == "v1"
    # uvicorn arms its file watcher a moment after the worker is ready: edit until a
    # reload shows it is watching, so the next edit cannot be missed. Each edit gets a
    # few seconds to show: editing on every poll restarts the worker before it answers.
    deadline = time.monotonic() + 30
    while True:
        module.write_text(VERSION.format(version="v2"))
        try:
            server.wait_for(lambda: answer(server) == "v2", timeout=4, what="the first reload")
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise

    module.write_text(VERSION.format(version="v2") + "\ndef broken(:\n")
    server.wait_for(lambda: "SyntaxError" in server.output(), what="the syntax error")
    assert server.process.poll() is None  # the reloader lives on
    (failure,) = [r for r in server.records() if r["message"].startswith("startup failed")]
    assert "__init__.py" in failure["message"]
    assert failure["level"] == "critical"

    module.write_text(VERSION.format(version="v3"))
    server.wait_for(lambda: answer(server) == "v3", timeout=20, what="serving the fixed file")
    assert server.process.poll() is None
