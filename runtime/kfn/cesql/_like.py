"""LIKE patterns (spec 3.4.3), compiled once into a plain string test.

``%`` matches any run of characters, ``_`` exactly one, ``\\%`` and ``\\_`` the
characters themselves; a backslash before anything else is an ordinary character.
Matching is case-sensitive and by Unicode code point. The common filter shapes
(exact, ``prefix%``, ``%suffix``, ``%infix%``) become str methods; the rest a regex.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Matcher = Callable[[str], bool]

_ANY = object()  # '%'
_ONE = object()  # '_'


def _tokens(pattern: str) -> list[str | object]:
    """The pattern as literal characters and the two wildcards, runs of '%' merged."""
    tokens: list[str | object] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and pattern[index + 1 : index + 2] in ("%", "_"):
            tokens.append(pattern[index + 1])
            index += 2
            continue
        if char == "%":
            if not tokens or tokens[-1] is not _ANY:
                tokens.append(_ANY)
        elif char == "_":
            tokens.append(_ONE)
        else:
            tokens.append(char)
        index += 1
    return tokens


def _text(tokens: list[str | object]) -> str | None:
    """The literal text ``tokens`` spell, or None if they hold a wildcard."""
    if all(isinstance(token, str) for token in tokens):
        return "".join(token for token in tokens if isinstance(token, str))
    return None


def compile_like(pattern: str) -> Matcher:
    """A function telling whether a string matches the LIKE ``pattern``."""
    tokens = _tokens(pattern)
    whole = _text(tokens)
    if whole is not None:
        return whole.__eq__
    if tokens[-1] is _ANY:
        head = _text(tokens[:-1])
        if head is not None:
            return lambda value: value.startswith(head)
        if tokens[0] is _ANY:
            middle = _text(tokens[1:-1])
            if middle is not None:
                return lambda value: middle in value
    if tokens[0] is _ANY:
        tail = _text(tokens[1:])
        if tail is not None:
            return lambda value: value.endswith(tail)
    regex = "".join(
        ".*" if token is _ANY else "." if token is _ONE else re.escape(str(token))
        for token in tokens
    )
    fullmatch = re.compile(regex, re.DOTALL).fullmatch
    return lambda value: fullmatch(value) is not None
