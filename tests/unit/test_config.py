"""Settings come from the environment once; a bad value names its variable."""

from __future__ import annotations

from fractions import Fraction

import pytest

from kfn import ConfigError
from kfn.config import Settings
from kfn.deploy.formats import parse_seconds


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.port == 8080
    assert settings.functions == ("functions",)
    assert settings.default_reply_source == "/kfn/local"


def test_values_are_parsed() -> None:
    settings = Settings.from_env(
        {
            "PORT": "9000",
            "KFN_FUNCTIONS": "a.b, c",
            "KFN_TIMEOUT": "500ms",
            "KFN_GRACE_PERIOD": "2m",
            "KFN_MAX_IN_FLIGHT": "7",
            "K_SERVICE": "shop",
        }
    )
    assert settings.port == 9000
    assert settings.functions == ("a.b", "c")
    assert settings.function_timeout == 0.5
    assert settings.grace_period == 120
    assert settings.max_in_flight == 7
    assert settings.default_reply_source == "/kfn/shop"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "http"),
        ("PORT", "70000"),
        ("KFN_TIMEOUT", "-1"),
        ("KFN_TIMEOUT", "soon"),
        ("KFN_MAX_BODY_BYTES", "0"),
        ("KFN_FUNCTIONS", "my-functions"),
        ("KFN_LOG_LEVEL", "loud"),
        ("KFN_ACCESS_LOG", "maybe"),
        ("KFN_MAX_HEADER_BYTES", "100"),
        ("KFN_MAX_HEADERS", "none"),
        ("KFN_HEADER_TIMEOUT", "0"),
        ("KFN_BODY_TIMEOUT", "later"),
        ("KFN_MAX_CONNECTIONS", "0"),
    ],
)
def test_an_invalid_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name}="):
        Settings.from_env({name: value})


def test_connection_limits_are_parsed() -> None:
    settings = Settings.from_env(
        {
            "KFN_MAX_HEADER_BYTES": "16384",
            "KFN_MAX_HEADERS": "50",
            "KFN_HEADER_TIMEOUT": "5s",
            "KFN_BODY_TIMEOUT": "1m",
            "KFN_MAX_CONNECTIONS": "300",
        }
    )
    assert (settings.max_header_bytes, settings.max_headers) == (16384, 50)
    assert (settings.header_timeout, settings.body_timeout) == (5, 60)
    assert settings.max_connections == 300


def test_durations_read_as_in_tool_kfn() -> None:
    for text in ("1m30s", "90", "1.5m", "90000ms"):
        settings = Settings.from_env({"KFN_TIMEOUT": text})
        assert settings.function_timeout == 90
        assert parse_seconds(text) == Fraction(90)
