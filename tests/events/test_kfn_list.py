"""`kfn list` prints every function: kind, route or filters, reply type, schedule, Service."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def kfn_list(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("KFN_FUNCTIONS", None)
    return subprocess.run(
        [sys.executable, "-m", "kfn", "list", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_example_app_is_listed_as_a_table() -> None:
    result = kfn_list()
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == [
        "NAME",
        "KIND",
        "ROUTE",
        "FILTERS",
        "REPLY",
        "SCHEDULE",
        "EMITS",
        "SERVICE",
    ]
    by_name = {row.split()[0]: row for row in rows}
    assert {"hello", "bill", "audit", "ship", "notify", "nightly_sweep"} <= set(by_name)
    assert by_name["hello"].split()[:4] == ["hello", "http", "GET", "/hello"]
    assert "exact(type='com.example.order.created')" in by_name["bill"]
    assert "com.example.invoice.created" in by_name["bill"]
    assert "0 3 * * * (Europe/Berlin)" in by_name["nightly_sweep"]
    assert by_name["nightly_sweep"].split()[1] == "schedule"
    assert by_name["bill"].split()[-1] == "shop"  # [tool.kfn] name
    assert by_name["nightly_sweep"].split()[-1] == "maintenance"  # service=


def test_json_output_has_one_object_per_function() -> None:
    result = kfn_list("--json", "--functions", "tests.apps.loop")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows == [
        {
            "name": "reply_loop",
            "kind": "cloudevent",
            "route": "POST /events/reply_loop",
            "filters": "exact(type='test.loop')",
            "reply_type": "test.loop",
            "schedule": None,
            "emits": [],
            "service": "shop",
        },
        {
            "name": "emit_loop",
            "kind": "cloudevent",
            "route": "POST /events/emit_loop",
            "filters": "exact(type='test.emit.loop')",
            "reply_type": None,
            "schedule": None,
            "emits": [],
            "service": "shop",
        },
    ]


def test_an_import_error_is_reported_not_raised() -> None:
    result = kfn_list("--functions", "no_such_module_here")
    assert result.returncode == 2
    assert "no_such_module_here" in result.stderr
    assert "Traceback" not in result.stderr
