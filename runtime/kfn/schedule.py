"""@schedule: a CloudEvent function run on a cron schedule, fed by a Knative PingSource.

On Knative, `kfn manifests` writes a PingSource that posts a `dev.knative.sources.ping`
event to the function's own endpoint (`/events/<function>`) on the schedule. The
schedule is checked here, when the decorator runs, against the rules Knative's
webhook applies (CONTRACT.md "PingSource"): the cron syntax of
robfig/cron v3 with optional seconds and descriptors, no `@every`, an IANA time
zone, and JSON data that is an object. A schedule the cluster would refuse
therefore fails on import, locally, instead of at `kubectl apply`.

The cron parser is written here from those rules (not with croniter, whose syntax
differs and which is an optional dependency) so that the check costs nothing on the
serving path and `kfn.deploy.rules` validates PingSource manifests with the same code.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from kfn._errors import RegistrationError
from kfn._syntax import is_json_media_type, is_media_type, media_type
from kfn.filters import FilterError, build_filter
from kfn.registry import (
    EventFunction,
    Registry,
    check_emits,
    check_function,
    check_idempotency,
    check_timeout,
    default_registry,
    where_defined,
)

F = TypeVar("F", bound=Callable[..., Any])

PING_EVENT_TYPE = "dev.knative.sources.ping"
"""The type of every event a PingSource sends (eventing ping_lifecycle.go)."""

JSON_CONTENT_TYPE = "application/json"

# robfig/cron v3 descriptors (the Descriptor option); `@every` is one too, but Knative
# rejects it (CONTRACT.md "PingSource": "`@every` is rejected").
DESCRIPTORS = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)

_GO_ATOI = re.compile(r"^[+-]?[0-9]+$")
_INT64_MAX = 2**63 - 1


class CronError(ValueError):
    """A cron schedule or time zone that Knative's PingSource webhook would reject."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: Mapping[str, int]


_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_WEEKDAYS = {
    name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))
}
_FIELDS = (
    _Field("second", 0, 59, {}),
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day of month", 1, 31, {}),
    _Field("month", 1, 12, _MONTHS),
    _Field("day of week", 0, 6, _WEEKDAYS),
)


def check_timezone(timezone: str) -> None:
    """Raise CronError unless `timezone` is an IANA time zone name (e.g. 'Europe/Berlin')."""
    if not isinstance(timezone, str) or not timezone:
        raise CronError("the time zone must be a non-empty IANA name such as 'Europe/Berlin'")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CronError(
            f"unknown time zone {timezone!r}: use an IANA name such as 'Europe/Berlin' or 'UTC'"
        ) from None


def check_cron(spec: str) -> None:
    """Raise CronError unless robfig/cron v3 (as Knative configures it) accepts `spec`.

    The parser options are SecondOptional | Minute | Hour | Dom | Month | Dow |
    Descriptor (CONTRACT.md "PingSource"), so: 5 fields, or 6 with seconds first,
    or a descriptor; an optional leading `TZ=`/`CRON_TZ=` location.
    """
    if not isinstance(spec, str):
        raise CronError(f"the schedule must be a string, not {type(spec).__name__}")
    if spec == "":
        raise CronError("the schedule is empty")
    if spec.startswith(("TZ=", "CRON_TZ=")):
        space = spec.find(" ")
        if space < 0:
            raise CronError(f"{spec!r}: a time zone prefix must be followed by the schedule")
        check_timezone(spec[spec.find("=") + 1 : space])
        spec = spec[space:].strip()
    if spec.startswith("@"):
        if spec.startswith("@every"):
            raise CronError(f"{spec!r}: Knative does not support the @every descriptor")
        if spec not in DESCRIPTORS:
            raise CronError(
                f"{spec!r} is not a descriptor; use one of {', '.join(sorted(DESCRIPTORS))}"
            )
        return
    fields = spec.split()
    if len(fields) not in (5, 6):
        raise CronError(
            f"{spec!r} has {len(fields)} fields; a schedule has 5 (minute hour day-of-month "
            "month day-of-week) or 6 (seconds first)"
        )
    if len(fields) == 5:
        fields.insert(0, "0")
    for text, field in zip(fields, _FIELDS, strict=True):
        # robfig splits the list with FieldsFunc, which drops empty items ("1,,2").
        for expression in (part for part in text.split(",") if part):
            _check_range(expression, field)


