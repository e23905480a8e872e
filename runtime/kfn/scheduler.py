"""Local schedules: `@schedule` functions fire under `kfn run` as their PingSource would fire them.

On Knative a PingSource posts a `dev.knative.sources.ping` event to the function's
endpoint on the cron schedule (CONTRACT.md 3c "PingSource"). Under `kfn run` (not
on Knative, and not with `--no-schedules`) one timer per scheduled function does the
same: at each cron time, in the schedule's time zone (UTC when none is given, as
the PingSource adapter runs in the cluster), it delivers an event shaped like the
PingSource's (type, source `/apis/v1/namespaces/<ns>/pingsources/<name>`, the
decorator's data and content type) through the dispatcher, exactly as
`/events/<function>` would. A PingSource ignores replies, so a reply is logged and
dropped here too.

Cron times come from croniter, which the `deploy` and `dev` extras install; it is
imported only when the app has schedules. Without it the app serves normally and
logs once that its schedules will not fire (run them with `kfn invoke` or the test
kit's `fire`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cloudevents.core.v1.event import CloudEvent

from kfn import logs
from kfn.codec.data import FORMAT
from kfn.codec.event import trusted_event
from kfn.dispatch import Dispatcher, Target
from kfn.lifecycle import Lifecycle
from kfn.local_broker import Hop, log_hop, no_reply_route
from kfn.problems import Problem
from kfn.registry import EventFunction
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
    try:
        from kfn.deploy import formats
    except ImportError:  # pragma: no cover - the deploy package ships with the runtime
        return "default", function.lower().replace("_", "-")
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
    attributes: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "type": PING_EVENT_TYPE,
        "time": now or datetime.now(UTC),
    }
    data: Any = None
    if schedule.data is not None:
        raw = schedule.data.encode() if isinstance(schedule.data, str) else schedule.data
        # What the function receives is what the codec makes of the PingSource's request.
        data = FORMAT.read_data(raw, schedule.content_type)
        if schedule.content_type is not None:
            attributes["datacontenttype"] = schedule.content_type
    return trusted_event(attributes, data)


class Scheduler:
    """One timer per scheduled function; started after startup, stopped first at shutdown."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        lifecycle: Lifecycle,
        *,
        next_fire: NextFire = next_fire,
        project_dir: Path | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.lifecycle = lifecycle
        self._next_fire = next_fire
        self._project_dir = project_dir
        self._timers: list[asyncio.Task[None]] = []
        self._firings: set[asyncio.Task[int]] = set()
        self.sources: dict[str, str] = {}

    @property
    def targets(self) -> list[Target]:
        return [t for t in self.dispatcher.targets.values() if t.spec.schedule is not None]

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
                t.name: _describe(t.spec.schedule) for t in targets if t.spec.schedule is not None
            },
        )

    async def _run(self, target: Target) -> None:
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
                    schedule=_describe(schedule),
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

    async def fire(self, target: Target) -> int:
        """Deliver one ping event to the function now; the status `/events/<fn>` would answer."""
        source = self.sources.get(target.name) or pingsource_source(
            *pingsource_identity(target.name, self._project_dir)
        )
        event = ping_event(target.spec, source)
        origin = "pingsource/" + source.rsplit("/", 1)[-1]
        status, detail, error = 202, None, None
        if self.lifecycle.draining:
            return 503
        self.lifecycle.enter(event=True)
        route = no_reply_route.set(origin)
        try:
            if not target.spec.filter.matches(event.get_attributes()):
                raise Problem(
                    400, "filter-mismatch", "the ping event does not match the function's filters"
                )
            reply = await self.dispatcher.call(target, event)
            if reply is not None:
                status = 200
                detail = "reply dropped: a PingSource does not deliver replies; use emit()"
        except Problem as problem:
            status, detail, error = problem.status, problem.detail, problem.__cause__
        finally:
            no_reply_route.reset(route)
            self.lifecycle.leave(event=True)
        log_hop(
            Hop(event.get_id(), event.get_type(), origin, target.name, status, None, detail), error
        )
        return status

    async def stop(self) -> None:
        """Stop the timers; ping deliveries already under way finish (they are in flight)."""
        timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()
        if timers:
            await asyncio.wait(timers)


def _describe(schedule: Schedule) -> str:
    return f"{schedule.cron} ({schedule.timezone or 'UTC'})"
