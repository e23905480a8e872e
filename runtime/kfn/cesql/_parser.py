"""Turn CESQL text into a syntax tree (spec section 2), by precedence climbing.

Precedence, tightest first, as spec 3.6 lists it: function invocation; unary NOT
and ``-``; LIKE; EXISTS; IN; ``* / %``; ``+ -``; comparisons; AND, OR and XOR
(one level). Operators of equal precedence group left to right. Two consequences
surprise SQL users and are the spec's own: ``NOT a = b`` is ``(NOT a) = b``, and
``a OR b AND c`` is ``(a OR b) AND c``.
"""

from __future__ import annotations

import re

from kfn.cesql._errors import CesqlSyntaxError
from kfn.cesql._lexer import Token, TokenKind, tokenize
from kfn.cesql._nodes import (
    Binary,
    Call,
    Exists,
    Identifier,
    In,
    Like,
    Literal,
    Logical,
    Negate,
    Node,
    Not,
    depth,
)
from kfn.cesql._values import INT32_MAX

MAX_DEPTH = 100
"""Deepest tree accepted. Evaluation recurses once per level, so this bounds the stack
an event costs; chains of AND/OR/XOR are flat and do not count against it."""

_LOGICAL = frozenset({"AND", "OR", "XOR"})
_BINDING = {
    "AND": 1,
    "OR": 1,
    "XOR": 1,
    "=": 2,
    "!=": 2,
    "<>": 2,
    "<": 2,
    "<=": 2,
    ">": 2,
    ">=": 2,
    "+": 3,
    "-": 3,
    "*": 4,
    "/": 4,
    "%": 4,
    "IN": 5,
    "LIKE": 6,
}
_NEGATE_BINDING = 7
_NOT_BINDING = 8

# Attribute names are a-z and 0-9 (spec 2.2); written in any case, as keywords are,
# and looked up lower-cased (the TCK's ``EXISTS SOURCE``). Function names are
# letters and underscores, starting with a letter (spec 2.4).
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9]+")
_FUNCTION_NAME = re.compile(r"[A-Za-z][A-Za-z_]*")


