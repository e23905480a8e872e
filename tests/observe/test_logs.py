"""Log lines: JSON with RFC 3339 times, uvicorn's lines among them, the access log a switch."""

from __future__ import annotations

import json
import logging
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from kfn import logs
from tests.conftest import REPO, Server, free_port
from tests.helpers import binary_headers

RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _json_lines(server: Server) -> list[dict[str, object]]:
    text = server.logs()
    lines = [line for line in text.splitlines() if line.strip()]
    parsed = []
    for line in lines:
        assert line.startswith("{"), f"not a JSON line: {line!r}"
        parsed.append(json.loads(line))
    return parsed


def test_every_line_the_server_writes_is_json_with_a_millisecond_utc_time(shop: Server) -> None:
    lines = _json_lines(shop)
    assert lines
    assert all(RFC3339_MS.match(str(line["time"])) for line in lines)


def test_uvicorn_lines_come_out_in_the_same_json(shop: Server) -> None:
    uvicorn = [line for line in _json_lines(shop) if str(line["logger"]).startswith("uvicorn")]
    assert any("Uvicorn running on" in str(line["message"]) for line in uvicorn)


def test_the_access_log_is_off_by_default(shop: Server) -> None:
    httpx.get(shop.url + "/hello")
    assert not [line for line in _json_lines(shop) if line["logger"] == "uvicorn.access"]


def test_the_access_log_switch_writes_one_json_line_per_request(
    kfn_server: Callable[..., Server],
) -> None:
    server = kfn_server(
        "functions", {"KFN_ACCESS_LOG": "true", "KFN_LOG_FORMAT": "json", "KFN_SCHEDULES": "false"}
    )
    httpx.get(server.url + "/hello?name=x")
    httpx.post(server.url + "/events/audit", headers=binary_headers("com.example.order.paid"))
    access = [line for line in _json_lines(server) if line["logger"] == "uvicorn.access"]
    assert {"method": "GET", "path": "/hello?name=x", "status": 200}.items() <= access[-2].items()
    assert {"method": "POST", "path": "/events/audit", "status": 202}.items() <= access[-1].items()


def test_text_lines_are_readable_and_carry_the_fields() -> None:
    record = logging.makeLogRecord(
        {"msg": "hop", "levelname": "INFO", "fields": {"from": "bill", "to": "ship", "status": 202}}
    )
    text = logs.TextFormatter().format(record)
    assert re.match(r"^\d\d:\d\d:\d\d\.\d{3}  INFO     hop  from=bill to=ship status=202$", text)


def test_kfn_run_on_a_terminal_prints_readable_lines() -> None:
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if k != "KFN_LOG_FORMAT"}
    environ.update(KFN_FUNCTIONS="tests.apps.loop", PORT=str(port), PYTHONPATH=str(REPO))
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "kfn", "run", "--host", "127.0.0.1"],
        cwd=REPO,
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    seen = b""
    try:
        deadline = time.monotonic() + 30
        while b"Uvicorn running" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.5)
            if ready:
                seen += os.read(controller, 65536)
    finally:
        process.kill()
        process.wait()
        os.close(controller)
    text = seen.decode(errors="replace")
    ready_line = next(line for line in text.splitlines() if "  ready" in line)
    assert re.match(r"^\d\d:\d\d:\d\d\.\d{3}  INFO     ready  functions=", ready_line)
    assert not [line for line in text.splitlines() if line.startswith("{")]


def test_the_time_of_a_line_is_its_record_s_to_the_millisecond_across_seconds() -> None:
    """The formatter reuses a second's text: the next second, or an earlier one, gets its own."""
    moments = [1764582484.0, 1764582484.9994, 1764582485.0005, 1764582484.25, 1700000000.5]
    for created in moments:
        expected = datetime.fromtimestamp(created, UTC)
        assert logs.timestamp(created) == (
            expected.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(created * 1000) % 1000:03d}Z"
        ), created


def test_a_json_line_carries_a_library_s_extra_fields_in_order_and_no_others() -> None:
    formatter = logs.JsonFormatter()
    plain = logging.LogRecord("lib", logging.INFO, __file__, 1, "plain %s", ("line",), None)
    assert set(json.loads(formatter.format(plain))) == {"time", "level", "logger", "message"}
    extra = logging.makeLogRecord({"msg": "with extras", "zeta": 1, "alpha": [2], "_hidden": 3})
    line = json.loads(formatter.format(extra))
    assert [key for key in line if key in ("zeta", "alpha", "_hidden")] == ["zeta", "alpha"]
    assert line["message"] == "with extras" and line["alpha"] == [2]
