"""LIKE patterns, matched as sdk-go's ``matchString`` matches them: over UTF-8 bytes.

``%`` matches any run of bytes and ``_`` exactly one byte (so ``'é' LIKE '_'`` is
false: é is two bytes). ``\\%`` and ``\\_`` match the character itself, but Go's
matcher only treats them so when the text holds that character there; elsewhere
the backslash is an ordinary character and the ``%`` or ``_`` after it a wildcard.
Go's matcher also tries a pattern's ``%`` as a literal ``%`` of the text first, and
does not always recover (``'%ab' LIKE '%b'`` is false). Patterns without a
backslash, on texts without ``%`` (nearly all), compile to a str method or a bytes
regex, which agree with Go there; the rest run a port of Go's matcher.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from kfn._cesql._values import to_bytes

Matcher = Callable[[str], bool]


def compile_like(pattern: str) -> Matcher:
    """A function telling whether a string matches the LIKE ``pattern``."""
    encoded = to_bytes(pattern)

    def go_match(value: str) -> bool:
        return match_bytes(to_bytes(value), encoded)

    if "\\" in pattern:
        return go_match
    # Go's matcher first tries a '%' of the pattern as the text's own '%' character,
    # and may then miss a match: only a text holding '%' needs the port.
    if "_" not in pattern:
        # Without '_' bytes and characters agree: UTF-8 is self-synchronising.
        pieces = pattern.split("%")
        if len(pieces) == 1:
            return pattern.__eq__
        if len(pieces) == 2:
            head, tail = pieces
            if not tail:
                return lambda value: value.startswith(head) if "%" not in value else go_match(value)
            if not head:
                return lambda value: value.endswith(tail) if "%" not in value else go_match(value)
        if len(pieces) == 3 and not pieces[0] and not pieces[2]:
            middle = pieces[1]
            return lambda value: (middle in value) if "%" not in value else go_match(value)
    regex = b"".join(
        b".*" if char == "%" else b"." if char == "_" else re.escape(to_bytes(char))
        for char in pattern
    )
    fullmatch = re.compile(regex, re.DOTALL).fullmatch
    if "%" not in pattern:
        return lambda value: fullmatch(to_bytes(value)) is not None
    return lambda value: (
        fullmatch(to_bytes(value)) is not None if "%" not in value else go_match(value)
    )


def match_bytes(text: bytes, pattern: bytes) -> bool:
    """sdk-go's matchString, step for step (one '%' remembered for backtracking)."""
    text_length = len(text)
    pattern_length = len(pattern)
    if pattern_length == 0:
        return text_length == 0
    text_index = pattern_index = 0
    last_wildcard = -1
    last_match = 0
    backslash, underscore, percent = 0x5C, 0x5F, 0x25
    while text_index < text_length:
        if (
            pattern_index < pattern_length - 1
            and pattern[pattern_index] == backslash
            and pattern[pattern_index + 1] in (underscore, percent)
            and pattern[pattern_index + 1] == text[text_index]
        ):
            pattern_index += 2
            text_index += 1
        elif pattern_index < pattern_length and (
            pattern[pattern_index] == underscore or pattern[pattern_index] == text[text_index]
        ):
            text_index += 1
            pattern_index += 1
        elif pattern_index < pattern_length and pattern[pattern_index] == percent:
            last_wildcard = pattern_index
            last_match = text_index
            pattern_index += 1
        elif last_wildcard != -1:
            pattern_index = last_wildcard + 1
            last_match += 1
            text_index = last_match
        else:
            return False
    return all(byte == percent for byte in pattern[pattern_index:])
