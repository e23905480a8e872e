"""Local schedules: cron times in their time zone, PingSource-shaped events, timers under `kfn run`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kfn import CloudEvent, Registry
from kfn.cli.run import local_loop
from kfn.config import Settings
from kfn.dispatch import Dispatcher
from kfn.lifecycle import Lifecycle
from kfn.local_schedules import Scheduler, next_fire, ping_event, pingsource_identity
from kfn.metrics import Metrics
from kfn.registry import EventFunction
from kfn.routing import Router
from kfn.schedule import Schedule, schedule
from tests.conftest import REPO
from tests.events.conftest import LiveServer


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("cron", "timezone", "after", "expected"),
    [
        # The night clocks go forward in Berlin: 03:00 CEST is 01:00 UTC.
        ("0 3 * * *", "Europe/Berlin", "2024-03-30T12:00:00+00:00", "2024-03-31T01:00:00+00:00"),
        ("0 3 * * *", None, "2024-03-30T12:00:00+00:00", "2024-03-31T03:00:00+00:00"),
        # Six fields: seconds first, as robfig/cron (Knative) reads them.
        ("*/10 * * * * *", None, "2024-01-01T12:00:03+00:00", "2024-01-01T12:00:10+00:00"),
        ("@hourly", "UTC", "2024-01-01T12:30:00+00:00", "2024-01-01T13:00:00+00:00"),
        (
            "30 9 * * mon-fri",
            "America/New_York",
            "2024-01-06T00:00:00+00:00",
            "2024-01-08T14:30:00+00:00",
        ),
    ],
)
def test_the_next_fire_time_follows_the_schedule_and_its_time_zone(
    cron: str, timezone: str | None, after: str, expected: str
) -> None:
    fire = next_fire(Schedule(cron, timezone), at(after))
    assert fire.astimezone(UTC) == at(expected)


def test_the_next_fire_time_is_strictly_later() -> None:
    when = at("2024-01-01T12:00:10+00:00")
    assert next_fire(Schedule("*/10 * * * * *"), when) == at("2024-01-01T12:00:20+00:00")


def scheduled(registry: Registry, cron: str = "0 3 * * *", **options: object) -> EventFunction:
    @schedule(cron, registry=registry, **options)  # type: ignore[arg-type]
    async def sweep(event: CloudEvent) -> None:
        return None

    spec = registry.functions["sweep"]
    assert isinstance(spec, EventFunction)
    return spec


def test_the_ping_event_is_shaped_like_a_pingsources() -> None:
    spec = scheduled(Registry(), data={"task": "expire"}, timezone="Europe/Berlin")
    event = ping_event(spec, "/apis/v1/namespaces/default/pingsources/shop-sweep")
    attributes = event.get_attributes()
    assert attributes["type"] == "dev.knative.sources.ping"
    assert attributes["source"] == "/apis/v1/namespaces/default/pingsources/shop-sweep"
    assert attributes["datacontenttype"] == "application/json"
    assert attributes["time"].tzinfo is not None
    assert event.get_data() == {"task": "expire"}
    assert ping_event(spec).get_id() != event.get_id()


@pytest.mark.parametrize(
    ("data", "content_type", "expected"),
    [("ping", None, "ping"), (b"\x00\x01", None, b"\x00\x01"), (None, None, None)],
)
def test_ping_data_is_what_the_codec_makes_of_the_pingsources_body(
    data: object, content_type: str | None, expected: object
) -> None:
    spec = scheduled(Registry(), data=data, content_type=content_type)
    event = ping_event(spec, "/s")
    assert event.get_data() == expected
    assert ("datacontenttype" in event.get_attributes()) is (data is not None)


def test_the_pingsource_is_named_as_kfn_manifests_names_it(tmp_path: Path) -> None:
    assert pingsource_identity("nightly_sweep", REPO) == ("default", "shop-nightly-sweep")
    assert pingsource_identity("nightly_sweep", tmp_path) == ("default", "nightly-sweep")


@pytest.fixture
def kfn_log() -> Iterator[list[logging.LogRecord]]:
    """Records of the `kfn` logger, whatever handlers it has."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    logger = logging.getLogger("kfn")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)


