"""Turn CESQL text into a syntax tree as Knative's parser does, by precedence climbing.

Knative's grammar is sdk-go's ``CESQLParser.g4`` (the spec repository's own). Its
precedence, tightest first: function invocation; unary ``NOT``; unary ``-``;
``LIKE``; ``EXISTS``; ``IN``; ``* / %``; ``+ -``; comparisons; and ``AND``, ``OR``
and ``XOR`` at one level. Comparisons and arithmetic group left to right; the
logical operators group to the *right*, so ``FALSE AND FALSE OR TRUE`` is
``FALSE AND (FALSE OR TRUE)``: false. ``NOT a = b`` is ``(NOT a) = b``.
"""

from __future__ import annotations

from kfn._cesql._errors import CesqlSyntaxError
from kfn._cesql._lexer import Token, TokenKind, tokenize
from kfn._cesql._nodes import (
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
from kfn._cesql._values import INT32_MAX, INT32_MIN

MAX_DEPTH = 100
"""Deepest tree accepted (Knative has no limit). Evaluation recurses once per level, so
this bounds the stack an event costs; chains of AND/OR/XOR are flat and do not count."""

_LOGICAL = frozenset({"AND", "OR", "XOR"})
_LOGICAL_BINDING = 3
_BINDING = {
    "AND": _LOGICAL_BINDING,
    "OR": _LOGICAL_BINDING,
    "XOR": _LOGICAL_BINDING,
    "=": 4,
    "!=": 4,
    "<>": 4,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
    "IN": 7,
    "LIKE": 9,
}
_NEGATE_BINDING = 10
_NOT_BINDING = 11

_ATTRIBUTE_TOKENS = (TokenKind.NAME, TokenKind.NAME_WITH_DIGITS)
_FUNCTION_TOKENS = (TokenKind.NAME, TokenKind.NAME_WITH_UNDERSCORE)


def parse(source: str) -> tuple[Node, tuple[int, ...]]:
    """The syntax tree of ``source`` and the positions of the characters its lexer skipped.

    Raises CesqlSyntaxError where Knative's parser reports an error (its webhook
    then refuses the Trigger).
    """
    parser = _Parser(source)
    return parser.parse(), parser.ignored


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        lexed = tokenize(source)
        self.tokens = lexed.tokens
        self.ignored = lexed.ignored
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
        message = f"unexpected {token.describe(self.source)}"
        if token.kind is TokenKind.INTEGER and token.value[0] in "+-":
            sign = token.value[0]
            message += (
                f" (a sign written against digits belongs to the number: "
                f"write '{sign} {token.value[1:]}' to add or subtract)"
            )
        elif token.kind is TokenKind.QUOTE:
            message = f"unterminated string literal starting with {token.value}"
        return self._error(token, message)

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
            if operator in _LOGICAL:
                left = self._logical(left, operator, token)
                break  # the right operand took every logical operator that follows
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

    def _logical(self, first: Node, operator: str, token: Token) -> Logical:
        """``first op e1 op e2 ...``: a right-nested chain, held flat (see Logical)."""
        rest: list[tuple[str, Node]] = []
        while True:
            operand = self._expression(_LOGICAL_BINDING + 1)
            rest.append((operator, operand))
            following = self._peek()
            if following.kind is not TokenKind.KEYWORD or following.value not in _LOGICAL:
                return Logical(first, tuple(rest), token.position)
            operator = self._advance().value

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
            return Literal(self._integer(token), position)
        if kind is TokenKind.STRING:
            return Literal(token.value, position)
        if kind is TokenKind.LPAREN:
            inner = self._expression(0)
            self._expect(TokenKind.RPAREN, "')'")
            return inner
        if kind in _FUNCTION_TOKENS and self._peek().kind is TokenKind.LPAREN:
            return self._call(token)
        if kind in _ATTRIBUTE_TOKENS:
            return Identifier(token.value.lower(), position)
        if kind is TokenKind.NAME_WITH_UNDERSCORE:
            raise self._error(
                token,
                f"{token.value!r} is not a valid attribute name "
                "(attribute names are letters a-z and digits 0-9)",
            )
        if kind is TokenKind.KEYWORD:
            if token.value in ("TRUE", "FALSE"):
                return Literal(token.value == "TRUE", position)
            if token.value == "NOT":
                return Not(self._expression(_NOT_BINDING), position)
            if token.value == "EXISTS":
                return Exists(self._attribute_name(self._advance()), position)
        if kind is TokenKind.OPERATOR and token.value == "-":
            return Negate(self._expression(_NEGATE_BINDING), position)
        raise self._unexpected(token)

    def _integer(self, token: Token) -> int:
        """The value of an integer literal, sign included; it must fit in 32 bits."""
        text = token.value
        digits = text.lstrip("+-").lstrip("0") or "0"
        negative = text[0] == "-"
        if len(digits) <= 10:
            value = -int(digits) if negative else int(digits)
            if INT32_MIN <= value <= INT32_MAX:
                return value
        raise CesqlSyntaxError(
            f"integer literal {text} is out of the 32-bit range", self.source, token.position
        )

    def _attribute_name(self, token: Token) -> str:
        if token.kind in _ATTRIBUTE_TOKENS:
            return token.value.lower()
        raise self._error(
            token,
            f"expected an attribute name (letters a-z and digits 0-9, not only digits), "
            f"found {token.describe(self.source)}",
        )

    def _call(self, name: Token) -> Call:
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
