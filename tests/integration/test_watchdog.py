"""After SIGTERM the process is gone within the grace period and EXIT_MARGIN, whatever hangs.

A shutdown hook that never returns holds uvicorn's lifespan shutdown, which has no
timeout of its own: only kfn's watchdog ends the process, with exit code 1 and one
line that says so. The app is written by the test, so no shared test module changes.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import datetime
from pathlib import Path

from kfn.server import EXIT_MARGIN, STOP_SECONDS
from tests.conftest import REPO, Server, free_port, start_process

HANGING_APP = """
import asyncio

from kfn import CloudEvent, cloudevent, on_shutdown


@cloudevent(type="test.watchdog")
async def handle(event: CloudEvent) -> None:
    return None


@on_shutdown
async def hang() -> None:
    await asyncio.sleep(120)
"""
GRACE = 1.0


def _start(app_dir: Path) -> Server:
    port = free_port()
    environ = {
        **os.environ,
        "KFN_FUNCTIONS": "hanging_app",
        "PORT": str(port),
        "KFN_GRACE_PERIOD": str(GRACE),
        "KFN_LOG_FORMAT": "json",
        "PYTHONPATH": f"{REPO}{os.pathsep}{app_dir}",
    }
    return start_process(
        [sys.executable, "-m", "kfn", "run", "--host", "127.0.0.1"],
        environ,
        port,
        cwd=app_dir,
        ready=lambda response: response.status_code == 200,
    )


def _at(line: dict[str, str]) -> float:
    return datetime.fromisoformat(line["time"].replace("Z", "+00:00")).timestamp()


def test_a_hanging_shutdown_hook_is_ended_by_the_watchdog_within_the_margin(
    tmp_path: Path,
) -> None:
    (tmp_path / "hanging_app.py").write_text(HANGING_APP)
    server = _start(tmp_path)
    try:
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(30)
    finally:
        server.stop(signal.SIGKILL)
    assert code == 1, server.logs()
    lines = [json.loads(x) for x in server.logs().splitlines() if x.startswith("{")]
    (draining,) = [x for x in lines if x["message"] == "SIGTERM: draining"]
    (ended,) = [x for x in lines if x["message"].startswith("exiting with work still running")]
    assert ended["level"] == "error"
    # By the server's own clock: not before uvicorn's backstop and the shutdown hooks had
    # their time (half a second after it), and within the promise.
    waited = _at(ended) - _at(draining)
    assert GRACE + STOP_SECONDS + 0.25 < waited < GRACE + EXIT_MARGIN, waited
