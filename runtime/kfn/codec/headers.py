"""Header values of binary mode: quoted-string and percent-decoding (HTTP-RULES B7, B8)."""

from __future__ import annotations

from urllib.parse import quote, unquote_to_bytes

from kfn._errors import DecodingError

# Printable ASCII stays as is, except space, '"' and '%' (HTTP binding 3.1.3.2).
_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in ' "%')


def decode_value(name: str, raw: bytes) -> str:
    """One ce- header value: undo a quoted-string, then exactly one round of %-decoding."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise DecodingError(
            "invalid-header-encoding",
            f"header ce-{name} holds raw non-ASCII bytes; percent-encode them",
        ) from None
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = _unquote_string(text[1:-1])
    if "%" not in text:
        return text
    try:
        return unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        raise DecodingError(
            "invalid-header-encoding",
            f"header ce-{name} percent-decodes to invalid UTF-8",
        ) from None


def _unquote_string(inner: str) -> str:
    """The content of an RFC 7230 quoted-string: backslash escapes the next character."""
    if "\\" not in inner:
        return inner
    out: list[str] = []
    escaped = False
    for char in inner:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append(char)
    return "".join(out)


def encode_value(value: str) -> bytes:
    """Percent-encode for a ce- header: UTF-8 bytes, upper-case hex."""
    return quote(value, safe=_SAFE).encode("ascii")
