"""JSON as the wire carries it: parsed strictly, written only as JSON.

Python's `json` module reads `NaN` and `Infinity` (not JSON), turns `1e400` into an
infinity it would write back as `Infinity`, and meets deep nesting with a
RecursionError. Here a received document is refused (DecodingError, a 400) for any
of those, and nesting is bounded by MAX_DEPTH: far below the interpreter's recursion
limit, so what is accepted can also be validated, handled and written back.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from typing import Any

from kfn._errors import DecodingError

MAX_DEPTH = 128
"""How many arrays and objects event data may nest (the event's own object not counted)."""

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = str.maketrans({"[": "\x02", "{": "\x02", "]": "\x00", "}": "\x00"})


def _no_constant(name: str) -> Any:
    raise DecodingError(
        "not-json",
        f"the body is not valid JSON: {name} is not a JSON number",
    )


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise DecodingError(
            "number-out-of-range",
            f"the JSON number {text[:40]!r} is beyond the range of a double",
        )
    return value


def _too_deep() -> DecodingError:
    return DecodingError(
        "too-deeply-nested",
        f"the event data nests deeper than {MAX_DEPTH} arrays or objects, the host's limit",
    )


def depth_of(text: str) -> int:
    """How deep arrays and objects nest in a valid JSON text (strings skipped)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).translate(_STEP)
    return max(itertools.accumulate(ord(step) - 1 for step in brackets), default=0)


def loads(body: bytes, envelope: int = 0) -> Any:
    """A JSON document; DecodingError when it holds NaN or Infinity, a number no double
    can hold, or data nested past MAX_DEPTH below `envelope` levels (an event, a batch).

    ValueError (with UnicodeDecodeError) still means "not JSON at all", so callers
    keep their own message for it.
    """
    depth = MAX_DEPTH + envelope
    try:
        value = json.loads(body, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise _too_deep() from None
    if body.count(b"[") + body.count(b"{") > depth:
        text = body.decode(json.detect_encoding(body), "surrogatepass")
        if depth_of(text) > depth:
            raise _too_deep()
    return value


def dumps(value: Any, **options: Any) -> bytes:
    """JSON in UTF-8; ValueError for NaN or an infinity, rather than text that is not JSON.

    UTF-8 as is (not `\\u` escapes), so a lone surrogate, which no receiver can
    decode, raises UnicodeEncodeError here instead of going out escaped.
    """
    return json.dumps(value, allow_nan=False, ensure_ascii=False, **options).encode()