def _check_range(expression: str, field: _Field) -> None:
    where = f"{field.name} field {expression!r}"
    range_and_step = expression.split("/")
    low_and_high = range_and_step[0].split("-")
    if low_and_high[0] in ("*", "?"):
        start, end = field.low, field.high
    else:
        start = _number(low_and_high[0], field, where)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _number(low_and_high[1], field, where)
        else:
            raise CronError(f"{where}: too many hyphens")
    step = 1
    if len(range_and_step) == 2:
        step = _number(range_and_step[1], None, where)
        if len(low_and_high) == 1:  # "N/step" means "N-max/step"
            end = field.high
    elif len(range_and_step) > 2:
        raise CronError(f"{where}: too many slashes")
    if start < field.low:
        raise CronError(f"{where}: {start} is below the minimum {field.low}")
    if end > field.high:
        raise CronError(f"{where}: {end} is above the maximum {field.high}")
    if start > end:
        raise CronError(f"{where}: the range starts after it ends ({start} > {end})")
    if step == 0:
        raise CronError(f"{where}: the step must be a positive number")


def _number(text: str, field: _Field | None, where: str) -> int:
    """A value as robfig reads it: a name (month, weekday) or Go's strconv.Atoi, not negative."""
    if field is not None and text.lower() in field.names:
        return field.names[text.lower()]
    if not _GO_ATOI.match(text) or abs(int(text)) > _INT64_MAX:
        raise CronError(f"{where}: {text!r} is not a number")
    value = int(text)
    if value < 0:
        raise CronError(f"{where}: negative numbers are not allowed")
    return value


def check_pingsource_schedule(schedule: str, timezone: str | None) -> None:
    """The schedule and time zone as Knative's PingSource webhook checks them together.

    The webhook rejects any schedule containing "@every", then parses
    "CRON_TZ=<timezone> <schedule>" when a time zone is set (CONTRACT.md "PingSource").
    """
    if isinstance(schedule, str) and "@every" in schedule:
        raise CronError(f"{schedule!r}: Knative does not support the @every descriptor")
    if timezone:
        check_timezone(timezone)
        check_cron(f"CRON_TZ={timezone} {schedule}")
    else:
        check_cron(schedule)


def is_json_content_type(content_type: str | None) -> bool:
    """Whether the media type (parameters aside) is application/json: where Knative checks data."""
    return media_type(content_type) == JSON_CONTENT_TYPE


def check_json_object(text: str) -> None:
    """Raise ValueError unless `text` is a JSON object, which Knative requires for JSON data."""
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ValueError(f"the data is not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise ValueError(f"JSON data must be an object, not {type(value).__name__}")


@dataclass(frozen=True)
class Schedule:
    """When a scheduled function runs and what its PingSource sends.

    `data` is the event data: text (sent as `data`) or bytes (sent as `dataBase64`).
    Construction checks every rule, so a Schedule that exists is one Knative accepts.
    """

    cron: str
    timezone: str | None = None
    data: str | bytes | None = None
    content_type: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.cron, str) and self.cron.startswith(("TZ=", "CRON_TZ=")):
            raise CronError("put the time zone in timezone=..., not in the schedule")
        check_cron(self.cron)
        if self.timezone is not None:
            check_timezone(self.timezone)
        if self.content_type is not None and (
            not isinstance(self.content_type, str) or not is_media_type(self.content_type)
        ):
            raise CronError(f"content_type={self.content_type!r} is not a media type")
        if self.data is not None and not isinstance(self.data, str | bytes):
            raise CronError("data must be text or bytes")
        if is_json_content_type(self.content_type) and self.data is not None:
            text = self.data
            if isinstance(text, bytes):
                try:
                    text = text.decode()
                except UnicodeDecodeError:
                    raise CronError("JSON data must be UTF-8") from None
            try:
                check_json_object(text)
            except ValueError as error:
                raise CronError(str(error)) from None

    @property
    def data_base64(self) -> str | None:
        """Bytes data as the PingSource's `dataBase64` (standard alphabet, padded)."""
        if isinstance(self.data, bytes):
            return base64.b64encode(self.data).decode("ascii")
        return None


