"""Split CESQL source text into tokens exactly as Knative's lexer does.

Knative parses CESQL with cloudevents sdk-go ``sql/v2``, an ANTLR lexer over the
upper-cased input: at each position the longest token wins, ties go to the rule
listed first (keywords, then integers, then names). Three consequences differ from
the spec's prose and are reproduced here:

* An integer literal takes a sign written against its digits, so ``5-3`` is the two
  integers ``5`` and ``-3`` (a syntax error) while ``5 - 3`` is a subtraction.
* A character that starts no token is skipped, as ANTLR's lexer recovers (``!``
  takes the next character with it); the positions are kept in ``ignored``.
* String literals end at the first unescaped quote; ``\\'`` (``\\"``) is the quote
  itself and every other backslash pair, and a doubled quote, stays as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

KEYWORDS = frozenset({"AND", "OR", "XOR", "NOT", "LIKE", "EXISTS", "IN", "TRUE", "FALSE"})


class TokenKind(Enum):
    NAME = auto()  # letters only: an attribute or a function name
    NAME_WITH_DIGITS = auto()  # letters and digits: an attribute name only
    NAME_WITH_UNDERSCORE = auto()  # a letter, then letters and underscores: a function name
    KEYWORD = auto()  # value is the upper-cased keyword
    INTEGER = auto()  # value is the literal's text, sign included
    STRING = auto()  # value is the literal's text, unescaped as Knative does
    OPERATOR = auto()  # value is the symbol, e.g. '<='
    LPAREN = auto()
    RPAREN = auto()
    COMMA = auto()
    QUOTE = auto()  # a quote that opens no complete string: no rule takes it
    END = auto()


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    value: str
    position: int
    end: int

    def describe(self, source: str) -> str:
        """How an error message names this token."""
        if self.kind is TokenKind.END:
            return "end of expression"
        return f"token {source[self.position : self.end]!r}"


@dataclass(frozen=True, slots=True)
class Tokens:
    tokens: list[Token]
    ignored: tuple[int, ...]
    """Positions of characters the lexer skipped because no token starts with them."""


_SKIPPED = " \t\r\n"
_PUNCTUATION = {"(": TokenKind.LPAREN, ")": TokenKind.RPAREN, ",": TokenKind.COMMA}
_TWO_CHARACTER = ("!=", "<>", "<=", ">=")
_ONE_CHARACTER = frozenset("=<>+-*/%")
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")


def _upper(char: str) -> str:
    """The character the lexer matches against: Go's simple upper-case mapping."""
    upper = char.upper()
    return upper if len(upper) == 1 else char


def tokenize(source: str) -> Tokens:
    """All tokens of ``source``, ending with an END token at ``len(source)``."""
    tokens: list[Token] = []
    ignored: list[int] = []
    matched = source.upper() if source.isascii() else "".join(map(_upper, source))
    index = 0
    length = len(source)
    while index < length:
        char = matched[index]
        if char in _SKIPPED:
            index += 1
            continue
        if char in _PUNCTUATION:
            tokens.append(Token(_PUNCTUATION[char], char, index, index + 1))
            index += 1
            continue
        if char == "'" or char == '"':
            token = _string(source, index)
            tokens.append(token)
            index = token.end
            continue
        if char in _LETTERS or char in _DIGITS or (char in "+-" and _digit_at(matched, index + 1)):
            token = _word(source, matched, index)
            tokens.append(token)
            index = token.end
            continue
        pair = matched[index : index + 2]
        if pair in _TWO_CHARACTER:
            tokens.append(Token(TokenKind.OPERATOR, pair, index, index + 2))
            index += 2
            continue
        if char in _ONE_CHARACTER:
            tokens.append(Token(TokenKind.OPERATOR, char, index, index + 1))
            index += 1
            continue
        # No token starts here. ANTLR reports it and skips the character where
        # matching failed: for '!' (a prefix of '!=') that is the one after it too.
        ignored.append(index)
        index += 2 if char == "!" else 1
    tokens.append(Token(TokenKind.END, "", length, length))
    return Tokens(tokens, tuple(ignored))


def _digit_at(matched: str, index: int) -> bool:
    return index < len(matched) and matched[index] in _DIGITS


def _run(matched: str, start: int, allowed: frozenset[str]) -> int:
    end = start
    while end < len(matched) and matched[end] in allowed:
        end += 1
    return end


_ALNUM = _LETTERS | _DIGITS
_FUNCTION_TAIL = _LETTERS | {"_"}


def _word(source: str, matched: str, start: int) -> Token:
    """The longest of: integer, letters, letters-and-digits, function name (ties in that order)."""
    first = matched[start]
    if first in "+-":
        end = _run(matched, start + 1, _DIGITS)
        return Token(TokenKind.INTEGER, source[start:end], start, end)
    candidates: list[tuple[int, TokenKind]] = []
    if first in _DIGITS:
        candidates.append((_run(matched, start, _DIGITS), TokenKind.INTEGER))
    else:
        candidates.append((_run(matched, start, _LETTERS), TokenKind.NAME))
    candidates.append((_run(matched, start, _ALNUM), TokenKind.NAME_WITH_DIGITS))
    if first in _LETTERS:
        candidates.append(
            (_run(matched, start + 1, _FUNCTION_TAIL), TokenKind.NAME_WITH_UNDERSCORE)
        )
    end, kind = candidates[0]
    for candidate_end, candidate_kind in candidates[1:]:
        if candidate_end > end:
            end, kind = candidate_end, candidate_kind
    if kind is TokenKind.NAME and matched[start:end] in KEYWORDS:
        return Token(TokenKind.KEYWORD, matched[start:end], start, end)
    return Token(kind, source[start:end], start, end)


def _string(source: str, start: int) -> Token:
    """A quoted string literal starting at ``start``, or a lone QUOTE if none closes.

    ANTLR takes the longest literal: a doubled quote continues it, and if the text
    then ends unclosed the lexer falls back to the last point where it was closed.
    """
    quote = source[start]
    index = start + 1
    length = len(source)
    closed = -1
    while index < length:
        char = source[index]
        if char == "\\":
            if index + 1 >= length:
                break
            index += 2
        elif char == quote:
            closed = index + 1
            if index + 1 < length and source[index + 1] == quote:
                index += 2
                continue
            break
        else:
            index += 1
    if closed < 0:
        return Token(TokenKind.QUOTE, quote, start, start + 1)
    text = source[start + 1 : closed - 1].replace("\\" + quote, quote)
    return Token(TokenKind.STRING, text, start, closed)
