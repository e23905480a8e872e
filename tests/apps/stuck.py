"""Sync functions that block past their timeout until the test lets them go.

`test.block` blocks its worker thread on a gate (past its 0.3 s timeout, so it is
answered 504 and its thread is stuck); `test.hold` blocks on the same gate within a
long timeout (busy, not stuck); `test.release` opens the gate, so every blocked
thread ends. `test.quick` (sync) and `test.async` (async) answer at once.
"""

from __future__ import annotations

import threading

from kfn import CloudEvent, cloudevent

GATE_SECONDS = 60.0
"""The longest any thread blocks: the server outlives no test by more."""

_gate = threading.Event()


@cloudevent(type="test.block", timeout=0.3)
def blocked(event: CloudEvent) -> None:
    _gate.wait(GATE_SECONDS)


@cloudevent(type="test.hold", timeout=30)
def hold(event: CloudEvent) -> None:
    _gate.wait(GATE_SECONDS)


@cloudevent(type="test.quick", timeout=0.3)
def quick(event: CloudEvent) -> None:
    return None


@cloudevent(type="test.async")
async def asynchronous(event: CloudEvent) -> None:
    return None


@cloudevent(type="test.release")
async def release(event: CloudEvent) -> None:
    """Open the gate for every thread blocked now; later ones block on a new gate."""
    global _gate
    gate, _gate = _gate, threading.Event()
    gate.set()
