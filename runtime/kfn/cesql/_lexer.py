"""Split CESQL source text into tokens, each remembering where it started.

Keywords are recognised case-insensitively (spec 2) and reported upper-cased;
everything else that looks like a word stays as written, because only the parser
knows whether it is an attribute name or a function name. Signs are never part of an
integer token: whether ``-`` negates or subtracts depends on where it stands, which
is the parser's business too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, auto

from kfn.cesql._errors import CesqlSyntaxError

KEYWORDS = frozenset({"AND", "OR", "XOR", "NOT", "LIKE", "EXISTS", "IN", "TRUE", "FALSE"})


class TokenKind(Enum):
    WORD = auto()  # attribute or function name, as written
    KEYWORD = auto()  # value is the upper-cased keyword
    INTEGER = auto()  # value is the digits, unsigned
    STRING = auto()  # value is the unescaped text
    OPERATOR = auto()  # value is the symbol, e.g. '<='
    LPAREN = auto()
    RPAREN = auto()
    COMMA = auto()
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


_WHITESPACE = " \t\r\n"
_WORD = re.compile(r"[A-Za-z0-9_]+")
_OPERATORS = ("!=", "<>", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%")
_PUNCTUATION = {"(": TokenKind.LPAREN, ")": TokenKind.RPAREN, ",": TokenKind.COMMA}


def tokenize(source: str) -> list[Token]:
    """All tokens of ``source``, ending with an END token at ``len(source)``."""
    tokens: list[Token] = []
    index = 0
    length = len(source)
    while index < length:
        char = source[index]
        if char in _WHITESPACE:
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
        word = _WORD.match(source, index)
        if word is not None:
            tokens.append(_word(word.group(), index))
            index = word.end()
            continue
        for symbol in _OPERATORS:
            if source.startswith(symbol, index):
                tokens.append(Token(TokenKind.OPERATOR, symbol, index, index + len(symbol)))
                index += len(symbol)
                break
        else:
            raise CesqlSyntaxError(f"unexpected character {char!r}", source, index)
    tokens.append(Token(TokenKind.END, "", length, length))
    return tokens


def _word(text: str, position: int) -> Token:
    end = position + len(text)
    if text.isdigit():
        return Token(TokenKind.INTEGER, text, position, end)
    upper = text.upper()
    if upper in KEYWORDS:
        return Token(TokenKind.KEYWORD, upper, position, end)
    return Token(TokenKind.WORD, text, position, end)


def _string(source: str, start: int) -> Token:
    """A quoted string literal starting at ``start``.

    The spec's grammar allows an escaped delimiter (``\\'`` inside ``'...'``,
    ``\\"`` inside ``"..."``) and nothing else. A backslash before any other
    character stays in the text together with that character (so a LIKE pattern
    receives ``\\%`` intact), and it takes that character with it, so ``'a\\\\'`` is
    the two-backslash string ``a\\\\`` rather than an unterminated one.
    """
    quote = source[start]
    parts: list[str] = []
    index = start + 1
    length = len(source)
    while index < length:
        char = source[index]
        if char == quote:
            return Token(TokenKind.STRING, "".join(parts), start, index + 1)
        if char == "\\" and index + 1 < length:
            following = source[index + 1]
            parts.append(following if following == quote else char + following)
            index += 2
            continue
        parts.append(char)
        index += 1
    raise CesqlSyntaxError("unterminated string literal", source, start)
