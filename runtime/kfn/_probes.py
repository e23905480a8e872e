"""The probes (`/health/liveness`, `/health/readiness`) and `/metrics`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from kfn._asgi import JSON, Send, respond
from kfn.lifecycle import Lifecycle, run_hook
from kfn.metrics import Metrics
from kfn.registry import Hook

LIVENESS_PATH = "/health/liveness"
READINESS_PATH = "/health/readiness"
METRICS_PATH = "/metrics"
READINESS_CHECK_TIMEOUT = 5.0


async def liveness(send: Send) -> None:
    await respond(send, 200, [(b"content-type", JSON)], b'{"status":"ok"}')


async def metrics(send: Send, recorded: Metrics) -> None:
    body, content_type = recorded.render()
    await respond(send, 200, [(b"content-type", content_type.encode())], body)


async def readiness(send: Send, lifecycle: Lifecycle, checks: Sequence[Hook]) -> None:
    reason = await unready_reason(lifecycle, checks)
    if reason:
        await unready(send, reason)
    else:
        await respond(send, 200, [(b"content-type", JSON)], b'{"status": "ready"}')


async def unready(send: Send, reason: str) -> None:
    body = {"status": "not ready", "reason": reason}
    await respond(send, 503, [(b"content-type", JSON)], json.dumps(body).encode())


async def unready_reason(lifecycle: Lifecycle, checks: Sequence[Hook]) -> str | None:
    """Why /health/readiness is 503, or None when ready."""
    if not lifecycle.started:
        return "starting"
    if lifecycle.draining:
        return "draining"
    workers = lifecycle.in_flight.workers
    if workers is not None and workers.exhausted:
        return (
            f"sync workers exhausted: all {workers.size} threads are stuck in calls "
            "past their timeout"
        )
    for check in checks:
        try:
            ok = await asyncio.wait_for(run_hook(check), READINESS_CHECK_TIMEOUT)
        except Exception as error:
            return f"readiness check {check.name!r} raised {type(error).__name__}"
        if ok is False:
            return f"readiness check {check.name!r} returned False"
    return None
