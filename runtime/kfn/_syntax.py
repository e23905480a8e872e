"""One helper per syntax rule kfn reads: durations, media types, names.

Each rule is written once here and used wherever kfn reads such a value, so the
environment, the decorators, `[tool.kfn]` and the codec cannot drift apart.
"""

from __future__ import annotations

import re

NANOS_PER_SECOND = 1_000_000_000
_INT64_MAX = 2**63 - 1
_GO_UNIT_NANOS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 micro sign
    "μs": 1_000,  # U+03BC Greek mu
    "ms": 1_000_000,
    "s": NANOS_PER_SECOND,
    "m": 60 * NANOS_PER_SECOND,
    "h": 3_600 * NANOS_PER_SECOND,
}
_GO_PART = re.compile(r"([0-9]*)(?:\.([0-9]*))?(ns|us|µs|μs|ms|s|m|h)")
_SECONDS = re.compile(r"([0-9]+)(?:\.([0-9]+))?")

SERVICE_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
"""A Knative Service name: a DNS-1035 label (at most 63 characters, see is_service_name)."""
TRIGGER_ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9]*$")
"""An attribute a Knative Trigger filter can name (a CloudEvents name starting with a letter)."""
_ATTRIBUTE_NAME = re.compile(r"[a-z0-9]+")
_MODULE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
_MEDIA_TYPE = re.compile(r"[\w!#$&^.+-]+/[\w!#$&^.+-]+\s*(;.*)?", re.ASCII)


class DurationError(ValueError):
    """A duration string in the wrong syntax."""


def parse_go_duration(text: str) -> int:
    """Nanoseconds from a Go `time.ParseDuration` string ('90s', '1m30s', '1.5h', '500ms')."""
    if not isinstance(text, str):
        raise DurationError(f"{text!r} is not a string")
    body = text
    sign = 1
    if body[:1] in ("+", "-"):
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if body == "0":
        return 0
    if body == "":
        raise DurationError(f"{text!r} is not a duration (write e.g. '30s', '5m' or '1h30m')")
    nanos = 0
    position = 0
    while position < len(body):
        match = _GO_PART.match(body, position)
        if match is None or (not match.group(1) and not match.group(2)):
            raise DurationError(
                f"{text!r} is not a duration (write e.g. '30s', '5m' or '1h30m'; "
                "units ns, us, ms, s, m, h)"
            )
        nanos += _scaled(match.group(1), match.group(2), _GO_UNIT_NANOS[match.group(3)])
        position = match.end()
    if nanos > _INT64_MAX:
        raise DurationError(f"{text!r} is too long")
    return sign * nanos


def parse_duration(text: str) -> int:
    """Nanoseconds from a duration setting: seconds ('30', '1.5') or a Go duration ('1m30s')."""
    text = text.strip()
    seconds = _SECONDS.fullmatch(text)
    if seconds is not None:
        return _scaled(seconds.group(1), seconds.group(2), NANOS_PER_SECOND)
    return parse_go_duration(text)


def _scaled(whole: str, fraction: str | None, unit: int) -> int:
    """`whole.fraction` units in nanoseconds, exactly (below a nanosecond truncated)."""
    nanos = int(whole or "0") * unit
    if fraction:
        nanos += int(fraction) * unit // 10 ** len(fraction)
    return nanos


def media_type(content_type: str | None) -> str:
    """The bare, lower-cased media type of a Content-Type value ('' for none)."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def is_json_media_type(content_type: str | None) -> bool:
    """`*/json` and `*/*+json`, parameters aside (a missing content type is not JSON here)."""
    kind = media_type(content_type)
    return kind.endswith("/json") or kind.endswith("+json")


def is_media_type(value: str) -> bool:
    """A media type with optional parameters, as RFC 2046 writes it ('text/plain; charset=x')."""
    return _MEDIA_TYPE.fullmatch(value) is not None


def is_service_name(name: str) -> bool:
    """A Knative Service name: a DNS-1035 label (letters, digits, '-'; at most 63)."""
    return len(name) <= 63 and SERVICE_NAME.match(name) is not None


def is_attribute_name(name: str) -> bool:
    """A CloudEvents attribute name: lower-case letters a-z and digits only."""
    return _ATTRIBUTE_NAME.fullmatch(name) is not None


def is_module_name(name: str) -> bool:
    """A dotted Python module name that `import` accepts ('functions', 'shop.billing')."""
    return _MODULE_NAME.fullmatch(name) is not None