async def eventually(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    """Let the loop run until `condition` holds; fail after `timeout` seconds."""
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def fields(record: logging.LogRecord) -> dict[str, object]:
    return dict(getattr(record, "fields", {}))


async def test_timers_fire_the_function_until_stopped(kfn_log: list[logging.LogRecord]) -> None:
    registry = Registry()
    fired: list[CloudEvent] = []

    @schedule("* * * * * *", registry=registry)
    async def tick(event: CloudEvent) -> None:
        fired.append(event)

    def soon(_: Schedule, after: datetime) -> datetime:
        return max(after, datetime.now(UTC)) + timedelta(seconds=0.05)

    dispatcher = Dispatcher(registry, Settings(), Metrics())
    scheduler = Scheduler(Router(dispatcher), Lifecycle(), next_fire=soon, project_dir=REPO)
    scheduler.start()
    await eventually(lambda: len(fired) >= 3, "three firings")
    await scheduler.stop()
    count = len(fired)
    # A timer still alive would fire within 0.05 s: its wake-up comes before this one's.
    await asyncio.sleep(0.15)
    assert len(fired) == count
    assert fired[0].get_source() == "/apis/v1/namespaces/default/pingsources/shop-tick"
    hops = [fields(r) for r in kfn_log if r.getMessage() == "hop"]
    assert hops[0]["from"] == "pingsource/shop-tick"
    assert (hops[0]["to"], hops[0]["status"]) == ("tick", 202)


async def test_without_croniter_the_app_serves_and_says_schedules_will_not_fire(
    monkeypatch: pytest.MonkeyPatch, kfn_log: list[logging.LogRecord]
) -> None:
    monkeypatch.setitem(sys.modules, "croniter", None)
    registry = Registry()
    scheduled(registry)
    scheduler = Scheduler(Router(Dispatcher(registry, Settings(), Metrics())), Lifecycle())
    scheduler.start()
    (warning,) = [r for r in kfn_log if r.levelno == logging.WARNING]
    assert "croniter is not installed" in warning.getMessage()
    assert fields(warning)["functions"] == ["sweep"]
    await scheduler.stop()


# -- `kfn run` -------------------------------------------------------------------------------


def options(**flags: bool) -> argparse.Namespace:
    return argparse.Namespace(
        no_local_broker=flags.get("no_local_broker", False),
        no_schedules=flags.get("no_schedules", False),
    )


def test_kfn_run_turns_the_local_loop_on_off_knative() -> None:
    environ: dict[str, str] = {}
    local_loop(options(), environ)
    assert environ == {"KFN_LOCAL_BROKER": "true", "KFN_SCHEDULES": "true", "KFN_CONSOLE": "true"}


def test_flags_turn_the_local_loop_off() -> None:
    environ: dict[str, str] = {"KFN_SCHEDULES": "true"}
    local_loop(options(no_schedules=True, no_local_broker=True), environ)
    assert environ == {"KFN_LOCAL_BROKER": "false", "KFN_SCHEDULES": "false", "KFN_CONSOLE": "true"}


def test_on_knative_kfn_run_leaves_routing_and_schedules_to_knative() -> None:
    environ = {"K_SERVICE": "shop", "KFN_SCHEDULES": "true"}
    local_loop(options(), environ)
    assert (environ["KFN_LOCAL_BROKER"], environ["KFN_SCHEDULES"]) == ("false", "false")
    assert environ["KFN_CONSOLE"] == "false"


def test_a_value_in_the_environment_is_kept() -> None:
    environ = {"KFN_LOCAL_BROKER": "false"}
    local_loop(options(), environ)
    assert environ["KFN_LOCAL_BROKER"] == "false"


def test_kfn_run_fires_schedules(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(env={"KFN_FUNCTIONS": "tests.apps.scheduled"})
    server.wait_for(lambda: len(server.hops()) >= 2, what="two pings")
    first = server.hops()[0]
    assert first["type"] == "dev.knative.sources.ping"
    assert first["from"] == "pingsource/shop-every-second"
    assert (first["to"], first["status"]) == ("every_second", 202)
    (announced,) = server.records("schedules on")
    assert announced["schedules"] == {"every_second": "* * * * * * (UTC)"}


def test_kfn_run_no_schedules_fires_nothing(live_server: Callable[..., LiveServer]) -> None:
    server = live_server("--no-schedules", env={"KFN_FUNCTIONS": "tests.apps.scheduled"})
    assert server.stop() == 0
    assert server.records("ready")  # the whole log was read
    # With schedules on, the startup says so before the first ping (test above).
    assert server.records("schedules on") == []
    assert server.hops() == []


async def test_a_schedule_whose_next_time_fails_is_stopped_with_an_error(
    kfn_log: list[logging.LogRecord],
) -> None:
    registry = Registry()
    scheduled(registry)

    def broken(_: Schedule, after: datetime) -> datetime:
        raise ValueError("no such day")

    dispatcher = Dispatcher(registry, Settings(), Metrics())
    scheduler = Scheduler(Router(dispatcher), Lifecycle(), next_fire=broken, project_dir=REPO)
    scheduler.start()
    await eventually(lambda: any(r.levelno == logging.ERROR for r in kfn_log), "the error")
    (error,) = [r for r in kfn_log if r.levelno == logging.ERROR]
    assert fields(error) == {"function": "sweep", "schedule": "0 3 * * * (UTC)"}
    assert error.exc_info is not None and "no such day" in str(error.exc_info[1])
    await scheduler.stop()
