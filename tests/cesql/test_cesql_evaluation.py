"""Evaluating CESQL: filter semantics, attribute values, errors, and totality."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kfn._cesql import EvaluationResult, compile_expression
from kfn._cesql._functions import Function, FunctionTable
from kfn._cesql._like import compile_like, match_bytes
from kfn._cesql._values import CesqlType

EVENT = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}


def evaluate(source: str, **attributes: object) -> EvaluationResult:
    return compile_expression(source).evaluate({**EVENT, **attributes})


def test_the_expression_keeps_its_source() -> None:
    assert compile_expression("subject LIKE 'eu-%'").source == "subject LIKE 'eu-%'"


# -- matches(): Knative Trigger semantics ---------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("subject LIKE 'eu-%' AND EXISTS myext", True),
        ("subject LIKE 'us-%'", False),
        ("'true'", False),  # a String is not a Boolean, even this one
        ("1", False),
        ("NOT 10", False),  # an Integer casts to a Boolean: NOT TRUE
        ("TRUE OR missing", True),  # short-circuited: missing is never read
        ("FALSE OR missing", False),  # MissingAttributeError
        ("NOT EXISTS missing", True),
        ("NOWHERE(subject)", False),  # MissingFunctionError
    ],
)
def test_matches_only_a_boolean_true_reached_without_errors(source: str, expected: bool) -> None:
    attributes = {**EVENT, "subject": "eu-west", "myext": "x"}

    assert compile_expression(source).matches(attributes) is expected


def test_a_value_beside_an_error_is_still_reported_by_evaluate() -> None:
    result = evaluate("LEFT('abc', -1)")

    assert result.value == "abc"
    assert [error.kind for error in result.errors] == ["functionEvaluation"]


# -- attribute values -----------------------------------------------------------------


class Priority(enum.IntEnum):
    HIGH = 7


@pytest.mark.parametrize(
    ("value", "seen_as"),
    [
        (datetime(2018, 4, 26, 14, 48, 9, tzinfo=UTC), "2018-04-26T14:48:09Z"),
        (
            datetime(2018, 4, 26, 14, 48, 9, 250000, tzinfo=timezone(timedelta(hours=2))),
            "2018-04-26T14:48:09.25+02:00",  # Go's RFC3339Nano: no trailing zeros
        ),
        (datetime(2018, 4, 26, 14, 48, 9), "2018-04-26T14:48:09Z"),  # naive: taken as UTC
        (b"\x00\x01hello", "AAFoZWxsbw=="),  # Binary: base64
        (bytearray(b"hi"), "aGk="),
        (2**40, "1099511627776"),  # not a 32-bit Integer, so seen as a String
        (Priority.HIGH, 7),
        (True, True),
        (-5, -5),
    ],
)
def test_attribute_values_map_to_cesql_types(value: object, seen_as: object) -> None:
    result = evaluate("myattr", myattr=value)

    assert result.errors == []
    assert type(result.value) is type(seen_as)
    assert result.value == seen_as


def test_a_timestamp_attribute_can_be_compared_as_text() -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)

    assert compile_expression("time LIKE '2024-01-%Z'").matches({**EVENT, "time": when})


def test_an_attribute_set_to_none_is_absent() -> None:
    assert evaluate("EXISTS subject", subject=None).value is False
    assert [error.kind for error in evaluate("subject = 'x'", subject=None).errors] == [
        "missingAttribute"
    ]


def test_integer_attributes_compare_as_numbers_and_text_as_cast_numbers() -> None:
    assert evaluate("sequence > 9", sequence=10).value is True
    assert evaluate("sequence > 9", sequence="10").value is True  # '10' > '9' would be false


# -- errors -----------------------------------------------------------------------------


def test_an_unknown_function_is_reported_per_evaluation_without_evaluating_arguments() -> None:
    result = evaluate("NOWHERE(1 / 0)")

    assert result.value is False
    assert [error.kind for error in result.errors] == ["missingFunction"]


def test_an_error_makes_every_enclosing_operator_yield_its_zero_value() -> None:
    result = evaluate("LENGTH(CONCAT('ab', missing)) + 1")

    assert result.value == 0
    assert [error.kind for error in result.errors] == ["missingAttribute"]


def test_not_equal_is_not_of_equal_so_a_failed_cast_yields_false() -> None:
    # 'abc' = TRUE fails to cast 'abc'; NOT of a failed subexpression is false
    assert evaluate("'abc' != TRUE").value is False
    assert evaluate("'abc' <> TRUE").value is False


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("2147483647 + 1", -(2**31)),
        ("-2147483648 - 1", 2**31 - 1),
        ("65536 * 65536", 0),
        ("65537 * 65537", 131073),
        ("-2147483648 / -1", -(2**31)),
        ("-(-2147483648)", -(2**31)),
    ],
)
def test_integer_overflow_wraps_around_as_go_int32_does(source: str, value: int) -> None:
    result = evaluate(source)

    assert result.value == value
    assert result.errors == []


def test_division_truncates_towards_zero_and_modulo_takes_the_sign_of_the_dividend() -> None:
    assert evaluate("-7 / 2").value == -3
    assert evaluate("-7 % 2").value == -1
    assert evaluate("7 % -2").value == 1


def test_an_integer_casts_to_a_boolean_implicitly_and_explicitly() -> None:
    assert evaluate("TRUE AND 1").value is True
    assert evaluate("TRUE AND 0").value is False
    assert evaluate("BOOL(1) AND BOOL(-50)").value is True


def test_in_stops_at_the_first_match_like_or() -> None:
    assert evaluate("type IN ('t', missing)").value is True
    assert [e.kind for e in evaluate("type IN ('x', missing)").errors] == ["missingAttribute"]


def test_trim_removes_unicode_whitespace_but_not_control_characters() -> None:
    assert evaluate("TRIM(x)", x="\u3000\t a \u00a0").value == "a"
    assert evaluate("TRIM(x)", x="\x1fa\x1f").value == "\x1fa\x1f"


# -- LIKE ---------------------------------------------------------------------------------


_LIKE_ALPHABET = st.sampled_from(["a", "b", "%", "_", "\\", "\n", "é"])


@settings(max_examples=500)
@given(st.text(_LIKE_ALPHABET, max_size=8), st.text(_LIKE_ALPHABET, max_size=8))
def test_like_shortcuts_agree_with_the_port_of_gos_matcher(pattern: str, value: str) -> None:
    expected = match_bytes(value.encode(), pattern.encode())

    assert compile_like(pattern)(value) is expected


# -- totality -----------------------------------------------------------------------------

_LEAVES = st.sampled_from(
    [
        "a",
        "b",
        "missing",
        "0",
        "-1",
        "7",
        "2147483647",
        "-2147483648",
        "'x'",
        "'10'",
        "''",
        "'TrUe'",
        "TRUE",
        "FALSE",
        "EXISTS a",
        "EXISTS missing",
    ]
)
_BINARY = st.sampled_from(
    ["*", "/", "%", "+", "-", "=", "!=", "<>", "<", "<=", ">", ">=", "AND", "OR", "XOR"]
)
_CALLS = st.sampled_from(
    [
        "ABS",
        "INT",
        "BOOL",
        "STRING",
        "LENGTH",
        "LOWER",
        "UPPER",
        "TRIM",
        "LEFT",
        "RIGHT",
        "SUBSTRING",
        "CONCAT",
        "CONCAT_WS",
        "NOPE",
    ]
)


def _compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds("NOT {}".format, inner),
        st.builds("-{}".format, inner),
        st.builds("({})".format, inner),
        st.builds("{} {} {}".format, inner, _BINARY, inner),
        st.builds("{} LIKE '{}'".format, inner, st.sampled_from(["%", "x%", "_", "1\\%"])),
        st.builds("{} NOT IN ({}, {})".format, inner, inner, inner),
        st.builds("{}({})".format, _CALLS, st.lists(inner, max_size=3).map(", ".join)),
    )


_EXPRESSIONS = st.recursive(_LEAVES, _compound, max_leaves=12)
_VALUES = st.one_of(st.text(max_size=5), st.integers(-(2**31), 2**31 - 1), st.booleans())


@settings(max_examples=500)
@given(_EXPRESSIONS, _VALUES, _VALUES)
def test_evaluation_of_any_valid_expression_is_total(source: str, a: object, b: object) -> None:
    expression = compile_expression(source)  # every generated expression is valid CESQL
    attributes = {**EVENT, "a": a, "b": b}

    result = expression.evaluate(attributes)

    assert type(result.value) in (str, int, bool)
    if type(result.value) is int:
        assert -(2**31) <= result.value < 2**31
    assert expression.matches(attributes) is (result.value is True and not result.errors)


# -- function overloading ---------------------------------------------------------------


def _function(parameters: int, variadic: bool = False) -> Function:
    string = CesqlType.STRING
    return Function(
        "ABC",
        (string,) * parameters,
        CesqlType.INTEGER,
        lambda errors, *a: 0,
        variadic=string if variadic else None,
    )


def test_overloads_follow_the_spec_rules_for_variadic_functions() -> None:
    # spec 3.5: ABC(x), ABC(x, y) and ABC(x, y, z, ...) may coexist
    table = FunctionTable()
    for function in (_function(1), _function(2), _function(3, variadic=True)):
        table.register(function)
    assert table.resolve("abc", 2) is not None
    assert table.resolve("Abc", 7) is not None
    assert table.resolve("ABC", 0) is None

    # ...but ABC(x...) cannot sit beside ABC(x, y, z): a 3-argument call is ambiguous
    clashing = FunctionTable()
    clashing.register(_function(3))
    with pytest.raises(ValueError, match="variadic"):
        clashing.register(_function(0, variadic=True))