def decode_base64(text: str) -> bytes:
    """Strict standard base64, as Go's base64.StdEncoding decodes it; ValueError otherwise."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("not valid base64 (standard alphabet, with padding)") from None


def _schedule_of(
    cron: str,
    timezone: str | None,
    data: Mapping[str, Any] | str | bytes | None,
    content_type: str | None,
) -> Schedule:
    """Turn the decorator's arguments into a Schedule: a dict is sent as a JSON object."""
    payload: str | bytes | None
    if isinstance(data, Mapping):
        if content_type is not None and not is_json_media_type(content_type):
            raise CronError(
                f"data= is a dict, which is sent as JSON, but content_type={content_type!r}"
            )
        try:
            payload = json.dumps(dict(data), ensure_ascii=False)
        except (TypeError, ValueError) as error:
            raise CronError(f"data= cannot be sent as JSON: {error}") from None
        content_type = content_type or JSON_CONTENT_TYPE
    elif isinstance(data, str | bytes) or data is None:
        payload = data if data else None
        if payload is not None and content_type is None:
            content_type = "text/plain" if isinstance(payload, str) else "application/octet-stream"
    else:
        raise CronError(
            f"data= must be a dict (sent as JSON), a string or bytes, not {type(data).__name__}"
        )
    return Schedule(cron=cron, timezone=timezone, data=payload, content_type=content_type)


def schedule(
    cron: str,
    *,
    timezone: str | None = None,
    data: Mapping[str, Any] | str | bytes | None = None,
    content_type: str | None = None,
    name: str | None = None,
    service: str | None = None,
    timeout: float | None = None,
    emits: Sequence[str] = (),
    idempotent: bool = False,
    idempotency_key: Callable[[Any], str] | None = None,
    registry: Registry | None = None,
) -> Callable[[F], F]:
    """Run the function on a cron schedule: a PingSource on Knative.

    `cron` has 5 fields (minute hour day-of-month month day-of-week), 6 with seconds
    first, or is a descriptor such as '@daily'. `timezone` is an IANA name (default:
    the cluster's, usually UTC). `data` is what each event carries: a dict (sent as a
    JSON object), text or bytes. The function receives the ping event like any
    CloudEvent function, at `/events/<name>`; its return value is not delivered
    anywhere (a PingSource ignores replies), so emit events with `emits=` instead.
    `idempotent=True` and `idempotency_key=` work as on @cloudevent.
    """

    target = registry if registry is not None else default_registry

    def register(func: F) -> F:
        where = where_defined(func)
        label = f"@schedule({cron!r}) on {getattr(func, '__name__', func)!r} in {where}"
        check_function(func, label)
        try:
            when = _schedule_of(cron, timezone, data, content_type)
        except CronError as error:
            raise RegistrationError(f"{label}: {error}") from None
        seconds = check_timeout(timeout, label)
        emitted = check_emits(emits, label)
        check_idempotency(label, idempotent, idempotency_key)
        try:
            # The PingSource's source (/apis/v1/namespaces/<ns>/pingsources/<name>) is only
            # known at deploy time, so the function filters on the ping type alone.
            ping_filter = build_filter({"type": PING_EVENT_TYPE}, None)
        except FilterError as error:  # pragma: no cover - a constant filter
            raise RegistrationError(f"{label}: {error}") from None
        target.add(
            EventFunction(
                name=name or func.__name__,
                func=func,
                service=service,
                filter=ping_filter,
                timeout=seconds,
                emits=emitted,
                schedule=when,
                idempotent=idempotent,
                idempotency_key=idempotency_key,
            )
        )
        return func

    return register
