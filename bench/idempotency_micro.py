"""Micro-benchmark: what `idempotent=True` adds per event, as a ratio to the plain function.

One async function with a reply, called through the dispatcher as `/events/<fn>`
would call it: plain, then idempotent with the in-memory store and with a Redis
store (a redis-server started here on a free loopback port, no persistence; or
`--redis URL`). Each first delivery is a claim and a record; a duplicate is one
claim answered from the record. Run it with the project's virtualenv:
    .venv/bin/python bench/idempotency_micro.py
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kfn import CloudEvent, Registry
from kfn.codec.event import trusted_event
from kfn.config import Settings
from kfn.dispatch import Dispatcher
from kfn.metrics import Metrics


def build_dispatcher(idempotent: bool, store: str) -> Dispatcher:
    registry = Registry()

    @registry.cloudevent(type="bench.order", reply_type="bench.invoice", idempotent=idempotent)
    async def bill(event: CloudEvent) -> dict[str, Any]:
        return {"order": event.get_id(), "total": 42}

    return Dispatcher(registry, Settings(idempotency_store=store), Metrics())


def order(event_id: str) -> CloudEvent:
    attributes = {"specversion": "1.0", "id": event_id, "source": "/bench", "type": "bench.order"}
    return trusted_event(attributes, {"items": 3})


async def per_event_us(dispatcher: Dispatcher, rounds: int, per_round: int, same: bool) -> float:
    """The median over rounds of microseconds per call; `same` delivers one event again and again."""
    target = dispatcher.targets["bill"]
    repeated = order("dup")
    await dispatcher.call(target, repeated)
    samples = []
    for _ in range(rounds):
        events = (
            [repeated] * per_round if same else [order(uuid.uuid4().hex) for _ in range(per_round)]
        )
        started = time.perf_counter()
        for event in events:
            await dispatcher.call(target, event)
        samples.append((time.perf_counter() - started) / per_round * 1e6)
    return statistics.median(samples)


async def measure(store: str, rounds: int, per_round: int) -> dict[str, float]:
    plain = build_dispatcher(False, store)
    guarded = build_dispatcher(True, store)
    try:
        base = await per_event_us(plain, rounds, per_round, same=False)
        first = await per_event_us(guarded, rounds, per_round, same=False)
        duplicate = await per_event_us(guarded, rounds, per_round, same=True)
    finally:
        await guarded.aclose()
    return {
        "plain_us": round(base, 2),
        "first_delivery_us": round(first, 2),
        "duplicate_us": round(duplicate, 2),
        "first_delivery_ratio": round(first / base, 2),
        "added_us_per_event": round(first - base, 2),
    }


@contextlib.contextmanager
def redis_server() -> Iterator[str | None]:
    """A throwaway redis-server on a free loopback port, or None when it is not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--per-round", type=int, default=2000)
    parser.add_argument("--redis", help="a Redis URL to use instead of starting redis-server")
    args = parser.parse_args()
    report: dict[str, Any] = {"memory": asyncio.run(measure("memory", args.rounds, args.per_round))}
    with contextlib.ExitStack() as stack:
        url = args.redis or stack.enter_context(redis_server())
        if url is None:
            report["redis"] = (
                "skipped: redis-server is not installed (apt-get install redis-server)"
            )
        else:
            report["redis"] = asyncio.run(measure(url, args.rounds, args.per_round))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
