"""Where Knative's CESQL (cloudevents sdk-go sql/v2) differs from the spec's prose.

Each test states Go's answer for one difference; kfn must give it, since a Trigger's
filter is evaluated by that code on the cluster.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kfn._cesql import CesqlSyntaxError, EvaluationResult, compile_expression

EVENT = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}


def evaluate(source: str, **attributes: object) -> EvaluationResult:
    return compile_expression(source).evaluate({**EVENT, **attributes})


def value_of(source: str, **attributes: object) -> object:
    result = evaluate(source, **attributes)
    assert result.errors == [], result.errors
    return result.value


def error_of(source: str, **attributes: object) -> tuple[object, str]:
    result = evaluate(source, **attributes)
    assert len(result.errors) == 1, result.errors
    return result.value, str(result.errors[0].kind)


def test_or_then_and_groups_to_the_right_so_tier_a_matches_whatever_the_region() -> None:
    source = "tier = 'a' OR tier = 'b' AND region = 'x'"

    assert compile_expression(source).matches({**EVENT, "tier": "a", "region": "y"})


def test_five_minus_three_without_spaces_is_a_syntax_error() -> None:
    with pytest.raises(CesqlSyntaxError) as caught:
        compile_expression("5-3 = 2")

    assert caught.value.position == 1
    assert value_of("5 - 3 = 2") is True


def test_is_int_and_is_bool_tell_whether_a_cast_would_succeed() -> None:
    assert value_of("IS_INT('12')") is True
    assert value_of("IS_INT('1.5')") is False
    assert value_of("IS_INT(TRUE)") is True
    assert value_of("IS_BOOL('TRUE')") is True
    assert value_of("IS_BOOL(5)") is True  # every Integer casts to a Boolean
    assert value_of("IS_BOOL('yes')") is False


def test_length_counts_utf8_bytes() -> None:
    assert value_of("LENGTH('é')") == 2
    assert value_of("LENGTH(x)", x="日本") == 6


def test_left_right_and_substring_cut_at_byte_offsets() -> None:
    assert value_of("LENGTH(LEFT('éa', 1))") == 1  # half of é
    assert value_of("RIGHT('aé', 2)") == "é"
    assert value_of("SUBSTRING('aéb', 2, 2)") == "é"
    assert value_of("SUBSTRING('aé', -2)") == "é"


def test_a_cut_character_never_equals_text_but_its_halves_rejoin() -> None:
    assert value_of("LEFT('é', 1) = 'é'") is False
    assert value_of("CONCAT(LEFT('é', 1), RIGHT('é', 1)) = 'é'") is True


def test_like_underscore_matches_one_byte() -> None:
    assert value_of("'é' LIKE '_'") is False
    assert value_of("'é' LIKE '__'") is True


def test_like_escapes_only_where_the_text_holds_the_escaped_character() -> None:
    assert value_of(r"'a%b' LIKE 'a\%b'") is True
    assert value_of(r"'axb' LIKE 'a\%b'") is False
    assert value_of(r"'a\xb' LIKE 'a\%b'") is True  # backslash literal, then % a wildcard


def test_like_percent_first_tries_a_percent_in_the_text_literally() -> None:
    assert value_of("'%ab' LIKE '%b'") is False
    assert value_of("'abc%x' LIKE 'abc%'") is False
    assert value_of("'abc%' LIKE 'abc%'") is True


def test_integers_cast_to_booleans_so_not_zero_is_true() -> None:
    assert value_of("NOT 0") is True
    assert value_of("NOT 10") is False
    assert value_of("BOOL(0)") is False
    assert value_of("TRUE AND 1") is True


def test_a_failed_cast_stops_the_operator_that_asked_for_it() -> None:
    assert error_of("NOT 'abc'") == (False, "cast")
    assert error_of("-'x'") == (0, "cast")


def test_int32_arithmetic_wraps_around() -> None:
    assert value_of("2147483647 + 1") == -2147483648
    assert value_of("-2147483648 / -1") == -2147483648
    assert value_of("-(-2147483648)") == -2147483648


def test_division_and_modulo_truncate_toward_zero() -> None:
    assert value_of("-7 / 2") == -3
    assert value_of("-7 % 2") == -1


def test_int_of_text_reads_what_go_parse_int_reads() -> None:
    assert value_of("INT('+5')") == 5
    assert value_of("INT('007')") == 7
    assert error_of("INT(' 5')") == (0, "cast")
    assert error_of("INT('9999999999')") == (2147483647, "cast")  # Go's clamped value
    assert error_of("INT('-9999999999')") == (-2147483648, "cast")


def test_equality_casts_the_left_operand_to_the_right_operands_type() -> None:
    assert value_of("5 = TRUE") is True  # 5 cast to a Boolean
    assert value_of("TRUE = 5") is False  # TRUE cast to 1
    assert value_of("'5' = 5") is True


def test_string_literals_keep_doubled_quotes_and_backslash_pairs() -> None:
    assert value_of("'it''s'") == "it''s"
    assert value_of(r"'a\nb'") == "a\\nb"
    assert value_of(r"'it\'s'") == "it's"


def test_a_character_that_starts_no_token_is_skipped() -> None:
    expression = compile_expression("type = 't' ;")

    assert expression.ignored == (11,)
    assert expression.matches(EVENT)
    assert compile_expression("!x TRUE").ignored == (0,)  # '!' takes the next character


def test_a_non_ascii_letter_ends_a_name_and_is_skipped() -> None:
    # 'café' is the attribute 'caf': the lexer skips 'é'
    assert error_of("café") == (False, "missingAttribute")
    assert value_of("café", caf="x") == "x"


def test_a_blank_context_attribute_is_missing_but_a_blank_extension_is_not() -> None:
    assert value_of("EXISTS subject", subject="") is False
    assert error_of("subject = ''", subject="") == (False, "missingAttribute")
    assert value_of("myext = ''", myext="") is True


def test_exists_is_true_for_the_required_attributes_even_when_absent() -> None:
    assert compile_expression("EXISTS id").evaluate({}).value is True


def test_a_timestamp_is_seen_as_rfc3339_with_nanoseconds_without_trailing_zeros() -> None:
    moment = datetime(2018, 4, 26, 14, 48, 9, 250000, tzinfo=timezone(timedelta(hours=2)))

    assert value_of("time", time=moment) == "2018-04-26T14:48:09.25+02:00"


def test_upper_and_lower_map_each_character_alone() -> None:
    assert value_of("UPPER('ß')") == "ß"
    assert value_of("LOWER('İ')") == "i"
    assert value_of("UPPER('ᾀ')") == "ᾈ"


def test_trim_keeps_ascii_separators() -> None:
    assert value_of("TRIM(x)", x="\x1ca\x1c") == "\x1ca\x1c"


def test_only_the_first_error_is_reported() -> None:
    result = evaluate("missing1 + missing2")

    assert [str(error) for error in result.errors] == [
        "missingAttribute: the event has no attribute 'missing1'"
    ]


def test_each_function_argument_is_cast_before_the_next_is_evaluated() -> None:
    assert error_of("SUBSTRING('abc', 'x', missing)") == ("", "cast")


def test_in_casts_each_value_to_the_left_operands_type_in_turn() -> None:
    assert value_of("1 IN (1, 'x')") is True
    assert error_of("1 IN ('x', 1)") == (False, "cast")


def test_substring_with_a_negative_length_is_where_knative_panics() -> None:
    value, kind = error_of("SUBSTRING('abc', 1, x)", x=-1)

    assert (value, kind) == ("", "generic")


def test_knatives_correlation_id_function_exists_and_verifies_nothing_locally() -> None:
    assert value_of("KN_VERIFY_CORRELATION_ID('a:b:1', 'n', 'ns', 'keys', 0, 1)") is False
