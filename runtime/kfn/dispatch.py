"""Dispatch: calling the functions an event was routed to, and which failure decides.

An event is acknowledged only after every function it went to finished; the first
failure decides the status, preferring one Knative retries (so every function gets
another chance) over a permanent one.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from cloudevents.core.v1.event import CloudEvent

from kfn import tracing
from kfn._eager import call_with_timeout
from kfn._errors import (
    Drop,
    EventDropped,
    EventError,
    FunctionFailed,
    FunctionTimedOut,
    Retry,
    RetryRequested,
    is_retried,
)
from kfn._inflight import InFlight
from kfn._sync_pool import SyncCall, SyncPool
from kfn.binding import Binding, bind
from kfn.config import Settings
from kfn.metrics import Metrics
from kfn.problems import status_of
from kfn.registry import EventFunction, Registry
from kfn.replies import build_reply

if TYPE_CHECKING:
    from kfn.idempotency import Idempotency

current_invocation: contextvars.ContextVar[tuple[str, CloudEvent] | None] = contextvars.ContextVar(
    "kfn_invocation", default=None
)
"""(function name, event) while a function runs, when a reply observer is set: who emitted."""


class ReplyObserver(Protocol):
    """Sees every reply a function returns; the local broker re-ingests them (kfn run)."""

    def replied(self, function: str, event: CloudEvent, reply: CloudEvent) -> None: ...


@dataclass(frozen=True)
class BoundFunction:
    """An event function ready to be called: its spec, binding and limits."""

    spec: EventFunction
    binding: Binding
    timeout: float
    is_async: bool

    @property
    def name(self) -> str:
        return self.spec.name


class Dispatcher:
    def __init__(
        self,
        registry: Registry,
        settings: Settings,
        metrics: Metrics,
        in_flight: InFlight | None = None,
    ) -> None:
        self.metrics = metrics
        self.in_flight = in_flight if in_flight is not None else metrics.in_flight
        self.reply_source = settings.default_reply_source
        self.targets: dict[str, BoundFunction] = {}
        for spec in registry.event_functions:
            self.targets[spec.name] = BoundFunction(
                spec=spec,
                binding=bind(spec),
                timeout=spec.timeout or settings.function_timeout,
                is_async=spec.is_async,
            )
        self._ordered = tuple(self.targets.values())
        self.sync_pool: SyncPool | None = None
        if not all(t.is_async for t in self._ordered):
            self.sync_pool = SyncPool(settings.sync_threads, self.in_flight)
        self.reply_observer: ReplyObserver | None = None
        self.idempotency: Idempotency | None = None
        if any(t.spec.idempotent for t in self._ordered):
            from kfn import idempotency

            self.idempotency = idempotency.from_settings(settings)

    def match(self, event: CloudEvent) -> list[BoundFunction]:
        attributes = event.get_attributes()
        return [t for t in self._ordered if t.spec.filter.matches(attributes)]

    async def deliver(
        self, event: CloudEvent, targets: Sequence[BoundFunction]
    ) -> list[CloudEvent]:
        """Run every target on the event; return the replies or raise the deciding error."""
        if len(targets) == 1:
            reply = await self.call(targets[0], event)
            return [] if reply is None else [reply]
        # Each call runs in a task, in a context of its own: the span of the one that
        # decides is then made the ended one here, as a single call's would be.
        contexts = [contextvars.copy_context() for _ in targets]
        outcomes = await asyncio.gather(
            *(
                asyncio.create_task(self.call(t, event), context=c)
                for t, c in zip(targets, contexts, strict=True)
            ),
            return_exceptions=True,
        )
        failed = [(i, o) for i, o in enumerate(outcomes) if isinstance(o, BaseException)]
        if not failed:
            if contexts:  # no target: nothing ran
                tracing.adopt(contexts[-1].run(tracing.logged))
            return [o for o in outcomes if isinstance(o, CloudEvent)]
        unexpected = [f for f in failed if not isinstance(f[1], EventError)]
        retried = [
            f for f in failed if isinstance(f[1], EventError) and is_retried(status_of(f[1]))
        ]
        index, error = (unexpected or retried or failed)[0]
        tracing.adopt(contexts[index].run(tracing.logged))
        raise error

    @tracing.traces_invocations
    async def call(self, target: BoundFunction, event: CloudEvent) -> CloudEvent | None:
        """Call one function with one event (once per event when idempotent)."""
        if self.idempotency is not None and target.spec.idempotent:
            return await self.idempotency.call(target, event, self._call)
        return await self._call(target, event)

    async def _call(self, target: BoundFunction, event: CloudEvent) -> CloudEvent | None:
        """Call one function with one event; every failure becomes an EventError."""
        name = target.name
        event_id = event.get_id()
        calls = self.in_flight.calls
        calls[name] += 1
        started = time.perf_counter()
        status = 500
        observer = self.reply_observer
        invocation = current_invocation.set((name, event)) if observer is not None else None
        try:
            args, kwargs = target.binding.arguments(event)
            result = await self._invoke(target, event_id, args, kwargs)
            reply = build_reply(result, event, target.spec, self.reply_source)
            status = 200 if reply is not None else 202
            if observer is not None and reply is not None:
                observer.replied(name, event, reply)
            return reply
        except EventError as error:
            error.context.setdefault("function", name)
            error.context.setdefault("event_id", event_id)
            status = status_of(error)
            raise
        except TimeoutError:
            status = 504
            raise FunctionTimedOut(
                f"function {name!r} did not finish within {target.timeout:g}s",
                function=name,
                event_id=event_id,
            ) from None
        except Drop as drop:
            status = drop.status
            raise EventDropped(
                drop.reason, status=drop.status, function=name, event_id=event_id
            ) from None
        except Retry as retry:
            status = 503
            raise RetryRequested(
                retry.reason, retry_after=retry.after, function=name, event_id=event_id
            ) from None
        except Exception as error:
            raise FunctionFailed(
                f"function {name!r} raised {type(error).__name__}",
                function=name,
                event_id=event_id,
            ) from error
        finally:
            if invocation is not None:
                current_invocation.reset(invocation)
            calls[name] -= 1
            self.metrics.finished(name, status, time.perf_counter() - started)

    async def aclose(self) -> None:
        if self.sync_pool is not None:
            self.sync_pool.stop()
        if self.idempotency is not None:
            await self.idempotency.aclose()

    async def _invoke(
        self, target: BoundFunction, event_id: str, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        func = target.spec.func
        if target.is_async:
            return await call_with_timeout(func(*args, **kwargs), target.timeout)
        # Sync functions run on the pool's threads, which enforce the timeout: past
        # it the sender is answered 504 at once while the thread, which cannot be
        # cancelled, runs on (kfn._sync_pool).
        assert self.sync_pool is not None
        return await self.sync_pool.run(
            SyncCall(target.name, event_id, func, args, kwargs, target.timeout)
        )
