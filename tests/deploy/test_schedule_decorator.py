"""@schedule: Knative's cron and PingSource rules, enforced when the decorator runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kfn import RegistrationError
from kfn.local_schedules import next_fire
from kfn.registry import EventFunction, Registry
from kfn.schedule import (
    PING_EVENT_TYPE,
    CronError,
    Schedule,
    check_cron,
    check_pingsource_schedule,
    schedule,
)

AFTER = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)  # a Saturday


@pytest.mark.parametrize(
    ("cron", "fires_next"),
    [
        ("* * * * *", "2026-03-14T15:10:00"),
        ("*/5 * * * *", "2026-03-14T15:10:00"),
        ("0 3 * * *", "2026-03-15T03:00:00"),
        ("30 0 3 * * *", "2026-03-15T03:00:30"),  # six fields: seconds first
        ("0 9-17/2 * * mon-fri", "2026-03-16T09:00:00"),
        ("0 0 1,15 * *", "2026-03-15T00:00:00"),
        ("0 0 1 jan,JUL *", "2026-07-01T00:00:00"),
        ("0 0 * * SUN", "2026-03-15T00:00:00"),
        ("5/10 * * * *", "2026-03-14T15:15:00"),  # N/step means N-max/step
        ("@yearly", "2027-01-01T00:00:00"),
        ("@annually", "2027-01-01T00:00:00"),
        ("@monthly", "2026-04-01T00:00:00"),
        ("@weekly", "2026-03-15T00:00:00"),
        ("@daily", "2026-03-15T00:00:00"),
        ("@midnight", "2026-03-15T00:00:00"),
        ("@hourly", "2026-03-14T16:00:00"),
    ],
)
def test_knative_accepts_these_schedules_and_they_fire_locally_when_knative_would(
    cron: str, fires_next: str
) -> None:
    check_cron(cron)
    fires = datetime.fromisoformat(fires_next).replace(tzinfo=UTC)
    assert next_fire(Schedule(cron=cron), AFTER) == fires


@pytest.mark.parametrize(
    "cron",
    [
        "? * * * *",
        "0 0 1,,2 * *",  # robfig drops empty list items
        "+5 * * * *",  # Go's Atoi takes a sign
    ],
)
def test_knative_accepts_robfig_syntax_that_the_local_timers_cannot_read(cron: str) -> None:
    check_cron(cron)  # croniter refuses these; the local scheduler says so and stops that timer


@pytest.mark.parametrize(
    ("cron", "problem"),
    [
        ("", "empty"),
        ("* * * *", "4 fields"),
        ("* * * * * * *", "7 fields"),
        ("@every 1m", "@every"),
        ("@reboot", "not a descriptor"),
        ("60 * * * *", "above the maximum 59"),
        ("* 24 * * *", "above the maximum 23"),
        ("* * 0 * *", "below the minimum 1"),
        ("* * * 13 *", "above the maximum 12"),
        ("* * * * 7", "above the maximum 6"),  # robfig's weekdays are 0-6
        ("5-1 * * * *", "starts after it ends"),
        ("*/0 * * * *", "positive"),
        ("1-2-3 * * * *", "too many hyphens"),
        ("*/2/3 * * * *", "too many slashes"),
        ("x * * * *", "not a number"),
        ("-1 * * * *", "not a number"),
        ("1.5 * * * *", "not a number"),
        ("* * * foo *", "not a number"),
    ],
)
def test_knative_rejects_these_schedules(cron: str, problem: str) -> None:
    with pytest.raises(CronError, match=problem):
        check_cron(cron)


def test_every_is_rejected_anywhere_in_the_pingsource_schedule() -> None:
    with pytest.raises(CronError, match="@every"):
        check_pingsource_schedule("CRON_TZ=UTC @every 5m", None)


def test_the_webhook_prefixes_the_time_zone_so_a_second_prefix_fails() -> None:
    check_pingsource_schedule("0 3 * * *", "Europe/Berlin")
    with pytest.raises(CronError, match="'CRON_TZ=UTC' is not a number"):
        check_pingsource_schedule("CRON_TZ=UTC 0 3 * * *", "Europe/Berlin")


def test_a_scheduled_function_is_an_event_function_filtered_on_the_ping_type(
    registry: Registry,
) -> None:
    @schedule("*/5 * * * *", timezone="Europe/Berlin", registry=registry)
    async def sweep(event: Any) -> None:
        return None

    spec = registry.functions["sweep"]
    assert isinstance(spec, EventFunction)
    assert spec.schedule == Schedule("*/5 * * * *", "Europe/Berlin")
    assert spec.filter.trigger_items() == [{"exact": {"type": PING_EVENT_TYPE}}]
    assert spec.filter.matches({"type": PING_EVENT_TYPE, "source": "/apis/v1/namespaces/x"})
    assert not spec.filter.matches({"type": "com.example.other"})


def test_the_decorator_keeps_name_service_timeout_and_emits(registry: Registry) -> None:
    @schedule(
        "@hourly",
        name="hourly-job",
        service="jobs",
        timeout=5,
        emits=["com.example.done"],
        registry=registry,
    )
    def job(event: Any) -> None:
        return None

    spec = registry.functions["hourly-job"]
    assert isinstance(spec, EventFunction)
    assert (spec.service, spec.timeout, spec.emits) == ("jobs", 5.0, ("com.example.done",))


def test_a_dict_is_sent_as_a_json_object() -> None:
    from kfn.schedule import _schedule_of

    when = _schedule_of("@daily", None, {"task": "sweep", "n": 1}, None)
    assert when.data == '{"task": "sweep", "n": 1}'
    assert when.content_type == "application/json"


def test_text_and_bytes_get_their_content_types() -> None:
    from kfn.schedule import _schedule_of

    assert _schedule_of("@daily", None, "hi", None).content_type == "text/plain"
    binary = _schedule_of("@daily", None, b"\x00", None)
    assert binary.content_type == "application/octet-stream"
    assert binary.data_base64 == "AA=="


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"cron": "@every 1h"}, "@every"),
        ({"cron": "61 * * * *"}, "maximum"),
        ({"cron": "CRON_TZ=UTC * * * * *"}, "timezone="),
        ({"cron": "@daily", "timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"cron": "@daily", "data": "[1, 2]", "content_type": "application/json"}, "object"),
        ({"cron": "@daily", "data": "not json", "content_type": "application/json"}, "JSON"),
        ({"cron": "@daily", "data": b"[]", "content_type": "application/json"}, "object"),
        ({"cron": "@daily", "data": {"a": 1}, "content_type": "text/plain"}, "sent as JSON"),
        ({"cron": "@daily", "data": {"a": object()}}, "cannot be sent as JSON"),
        ({"cron": "@daily", "data": [1, 2]}, "must be a dict"),
        ({"cron": "@daily", "content_type": "nonsense"}, "media type"),
        ({"cron": "@daily", "timeout": 0}, "timeout"),
        ({"cron": "@daily", "emits": "com.example.x"}, "emits"),
    ],
)
def test_a_bad_schedule_fails_at_decoration_time(
    registry: Registry, kwargs: dict[str, Any], problem: str
) -> None:
    cron = kwargs.pop("cron")
    with pytest.raises(RegistrationError, match=problem) as raised:

        @schedule(cron, registry=registry, **kwargs)
        async def job(event: Any) -> None:
            return None

    assert "'job'" in str(raised.value)
    assert registry.functions == {}


def test_schedule_is_exported_from_the_kfn_package() -> None:
    import kfn

    assert kfn.schedule is schedule
    assert "schedule" in kfn.__all__
