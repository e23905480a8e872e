"""Local schedules: `@schedule` functions fire under `kfn run` as their PingSource would.

One timer per scheduled function delivers, at each cron time in the schedule's
time zone (UTC by default, as in the cluster), an event shaped like the
PingSource's through the router, as `/events/<function>` would. A PingSource
ignores replies, so a reply is logged and dropped. Cron times come from croniter
(the deploy and dev extras), imported only when the app has schedules; without it
the schedules do not fire and a log line says so.
"""

from __future__ import annotations

import asyncio
import logging
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cloudevents.core.v1.event import CloudEvent

from kfn import logs
from kfn._errors import EventError
from kfn.codec.data import STRICT_JSON_DATA
from kfn.codec.event import new_event
from kfn.dispatch import BoundFunction
from kfn.lifecycle import Lifecycle
from kfn.local_broker import HopRecord, log_hop, no_reply_route
from kfn.problems import status_of
from kfn.registry import EventFunction
from kfn.routing import Router
from kfn.schedule import PING_EVENT_TYPE, Schedule

NextFire = Callable[[Schedule, datetime], datetime]


def next_fire(schedule: Schedule, after: datetime) -> datetime:
    """The first time strictly after `after` that `schedule` fires, as an aware datetime.

    robfig/cron (Knative's parser) takes an optional seconds field first; croniter
    takes it last unless told otherwise, so a 6-field schedule is read seconds-first.
    """
    from croniter import croniter

    zone = zoneinfo.ZoneInfo(schedule.timezone or "UTC")
    seconds_first = not schedule.cron.startswith("@") and len(schedule.cron.split()) == 6
    iterator = croniter(schedule.cron, after.astimezone(zone), second_at_beginning=seconds_first)
    fire: datetime = iterator.get_next(datetime)
    return fire


def pingsource_source(namespace: str, name: str) -> str:
    """The `source` of a PingSource's events (eventing sources/v1 PingSourceSource)."""
    return f"/apis/v1/namespaces/{namespace}/pingsources/{name}"


def pingsource_identity(function: str, project_dir: Path | None = None) -> tuple[str, str]:
    """(namespace, name) of the PingSource `kfn manifests` writes for `function`.

    They come from `[tool.kfn]` in pyproject.toml, as for the manifests; without a
    readable one, namespace `default` and the function's name as a DNS label.
    """
    from kfn.deploy import formats

    try:
        from kfn.deploy.settings import load

        settings = load(project_dir or Path.cwd())
    except Exception:
        return "default", formats.dns_name(function)
    return settings.namespace, formats.dns_name(settings.name, function)


def ping_event(
    spec: EventFunction, source: str | None = None, now: datetime | None = None
) -> CloudEvent:
    """The event the function's PingSource sends: new id, the ping type, the schedule's data."""
    schedule: Schedule = spec.schedule
    if source is None:
        source = pingsource_source(*pingsource_identity(spec.name))
    if schedule.data is None:
        return new_event(PING_EVENT_TYPE, source, time=now)
    raw = schedule.data.encode() if isinstance(schedule.data, str) else schedule.data
    # What the function receives is what the codec makes of the PingSource's request.
    data = STRICT_JSON_DATA.read_data(raw, schedule.content_type)
    return new_event(PING_EVENT_TYPE, source, data, content_type=schedule.content_type, time=now)


class Scheduler:
    """One timer per scheduled function; started after startup, stopped first at shutdown."""

    def __init__(
        self,
        router: Router,
        lifecycle: Lifecycle,
        *,
        next_fire: NextFire = next_fire,
        project_dir: Path | None = None,
    ) -> None:
        self.router = router
        self.lifecycle = lifecycle
        self._next_fire = next_fire
        self._project_dir = project_dir
        self._timers: list[asyncio.Task[None]] = []
        self._firings: set[asyncio.Task[int]] = set()
        self.sources: dict[str, str] = {}

    @property
    def targets(self) -> list[BoundFunction]:
        return [t for t in self.router.dispatcher.targets.values() if t.spec.schedule is not None]

    def start(self) -> None:
        """Start the timers; without croniter, say once that schedules will not fire."""
        targets = self.targets
        if not targets:
            return
        try:
            import croniter  # noqa: F401
        except ImportError:
            logs.event(
                logging.WARNING,
                "schedules will not fire: croniter is not installed (pip install croniter, "
                "or install kfn with the deploy or dev extra)",
                functions=[t.name for t in targets],
            )
            return
        loop = asyncio.get_running_loop()
        for target in targets:
            self.sources[target.name] = pingsource_source(
                *pingsource_identity(target.name, self._project_dir)
            )
            self._timers.append(loop.create_task(self._run(target)))
        logs.event(
            logging.INFO,
            "schedules on",
            schedules={
                t.name: _schedule_text(t.spec.schedule)
                for t in targets
                if t.spec.schedule is not None
            },
        )

    async def _run(self, target: BoundFunction) -> None:
        schedule: Schedule = target.spec.schedule
        after = datetime.now(UTC)
        while True:
            try:
                fire_at = self._next_fire(schedule, after)
            except Exception as error:  # croniter refusing what Knative accepts: say so, stop
                logs.event(
                    logging.ERROR,
                    "schedule stopped: its next time cannot be computed",
                    error,
                    function=target.name,
                    schedule=_schedule_text(schedule),
                )
                return
            delay = (fire_at - datetime.now(UTC)).total_seconds()
            if delay > 0:
                await asyncio.sleep(delay)
            # A PingSource does not wait for the last delivery: neither does the timer.
            firing = asyncio.get_running_loop().create_task(self.fire(target))
            self._firings.add(firing)
            firing.add_done_callback(self._firings.discard)
            # From the later of the planned time and now: no double fire when the sleep
            # ended early, no burst of missed fires after the laptop slept.
            after = max(fire_at, datetime.now(UTC))

    async def fire(self, target: BoundFunction) -> int:
        """Deliver one ping event to the function now; the status `/events/<fn>` would answer."""
        source = self.sources.get(target.name) or pingsource_source(
            *pingsource_identity(target.name, self._project_dir)
        )
        event = ping_event(target.spec, source)
        origin = "pingsource/" + source.rsplit("/", 1)[-1]
        status, detail, error = 202, None, None
        if self.lifecycle.draining:
            return 503
        in_flight = self.lifecycle.in_flight
        in_flight.enter(event=True)
        route = no_reply_route.set(origin)
        try:
            if await self.router.route(event, target.name):
                status = 200
                detail = "reply dropped: a PingSource does not deliver replies; use emit()"
        except EventError as failure:
            status, detail, error = status_of(failure), failure.detail, failure.__cause__
        finally:
            no_reply_route.reset(route)
            in_flight.leave(event=True)
        log_hop(
            HopRecord(event.get_id(), event.get_type(), origin, target.name, status, None, detail),
            error,
        )
        return status

    async def stop(self) -> None:
        """Stop the timers; ping deliveries already under way finish (they are in flight)."""
        timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()
        if timers:
            await asyncio.wait(timers)


def _schedule_text(schedule: Schedule) -> str:
    return f"{schedule.cron} ({schedule.timezone or 'UTC'})"
