"""The string formats Kubernetes and Knative accept: names, quantities, durations, images.

Settings parsing and the webhook rules both check values with these, so a value
the settings accept is one the rules accept, and the messages agree.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
# The Kubernetes resource.Quantity syntax, as the serving CRDs' `pattern` writes it.
QUANTITY = re.compile(
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
# An OCI image reference: [registry[:port]/]path[:tag][@digest] (distribution/reference).
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE = re.compile(
    r"^(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?/)?"
    rf"{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$"
)

_GO_UNIT_NANOS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_GO_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
_ISO_NUMBER = r"(\d+(?:[.,]\d+)?)"
_ISO_DURATION = re.compile(
    rf"^([-+])?P(?:{_ISO_NUMBER}Y)?(?:{_ISO_NUMBER}M)?(?:{_ISO_NUMBER}W)?(?:{_ISO_NUMBER}D)?"
    rf"(?:T(?:{_ISO_NUMBER}H)?(?:{_ISO_NUMBER}M)?(?:{_ISO_NUMBER}S)?)?$"
)
# Seconds per ISO-8601 designator; years and months as rickb777/date/period approximates them.
_ISO_SECONDS = (
    Fraction(31_556_952),
    Fraction(2_629_746),
    Fraction(604_800),
    Fraction(86_400),
    Fraction(3_600),
    Fraction(60),
    Fraction(1),
)
NANOS_PER_SECOND = 1_000_000_000
_INT64_MAX = 2**63 - 1


def is_dns1035_label(name: str) -> bool:
    """Knative's rule for Service names: a-z, 0-9 and '-', starting with a letter, <= 63."""
    return isinstance(name, str) and len(name) <= 63 and bool(DNS1035_LABEL.match(name))


def is_dns1123_label(name: str) -> bool:
    return isinstance(name, str) and len(name) <= 63 and bool(DNS1123_LABEL.match(name))


def is_dns1123_subdomain(name: str) -> bool:
    return isinstance(name, str) and len(name) <= 253 and bool(_DNS1123_SUBDOMAIN.match(name))


def is_label_value(value: str) -> bool:
    return isinstance(value, str) and (
        value == "" or (len(value) <= 63 and bool(_LABEL_NAME.match(value)))
    )


def is_qualified_name(key: str) -> bool:
    """A label or annotation key: an optional DNS subdomain prefix and '/', then a name."""
    if not isinstance(key, str):
        return False
    prefix, _, name = key.rpartition("/")
    if prefix and not is_dns1123_subdomain(prefix):
        return False
    return len(name) <= 63 and bool(_LABEL_NAME.match(name))


def is_quantity(value: str) -> bool:
    return isinstance(value, str) and bool(QUANTITY.match(value))


def is_image_reference(value: str) -> bool:
    return isinstance(value, str) and len(value) <= 4096 and bool(_IMAGE.match(value))


def dns_name(*parts: str, limit: int = 63) -> str:
    """A DNS-1035 label from `parts` joined by '-': lower-cased, other characters to '-'.

    When the result would be longer than `limit`, it is cut and ends in a short hash of
    the full name, so two long names stay distinct and the same input always gives the
    same name.
    """
    raw = "-".join(parts)
    name = re.sub(r"[^a-z0-9-]+", "-", raw.lower())
    name = re.sub(r"-{2,}", "-", name).strip("-")
    if not name or not name[0].isalpha():
        name = f"x-{name}".rstrip("-")
    if len(name) > limit:
        digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
        name = f"{name[: limit - 9].rstrip('-')}-{digest}"
    return name


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
    total = Fraction(0)
    position = 0
    while position < len(body):
        match = _GO_PART.match(body, position)
        if match is None or match.group(1) in ("", "."):
            raise DurationError(
                f"{text!r} is not a duration (write e.g. '30s', '5m' or '1h30m'; "
                "units ns, us, ms, s, m, h)"
            )
        total += Fraction(match.group(1)) * _GO_UNIT_NANOS[match.group(2)]
        position = match.end()
    nanos = int(total)
    if nanos > _INT64_MAX:
        raise DurationError(f"{text!r} is too long")
    return sign * nanos


def format_go_duration(seconds: int) -> str:
    """Whole seconds as a Go duration string ('0s', '90s'): valid, short and stable."""
    return f"{seconds}s"


def parse_iso8601_duration(text: str) -> Fraction:
    """Seconds from an ISO-8601 duration ('PT0.2S', 'PT1M', 'P1D'), as Knative's delivery reads it."""
    if not isinstance(text, str):
        raise DurationError(f"{text!r} is not a string")
    match = _ISO_DURATION.match(text)
    if match is None or text.endswith(("P", "T")) or all(g is None for g in match.groups()[1:]):
        raise DurationError(
            f"{text!r} is not an ISO-8601 duration (e.g. 'PT0.2S', 'PT30S', 'PT1M')"
        )
    total = Fraction(0)
    for value, unit in zip(match.groups()[1:], _ISO_SECONDS, strict=True):
        if value is not None:
            total += Fraction(value.replace(",", ".")) * unit
    return -total if match.group(1) == "-" else total


def format_iso8601_seconds(seconds: Fraction) -> str:
    """Seconds as 'PT<n>S' ('PT0.2S', 'PT30S'): the form Knative's examples use."""
    number = Decimal(seconds.numerator) / Decimal(seconds.denominator)
    text = format(number.normalize(), "f")
    return f"PT{text}S"


def parse_seconds(value: object) -> Fraction:
    """A duration setting in seconds: a number, or a string like '30', '500ms', '2m' or '1m30s'."""
    if isinstance(value, bool):
        raise DurationError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        try:
            return Fraction(Decimal(str(value)))
        except (InvalidOperation, ValueError):
            raise DurationError(f"{value!r} is not a duration") from None
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
            return Fraction(text)
        return Fraction(parse_go_duration(text), NANOS_PER_SECOND)
    raise DurationError(f"{value!r} is not a duration")
