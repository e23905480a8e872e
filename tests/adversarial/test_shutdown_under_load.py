"""SIGTERM under load: no event acknowledged before it finished, a bounded exit, cut-offs told to retry.

32 connections keep sending short events; a few long ones (async, and one sync
function whose thread cannot be cancelled) outlast the grace period. The ledger
compares what the senders were told with what the functions printed.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from kfn.server import EXIT_MARGIN
from tests.adversarial.conftest import Ledger
from tests.conftest import Server
from tests.helpers import binary_headers

GRACE = 2.0
CONNECTIONS = 32
SLACK = 1.0
"""Seconds the test allows on top of the promise, for a shared machine's scheduling."""


@dataclass
class Outcomes:
    acknowledged: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)
    cut_off: set[str] = field(default_factory=set)
    broken: list[str] = field(default_factory=list)
    """Answers that break the contract: not problem+json, no Retry-After on a 503."""

    def take(self, event_id: str, response: httpx.Response) -> None:
        self.statuses[response.status_code] += 1
        if response.is_success:
            self.acknowledged.add(event_id)
            return
        if response.headers.get("content-type") != "application/problem+json":
            self.broken.append(f"{response.status_code} {response.text[:80]!r}")
            return
        kind = str(response.json()["type"]).rsplit(":", 1)[-1]
        self.problems[kind] += 1
        if response.status_code == 503 and "retry-after" not in response.headers:
            self.broken.append(f"503 {kind} without Retry-After")
        if kind == "shutting-down":
            self.cut_off.add(event_id)


async def _send(
    client: httpx.AsyncClient, outcomes: Outcomes, type_: str, event_id: str, data: bytes
) -> bool:
    """Post one event; False once the server no longer answers."""
    try:
        response = await client.post("/", headers=binary_headers(type_, id_=event_id), content=data)
    except httpx.TransportError:
        return False
    outcomes.take(event_id, response)
    return True


def test_sigterm_under_load_acknowledges_only_finished_events_and_exits_in_time(
    kfn_server: Callable[..., Server], budget: Callable[[float], float], ledger: Ledger
) -> None:
    load_seconds = budget(2.0)
    # The long work outlasts the load and its function timeout outlasts both: only the
    # shutdown may cut it off, however long a run the budget asks for.
    outlast = str(load_seconds + 60).encode()
    wait = load_seconds + 30  # the client waits for the long work's answer through the load
    server = kfn_server(
        "tests.adversarial.load_app",
        {
            "KFN_GRACE_PERIOD": str(GRACE),
            "K_SERVICE": "load",
            "KFN_TIMEOUT": str(load_seconds + 120),
        },
    )
    outcomes = Outcomes()
    ids = itertools.count()
    stop = asyncio.Event()

    async def worker(client: httpx.AsyncClient, n: int) -> None:
        while not stop.is_set():
            if not await _send(client, outcomes, "load.work", f"w{n}-{next(ids)}", b"0.01"):
                return
            if outcomes.statuses[503]:
                await asyncio.sleep(0.01)  # draining: keep asking, without spinning

    async def scenario() -> float:
        limits = httpx.Limits(max_connections=CONNECTIONS + 8)
        async with httpx.AsyncClient(base_url=server.url, timeout=wait, limits=limits) as client:
            long_ones = [
                asyncio.create_task(_send(client, outcomes, "load.work", f"long-{i}", outlast))
                for i in range(4)
            ]
            long_ones.append(
                asyncio.create_task(_send(client, outcomes, "load.block", "blocked-0", outlast))
            )
            workers = [asyncio.create_task(worker(client, n)) for n in range(CONNECTIONS)]
            await asyncio.sleep(load_seconds)
            signalled = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(server.process.wait, GRACE + EXIT_MARGIN + 20)
            exited = time.monotonic() - signalled
            stop.set()
            await asyncio.gather(*workers, *long_ones)
            return exited

    exit_seconds = asyncio.run(scenario())
    logs = server.logs()
    finished = set(re.findall(r"^finished (\S+)$", logs, re.MULTILINE))
    early = outcomes.acknowledged - finished
    ledger.record(
        "Shutdown under load",
        "SIGTERM with 32 connections sending and long work past the grace period",
        runs=1,
        acknowledged=len(outcomes.acknowledged),
        acknowledged_before_finished=len(early),
        cut_off_answered_503=len(outcomes.cut_off),
        refused_while_draining=outcomes.problems["draining"],
        exit_seconds=round(exit_seconds, 2),
        grace_period_seconds=GRACE,
    )
    assert not early, f"acknowledged before their function finished: {sorted(early)[:5]}"
    assert not outcomes.broken, outcomes.broken[:5]
    assert exit_seconds < GRACE + EXIT_MARGIN + SLACK
    assert len(outcomes.acknowledged) >= CONNECTIONS // 2  # the load was real
    assert {"long-0", "long-1", "long-2", "long-3", "blocked-0"} <= outcomes.cut_off
    assert set(outcomes.statuses) <= {202, 503}, outcomes.statuses
    assert "shutdown hook ran" in logs
    cut_off_lines = [line for line in logs.splitlines() if "grace period over" in line]
    assert len(cut_off_lines) == 1
    assert "long-0" in cut_off_lines[0] and "block" in cut_off_lines[0]
    refusal_lines = [line for line in logs.splitlines() if '"problem": "draining"' in line]
    assert len(refusal_lines) <= 1 + GRACE / 5 + 1  # one line per few seconds, not one each
