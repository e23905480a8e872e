"""The string formats Kubernetes and Knative accept: names, quantities, durations, images.

Settings parsing and the webhook rules both check values with these, so a value
the settings accept is one the rules accept, and the messages agree.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from kfn._syntax import (
    NANOS_PER_SECOND,
    SERVICE_NAME,
    DurationError,
    is_service_name,
    parse_duration,
    parse_go_duration,
)

DNS1035_LABEL = SERVICE_NAME
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
# An OCI image reference: [registry[:port]/]path[:tag][@digest] (distribution/reference).
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE = re.compile(
    r"^(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?/)?"
    rf"{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$"
)

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


def is_dns1035_label(name: str) -> bool:
    """Knative's rule for Service names: a-z, 0-9 and '-', starting with a letter, <= 63."""
    return isinstance(name, str) and is_service_name(name)


def is_dns1123_label(name: str) -> bool:
    return isinstance(name, str) and len(name) <= 63 and bool(DNS1123_LABEL.match(name))


def is_dns1123_subdomain(name: str) -> bool:
    return isinstance(name, str) and len(name) <= 253 and bool(_DNS1123_SUBDOMAIN.match(name))


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
        return Fraction(parse_duration(value), NANOS_PER_SECOND)
    raise DurationError(f"{value!r} is not a duration")


__all__ = [
    "DNS1035_LABEL",
    "DNS1123_LABEL",
    "ENV_NAME",
    "NANOS_PER_SECOND",
    "QUANTITY",
    "DurationError",
    "dns_name",
    "format_go_duration",
    "format_iso8601_seconds",
    "is_dns1035_label",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_image_reference",
    "is_quantity",
    "parse_go_duration",
    "parse_iso8601_duration",
    "parse_seconds",
]