def parse(source: str) -> Node:
    """The syntax tree of ``source``; raises CesqlSyntaxError if it is not CESQL."""
    return _Parser(source).parse()


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0
        self.nesting = 0

    def parse(self) -> Node:
        tree = self._expression(0)
        token = self._peek()
        if token.kind is not TokenKind.END:
            raise self._unexpected(token)
        if depth(tree) > MAX_DEPTH:
            raise CesqlSyntaxError(
                f"expression is nested more than {MAX_DEPTH} levels deep", self.source, 0
            )
        return tree

    # -- token stream -----------------------------------------------------------

    def _peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def _advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind is not TokenKind.END:
            self.index += 1
        return token

    def _error(self, token: Token, message: str) -> CesqlSyntaxError:
        return CesqlSyntaxError(message, self.source, token.position)

    def _unexpected(self, token: Token) -> CesqlSyntaxError:
        return self._error(token, f"unexpected {token.describe(self.source)}")

    def _expect(self, kind: TokenKind, what: str) -> Token:
        token = self._advance()
        if token.kind is not kind:
            raise self._error(token, f"expected {what}, found {token.describe(self.source)}")
        return token

    # -- expressions --------------------------------------------------------------

    def _expression(self, min_binding: int) -> Node:
        """An expression whose infix operators all bind at least ``min_binding``."""
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise self._error(
                self._peek(), f"expression is nested more than {MAX_DEPTH} levels deep"
            )
        left = self._prefix()
        while True:
            token = self._peek()
            operator, negated = self._infix_operator(token)
            if operator is None or _BINDING[operator] < min_binding:
                break
            self._advance()
            if negated:
                self._advance()
            left = self._infix(operator, negated, left, token)
        self.nesting -= 1
        return left

    def _infix_operator(self, token: Token) -> tuple[str | None, bool]:
        """The infix operator ``token`` starts, and whether it is NOT LIKE / NOT IN."""
        if token.kind is TokenKind.OPERATOR:
            return token.value, False
        if token.kind is not TokenKind.KEYWORD:
            return None, False
        if token.value == "NOT":
            following = self._peek(1)
            if following.kind is TokenKind.KEYWORD and following.value in ("LIKE", "IN"):
                return following.value, True
            raise self._error(
                following, f"expected LIKE or IN after NOT, found {following.describe(self.source)}"
            )
        if token.value in _BINDING:
            return token.value, False
        return None, False

    def _infix(self, operator: str, negated: bool, left: Node, token: Token) -> Node:
        position = token.position
        node: Node
        if operator == "LIKE":
            pattern = self._advance()
            if pattern.kind is not TokenKind.STRING:
                raise self._error(
                    pattern,
                    f"the pattern of LIKE must be a string literal, "
                    f"found {pattern.describe(self.source)}",
                )
            node = Like(left, pattern.value, position)
        elif operator == "IN":
            node = In(left, self._set(), position)
        elif operator in _LOGICAL:
            right = self._expression(_BINDING[operator] + 1)
            if isinstance(left, Logical):  # (a OR b) AND c is the chain a OR b AND c
                return Logical(left.first, (*left.rest, (operator, right)), left.position)
            return Logical(left, ((operator, right),), position)
        else:
            right = self._expression(_BINDING[operator] + 1)
            if operator in ("!=", "<>"):
                return Not(Binary("=", left, right, position), position)
            return Binary(operator, left, right, position)
        return Not(node, position) if negated else node

    def _prefix(self) -> Node:
        token = self._advance()
        kind = token.kind
        position = token.position
        if kind is TokenKind.INTEGER:
            return Literal(self._integer(token, negative=False, start=position), position)
        if kind is TokenKind.STRING:
            return Literal(token.value, position)
        if kind is TokenKind.LPAREN:
            inner = self._expression(0)
            self._expect(TokenKind.RPAREN, "')'")
            return inner
        if kind is TokenKind.WORD:
            if self._peek().kind is TokenKind.LPAREN:
                return self._call(token)
            return Identifier(self._attribute_name(token), position)
        if kind is TokenKind.KEYWORD:
            if token.value in ("TRUE", "FALSE"):
                return Literal(token.value == "TRUE", position)
            if token.value == "NOT":
                return Not(self._expression(_NOT_BINDING), position)
            if token.value == "EXISTS":
                return Exists(self._attribute_name(self._advance()), position)
        if kind is TokenKind.OPERATOR and token.value in ("-", "+"):
            digits = self._peek()
            # integer-literal ::= ('+' | '-')? digit+ : a sign written against the digits
            # is part of the literal, which is how -2147483648 can be written at all.
            if digits.kind is TokenKind.INTEGER and digits.position == token.end:
                self._advance()
                value = self._integer(digits, negative=token.value == "-", start=position)
                return Literal(value, position)
            if token.value == "-":
                return Negate(self._expression(_NEGATE_BINDING), position)
        raise self._unexpected(token)

    def _integer(self, token: Token, *, negative: bool, start: int) -> int:
        """The value of an integer literal, sign included; it must fit in 32 bits (spec 2.2)."""
        digits = token.value.lstrip("0") or "0"
        limit = INT32_MAX + 1 if negative else INT32_MAX
        if len(digits) > 10 or int(digits) > limit:
            literal = self.source[start : token.end]
            raise CesqlSyntaxError(
                f"integer literal {literal} is out of the 32-bit range", self.source, start
            )
        return -int(digits) if negative else int(digits)

    def _attribute_name(self, token: Token) -> str:
        # An all-digit name is lexed as an integer, but is a valid attribute name
        # where only a name can stand (after EXISTS).
        if token.kind in (TokenKind.WORD, TokenKind.INTEGER):
            if _ATTRIBUTE_NAME.fullmatch(token.value):
                return token.value.lower()
            raise self._error(
                token,
                f"{token.value!r} is not a valid attribute name "
                "(attribute names are letters a-z and digits 0-9)",
            )
        raise self._error(token, f"expected an attribute name, found {token.describe(self.source)}")

    def _call(self, name: Token) -> Call:
        if not _FUNCTION_NAME.fullmatch(name.value):
            raise self._error(
                name,
                f"{name.value!r} is not a valid function name "
                "(function names are letters and underscores)",
            )
        self._advance()  # the opening parenthesis
        arguments: list[Node] = []
        if self._peek().kind is TokenKind.RPAREN:
            self._advance()
        else:
            arguments = self._list(f"the arguments of {name.value.upper()}")
        return Call(name.value.upper(), tuple(arguments), name.position)

    def _set(self) -> tuple[Node, ...]:
        """The parenthesised, non-empty list of values after IN."""
        self._expect(TokenKind.LPAREN, "'(' after IN")
        if self._peek().kind is TokenKind.RPAREN:
            raise self._error(self._peek(), "IN needs at least one value")
        return tuple(self._list("the values of IN"))

    def _list(self, what: str) -> list[Node]:
        """Comma-separated expressions up to and including the closing parenthesis."""
        items = [self._expression(0)]
        while True:
            token = self._advance()
            if token.kind is TokenKind.RPAREN:
                return items
            if token.kind is not TokenKind.COMMA:
                raise self._error(
                    token, f"expected ',' or ')' in {what}, found {token.describe(self.source)}"
                )
            items.append(self._expression(0))
