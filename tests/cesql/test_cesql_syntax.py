"""Parsing CESQL: what is a syntax error, where it is reported, and how text groups."""

from __future__ import annotations

import pytest

from kfn._cesql import CesqlSyntaxError, ErrorKind, compile_expression


def value_of(source: str, **attributes: object) -> object:
    result = compile_expression(source).evaluate(attributes)
    assert result.errors == []
    return result.value


def syntax_error(source: str) -> CesqlSyntaxError:
    with pytest.raises(CesqlSyntaxError) as caught:
        compile_expression(source)
    return caught.value


def test_a_syntax_error_is_a_value_error_that_points_at_the_offending_token() -> None:
    error = syntax_error("subject = 'a' AND AND x")

    assert isinstance(error, ValueError)
    assert error.position == 18
    assert error.expression == "subject = 'a' AND AND x"
    assert error.kind is ErrorKind.PARSE
    assert str(error) == "unexpected token 'AND' at position 18: subject = 'a' AND AND x"


@pytest.mark.parametrize(
    ("source", "position"),
    [
        ("ABC(", 4),  # ran out of text: the position is the end
        ("'abc", 0),  # an unterminated string: where it opened
        ("a # b", 4),  # '#' starts no token: skipped, as Knative's lexer does, so 'a b'
        ("x LIKE 123", 7),  # LIKE wants a string literal, not a value cast to one
        ("a NOT b", 6),  # NOT after an operand must start NOT LIKE / NOT IN
        ("a IN ()", 6),  # IN needs at least one value
        ("my_ext = 1", 0),  # attribute names are letters and digits only
        ("-2147483649", 0),  # integer literals are 32-bit, sign included
        ("a b", 2),
    ],
)
def test_syntax_errors_report_where_they_are(source: str, position: int) -> None:
    assert syntax_error(source).position == position


def test_keywords_function_names_and_attribute_names_ignore_case() -> None:
    attributes = {"subject": "Eu-West"}

    assert value_of("EXISTS SUBJECT and Subject like 'Eu-%'", **attributes) is True
    assert value_of("lower(subject) = 'eu-west' AnD LoWeR(SuBjEcT) = 'eu-west'", **attributes)
    assert value_of("tRuE xor FALSE") is True
    assert value_of("'aBc' = 'abc'") is False  # string literals keep their case


def test_integer_literal_range_is_32_bit_with_the_sign_part_of_the_literal() -> None:
    assert value_of("-2147483648") == -(2**31)
    assert value_of("+2147483647") == 2**31 - 1
    assert syntax_error("2147483648").position == 0
    assert syntax_error("- 2147483648").position == 2  # spaced: negation of a too-big literal


def test_a_sign_against_digits_belongs_to_the_integer_literal() -> None:
    # Knative's lexer reads '4-1' as the integers 4 and -1: a syntax error.
    error = syntax_error("4-1")

    assert error.position == 1
    assert "write '- 1'" in error.message
    assert value_of("4 - 1") == 3
    assert value_of("4 - -1") == 5
    assert value_of("--10") == 10  # negation of the literal -10
    assert syntax_error("4 -1").position == 2


def test_and_or_xor_share_one_precedence_and_group_to_the_right() -> None:
    # a AND b OR c is a AND (b OR c) in Knative's grammar
    assert value_of("TRUE OR TRUE AND FALSE") is True
    assert value_of("FALSE AND FALSE OR TRUE") is False
    assert value_of("(FALSE AND FALSE) OR TRUE") is True
    assert value_of("FALSE AND TRUE XOR TRUE") is False


def test_unary_operators_bind_tighter_than_binary_ones() -> None:
    # NOT a = b is (NOT a) = b, as the spec's precedence table says
    assert value_of("NOT FALSE = FALSE") is False
    assert value_of("NOT (FALSE = FALSE)") is False
    assert value_of("NOT TRUE = FALSE") is True
    assert value_of("-2 * 3 + 1") == -5


def test_like_and_in_bind_tighter_than_comparison() -> None:
    assert value_of("TRUE = 'abc' LIKE 'a%'") is True
    assert value_of("1 + 1 IN (1)") == 2  # 1 + (1 IN (1)): TRUE cast to 1


def test_string_literals_escape_only_their_own_quote() -> None:
    assert value_of(r"'it\'s'") == "it's"
    assert value_of(r'"say \"hi\""') == 'say "hi"'
    assert value_of(r"'a\"b'") == 'a\\"b'  # \" inside '...' is not an escape
    assert value_of(r"'a\\'") == "a\\\\"  # a backslash takes the next character along


def test_long_flat_chains_compile_and_evaluate_without_deep_recursion() -> None:
    source = " OR ".join(f"type = 't{n}'" for n in range(2000))

    expression = compile_expression(source)

    assert expression.matches({"type": "t1999"})
    assert not expression.matches({"type": "t2000"})


def test_absurdly_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    assert "nested" in str(syntax_error("(" * 500 + "1" + ")" * 500))
    assert "nested" in str(syntax_error("NOT " * 500 + "TRUE"))
    assert "nested" in str(syntax_error(" + ".join(["1"] * 500)))
