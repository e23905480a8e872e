"""Idempotent functions whose runs are counted outside the process, for the idempotency tests.

Each run appends `<function> <key> <pid> start|end` to the file named by
IDEMPOTENT_RUNS, so a test sees how often a function really ran, in which process.
The event's data steers a run: `sleep` (seconds) for the first `sleep_times` runs,
`fail` ("raise", "retry", "drop") for the first `fail_times` runs of that event
(default: every run).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from kfn import CloudEvent, Drop, Retry, cloudevent


def _log(function: str, key: str, phase: str) -> None:
    with open(os.environ["IDEMPOTENT_RUNS"], "a") as runs:
        runs.write(f"{function} {key} {os.getpid()} {phase}\n")


def _runs(function: str, key: str) -> int:
    try:
        with open(os.environ["IDEMPOTENT_RUNS"]) as runs:
            return sum(
                1 for line in runs if line.startswith(f"{function} {key} ") and "start" in line
            )
    except FileNotFoundError:
        return 0


def _data(event: CloudEvent) -> dict[str, Any]:
    data = event.get_data()
    return data if isinstance(data, dict) else {}


async def _run(function: str, key: str, data: dict[str, Any]) -> None:
    _log(function, key, "start")
    run = _runs(function, key)
    if run <= int(data.get("sleep_times", 1_000_000)):
        await asyncio.sleep(float(data.get("sleep", 0)))
    failure = data.get("fail")
    if failure and run <= int(data.get("fail_times", 1_000_000)):
        _log(function, key, "failed")
        if failure == "raise":
            raise RuntimeError("the card network is down")
        if failure == "retry":
            raise Retry("try again", after=1)
        raise Drop("the card is not valid")
    _log(function, key, "end")


@cloudevent(type="test.charge", reply_type="test.charged", idempotent=True, timeout=1)
async def charge(event: CloudEvent) -> dict[str, Any]:
    await _run("charge", event.get_id(), _data(event))
    return {"charged": event.get_id()}


@cloudevent(type="test.notify", idempotent=True, timeout=1)
async def notify(event: CloudEvent) -> None:
    await _run("notify", event.get_id(), _data(event))


@cloudevent(
    type="test.order",
    idempotent=True,
    idempotency_key=lambda event: str(_data(event)["order"]),
)
async def ship(event: CloudEvent) -> None:
    await _run("ship", str(_data(event)["order"]), {})


@cloudevent(type="test.plain")
async def plain(event: CloudEvent) -> None:
    _log("plain", event.get_id(), "start")
