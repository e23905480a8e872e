"""RFC 3339 timestamps to the nanosecond, as Knative reads and writes `time`.

A Python datetime holds microseconds; Go's `time.Time`, which Knative's broker and
filters use, holds nanoseconds (digits past the ninth are dropped). A `time` received
with more than six fractional digits becomes a `NanoTime`: still a datetime (what the
SDK's `get_time()` returns), which also carries the nanoseconds, so the text a filter
compares and the text kfn writes back keep every digit Knative keeps. Any other
timestamp stays a plain datetime: nothing changes on the common path.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any, Final

from kfn._errors import DecodingError

_RFC3339: Final = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)


class NanoTime(datetime):
    """A datetime that also keeps the nanoseconds below its microsecond.

    `isoformat()` (hence `str()` and the SDK's JSON format) writes nine fractional
    digits; `astimezone()` keeps them. Arithmetic and `replace()` give datetime's own
    microsecond precision, and comparisons see microseconds, as for any datetime.
    """

    __slots__ = ("_nanosecond",)

    _nanosecond: int

    @classmethod
    def of(cls, moment: datetime, nanosecond: int) -> NanoTime:
        """`moment` with `nanosecond` (0-999) nanoseconds past its microsecond."""
        result = cls(*_fields(moment), moment.tzinfo, fold=moment.fold)
        result._nanosecond = nanosecond
        return result

    @property
    def nanosecond(self) -> int:
        """Nanoseconds past the microsecond, 0-999 (0 on a value derived by arithmetic)."""
        return getattr(self, "_nanosecond", 0)

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        if timespec != "auto" or not self.nanosecond:
            return super().isoformat(sep, timespec)
        text = super().isoformat(sep, "seconds")
        fraction = f".{self.microsecond:06d}{self.nanosecond:03d}"
        return text[:19] + fraction + text[19:]

    def __str__(self) -> str:
        return self.isoformat(" ")

    def astimezone(self, tz: tzinfo | None = None) -> NanoTime:
        return NanoTime.of(super().astimezone(tz), self.nanosecond)

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        plain = datetime(*_fields(self), self.tzinfo, fold=self.fold)
        return (_restore, (plain, self.nanosecond))


def _fields(moment: datetime) -> tuple[int, int, int, int, int, int, int]:
    return (
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
    )


def _restore(moment: datetime, nanosecond: int) -> NanoTime:
    return NanoTime.of(moment, nanosecond)


def nanoseconds(moment: datetime) -> int:
    """The fraction of a second of `moment` in nanoseconds (0-999,999,999)."""
    extra = moment.nanosecond if isinstance(moment, NanoTime) else 0
    return moment.microsecond * 1000 + extra


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 timestamp; anything else (no zone, a date only) is rejected.

    Digits past the ninth are dropped, as Go's parser does.
    """
    match = _RFC3339.fullmatch(text)
    if not match:
        raise DecodingError(
            "invalid-time", f"attribute 'time' is not an RFC 3339 timestamp: {text!r}"
        )
    date, clock, fraction, zone = match.groups()
    fraction = fraction or ""
    zone = "+00:00" if zone in ("Z", "z") else zone
    try:
        moment = datetime.fromisoformat(f"{date}T{clock}{fraction[:7]}{zone}")
    except ValueError:
        raise DecodingError(
            "invalid-time", f"attribute 'time' is not a valid date: {text!r}"
        ) from None
    if len(fraction) > 7:
        nanosecond = int(fraction[7:10].ljust(3, "0"))
        if nanosecond:
            return NanoTime.of(moment, nanosecond)
    return moment
