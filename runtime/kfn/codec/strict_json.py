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
from array import array
from typing import Any

from kfn._errors import DecodingError

MAX_DEPTH = 128
"""How many arrays and objects event data may nest (the event's own object not counted)."""

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*"')
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'"[]{}')
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1, +1, -1, -1 as signed bytes


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


_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)
"""One decoder, made once: json.loads with hooks would build one per call. The float
hook costs a call per number with a fraction or exponent; a regex scan for numbers
that may overflow costs as much as the parse on every large body, so it is not used."""


def _too_deep() -> DecodingError:
    return DecodingError(
        "too-deeply-nested",
        f"the event data nests deeper than {MAX_DEPTH} arrays or objects, the host's limit",
    )


def depth_of(document: bytes) -> int:
    """How deep arrays and objects nest in a valid JSON document in UTF-8 (strings skipped).

    Escapes go first, then every byte but quotes and brackets, then the strings
    (now short): what is left are the brackets, summed as steps up and down.
    """
    if b"\\" in document:
        document = _ESCAPE.sub(b"", document)
    brackets = _STRING.sub(b"", document.translate(None, _NOT_STRUCTURE))
    return max(itertools.accumulate(array("b", brackets.translate(_STEPS))), default=0)


def loads(body: bytes, envelope: int = 0) -> Any:
    """A JSON document; DecodingError when it holds NaN or Infinity, a number no double
    can hold, or data nested past MAX_DEPTH below `envelope` levels (an event, a batch).

    ValueError (with UnicodeDecodeError) still means "not JSON at all", so callers
    keep their own message for it.
    """
    depth = MAX_DEPTH + envelope
    # Two ASCII bytes first, neither NUL, is no BOM and no UTF-16/32: UTF-8, as
    # json.detect_encoding would find with more work (RFC 8259, section 8.1).
    if len(body) >= 2 and 0 < body[0] < 0x80 and 0 < body[1] < 0x80:
        encoding = "utf-8"
    else:
        encoding = json.detect_encoding(body)
    text = body.decode(encoding)  # strictly: an encoded lone surrogate is not UTF-8
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise _too_deep() from None
    if body.count(b"[") + body.count(b"{") > depth:
        utf8 = body if encoding.startswith("utf-8") else text.encode()
        if depth_of(utf8) > depth:
            raise _too_deep()
    return value


def dumps(value: Any, **options: Any) -> bytes:
    """JSON in UTF-8; ValueError for NaN or an infinity, rather than text that is not JSON.

    UTF-8 as is (not `\\u` escapes), so a lone surrogate, which no receiver can
    decode, raises UnicodeEncodeError here instead of going out escaped.
    """
    return json.dumps(value, allow_nan=False, ensure_ascii=False, **options).encode()
