"""A soak: steady events, good and bad, while memory and file descriptors stay flat."""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from tests.adversarial.conftest import Ledger
from tests.adversarial.sockets import open_fds, rss_mib
from tests.conftest import Server, impossible_here
from tests.helpers import binary_headers

CONNECTIONS = 8
WARM_UP = 100
RSS_GROWTH_MIB = 24.0
FD_GROWTH = CONNECTIONS + 8


@pytest.mark.skipif(sys.platform != "linux", reason=impossible_here("no /proc to read"))
def test_a_soak_keeps_memory_and_file_descriptors_bounded(
    kfn_server: Callable[..., Server], budget: Callable[[float], float], ledger: Ledger
) -> None:
    server = kfn_server("tests.adversarial.load_app", {"K_SERVICE": "soak"})
    pid = server.process.pid
    seconds = budget(3.0)
    statuses: Counter[int] = Counter()
    ids = itertools.count()

    async def one(client: httpx.AsyncClient) -> None:
        n = next(ids)
        if n % 10 == 9:  # a broken event now and then: refused, never retained
            response = await client.post("/", headers={"ce-specversion": "1.0"}, content=b"x")
        else:
            response = await client.post(
                "/", headers=binary_headers("load.work", id_=f"soak-{n}"), content=b"0"
            )
        statuses[response.status_code] += 1

    async def load(until: float | None, count: int | None) -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:

            async def worker() -> None:
                while (until is None or time.monotonic() < until) and (
                    count is None or sum(statuses.values()) < count
                ):
                    await one(client)

            await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))

    asyncio.run(load(None, WARM_UP))
    rss_before, fds_before = rss_mib(pid), open_fds(pid)
    asyncio.run(load(time.monotonic() + seconds, None))
    rss_after, fds_after = rss_mib(pid), open_fds(pid)
    ledger.record(
        "Soak",
        "events (one in ten malformed) on 8 connections",
        requests=sum(statuses.values()),
        statuses=dict(sorted(statuses.items())),
        rss_mib_before=round(rss_before, 1),
        rss_mib_after=round(rss_after, 1),
        fds_before=fds_before,
        fds_after=fds_after,
    )
    assert set(statuses) == {202, 400}, statuses
    assert rss_after - rss_before < RSS_GROWTH_MIB
    assert fds_after - fds_before <= FD_GROWTH
