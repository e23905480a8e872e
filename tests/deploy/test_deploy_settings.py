"""[tool.kfn]: typed settings with Knative's defaults; a wrong key or value names itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kfn.deploy import settings as settings_module
from kfn.deploy.knative import SCALE_KEYS
from kfn.deploy.settings import (
    Delivery,
    Destination,
    EnvVar,
    SettingsError,
    parse,
    parse_decorator_delivery,
)
from kfn.deploy.table import AppTable, ScaleTable
from tests.deploy.conftest import make_settings


def test_every_key_is_optional_and_the_name_comes_from_the_project() -> None:
    settings = parse({}, project_name="My_Shop")
    assert settings.name == "my-shop"
    assert (settings.namespace, settings.broker, settings.image) == ("default", "default", None)
    assert settings.functions == ("functions",)
    assert settings.delivery == Delivery()


def test_the_defaults_scale_to_zero_with_a_ceiling() -> None:
    annotations = make_settings().unit.annotations()
    assert annotations == {
        "autoscaling.knative.dev/min-scale": "0",
        "autoscaling.knative.dev/max-scale": "10",
        "autoscaling.knative.dev/metric": "concurrency",
        "autoscaling.knative.dev/target": "100",
        "autoscaling.knative.dev/scale-down-delay": "0s",
    }


def test_the_metric_and_target_defaults_follow_the_class() -> None:
    hpa = make_settings(scale={"class": "hpa.autoscaling.knative.dev", "min-scale": 1})
    assert hpa.unit.annotations()["autoscaling.knative.dev/metric"] == "cpu"
    assert "autoscaling.knative.dev/target" not in hpa.unit.annotations()
    rps = make_settings(scale={"metric": "rps"}).unit.annotations()
    assert rps["autoscaling.knative.dev/target"] == "200"


def test_scale_values_become_annotation_strings() -> None:
    scale = make_settings(
        scale={"max-scale": 3, "target": 0.5, "window": 90, "scale-down-delay": "2m"}
    ).unit.scale
    assert scale["max-scale"] == "3"
    assert scale["target"] == "0.5"
    assert scale["window"] == "90s"
    assert scale["scale-down-delay"] == "120s"


def test_a_settings_file_is_read_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n\n[tool.kfn]\nnamespace = "team"\n\n'
        "[tool.kfn.scale]\nmax-scale = 2\n",
        encoding="utf-8",
    )
    settings = settings_module.load(tmp_path)
    assert (settings.name, settings.namespace) == ("demo", "team")
    assert settings.unit.scale["max-scale"] == "2"


def test_a_missing_pyproject_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"no pyproject\.toml"):
        settings_module.load(tmp_path)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"brokr": "x"}, r"tool\.kfn\.brokr: unknown key \(did you mean 'broker'\?\)"),
        ({"scale": {"max_scale": 3}}, r"tool\.kfn\.scale\.max_scale: unknown key .*'max-scale'"),
        ({"delivery": {"retries": 3}}, r"tool\.kfn\.delivery\.retries: unknown key .*'retry'"),
        ({"resources": {"request": {}}}, r"tool\.kfn\.resources\.request: unknown key"),
        (
            {"services": {"billing": {"imag": "x"}}},
            r"tool\.kfn\.services\.billing\.imag: unknown key",
        ),
    ],
)
def test_an_unknown_key_is_named_with_a_suggestion(table: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        make_settings(**table)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"name": "Shop_1"}, r"tool\.kfn\.name = 'Shop_1': is not valid"),
        ({"namespace": "a.b"}, r"tool\.kfn\.namespace = 'a.b'"),
        ({"image": "Not An Image"}, r"image = 'Not An Image'"),
        ({"functions": ["my-module"]}, r"functions = 'my-module'"),
        ({"output": "/abs"}, r"output = '/abs'"),
        ({"python-version": "2.7.1"}, r"python-version"),
        ({"event-types": "yes"}, r"event-types = 'yes': must be true or false"),
        ({"scale": {"min-scale": "1"}}, r"tool\.kfn\.scale\.min-scale = '1': must be a whole"),
        ({"scale": {"target": "fast"}}, r"target = 'fast': must be a number"),
        ({"scale": {"window": "soon"}}, r"window = 'soon': must be a duration"),
        ({"scale": {"min-scale": 5, "max-scale": 2}}, r"max-scale=2 is less than min-scale=5"),
        ({"scale": {"window": "3s"}}, r"tool\.kfn\.scale: window=3s must be between 6s"),
        ({"scale": {"metric": "cpu"}}, r"metric 'cpu' needs class hpa"),
        ({"container-concurrency": 1001}, r"container-concurrency = 1001: must be .* 0 to 1000"),
        ({"timeout-seconds": 601}, r"timeout-seconds = 601"),
        (
            {"resources": {"limits": {"memory": "lots"}}},
            r"tool\.kfn\.resources\.limits\.memory = 'lots': must be a Kubernetes",
        ),
        ({"env": {"PORT": "1"}}, r"tool\.kfn\.env\.PORT: is reserved"),
        ({"env": {"KFN_SERVICE_UNIT": "x"}}, r"tool\.kfn\.env\.KFN_SERVICE_UNIT: is set by kfn"),
        ({"env": {"1BAD": "x"}}, r"tool\.kfn\.env\.1BAD: is not a valid environment variable name"),
        ({"env": {"X": {"secret": "s"}}}, r"tool\.kfn\.env\.X: write"),
        ({"env": {"X": ["a"]}}, r"tool\.kfn\.env\.X = \['a'\]: must be a string"),
        ({"secrets": ["Bad Name"]}, r"secrets = 'Bad Name'"),
        ({"delivery": {"retry": -1}}, r"tool\.kfn\.delivery\.retry = -1: must be a whole number"),
        ({"delivery": {"backoff-policy": "fibonacci"}}, r"backoff-policy = 'fibonacci'"),
        ({"delivery": {"backoff-delay": "soon"}}, r"backoff-delay = 'soon': must be a duration"),
        ({"delivery": {"timeout": "0s"}}, r"timeout = '0s': must be greater than zero"),
        (
            {"delivery": {"dead-letter-sink": "dlq"}},
            r"dead-letter-sink = 'dlq': must be an absolute",
        ),
        (
            {"delivery": {"dead-letter-sink": {"name": "dlq"}}},
            r"dead-letter-sink: a reference needs api-version, kind and name",
        ),
        (
            {"services": {"Billing": {}}},
            r"tool\.kfn\.services\.Billing: is not a Knative Service name",
        ),
    ],
)
def test_a_wrong_value_names_its_key(table: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        make_settings(**table)


def test_env_holds_values_secret_keys_and_config_map_keys() -> None:
    settings = make_settings(
        env={"A": "x", "B": 2, "C": True, "D": {"secret": "s", "key": "k"}},
        secrets=["s1"],
        **{"config-maps": ["c1"]},
    )
    assert settings.unit.env == (
        EnvVar("A", value="x"),
        EnvVar("B", value="2"),
        EnvVar("C", value="true"),
        EnvVar("D", secret="s", key="k"),
    )
    assert (settings.unit.secrets, settings.unit.config_maps) == (("s1",), ("c1",))


def test_delivery_durations_become_iso8601() -> None:
    delivery = make_settings(
        delivery={
            "retry": 2,
            "backoff-delay": "200ms",
            "timeout": 30,
            "dead-letter-sink": "http://dlq.default.svc",
        }
    ).delivery
    assert delivery == Delivery(
        retry=2,
        backoff_delay="PT0.2S",
        timeout="PT30S",
        dead_letter_sink=Destination(uri="http://dlq.default.svc"),
    )
    assert make_settings(delivery={"backoff-delay": "PT1M"}).delivery.backoff_delay == "PT1M"


def test_a_decorator_delivery_takes_snake_case_and_overrides_key_by_key() -> None:
    base = Delivery(retry=5, backoff_policy="exponential")
    override = parse_decorator_delivery({"retry": 1, "backoff_delay": "1s"}, "@cloudevent on f")
    assert base.merged(override) == Delivery(
        retry=1, backoff_policy="exponential", backoff_delay="PT1S"
    )
    with pytest.raises(
        SettingsError,
        match=r"@cloudevent on f: delivery\.retries: unknown key \(did you mean 'retry'\?\)",
    ):
        parse_decorator_delivery({"retries": 1}, "@cloudevent on f")


def test_a_group_inherits_the_app_settings_and_overrides_some() -> None:
    settings = make_settings(
        scale={"max-scale": 4},
        env={"A": "1", "B": "2"},
        secrets=["app"],
        services={
            "billing": {"scale": {"min-scale": 1}, "env": {"B": "3"}, "secrets": ["billing"]}
        },
    )
    billing = settings.for_unit("billing")
    assert billing.scale["max-scale"] == "4" and billing.scale["min-scale"] == "1"
    assert billing.env == (EnvVar("A", value="1"), EnvVar("B", value="3"))
    assert billing.secrets == ("app", "billing")
    assert settings.for_unit("other") is settings.unit


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"resources": {"limits": {"nvidia.com/gpu": "x"}}},
            "tool.kfn.resources.limits.\"nvidia.com/gpu\" = 'x': must be a Kubernetes quantity "
            "such as '100m', '0.5' or '256Mi'",
        ),
        ({"scale": 3}, "tool.kfn.scale = 3: must be a table"),
        (
            {"services": {"billing": {"timeout-seconds": 0}}},
            "tool.kfn.services.billing.timeout-seconds = 0: must be a whole number from 1 to 600",
        ),
        (
            {"delivery": {"dead-letter-sink": {"uri": "x"}}},
            "tool.kfn.delivery.dead-letter-sink: a reference needs api-version, kind and name, "
            'e.g. { api-version = "serving.knative.dev/v1", kind = "Service", name = "dlq" }',
        ),
        ({"env": {"A": {"secret": "s", "key": "k", "keys": 1}}}, "tool.kfn.env.A.keys: unknown"),
        ({"idempotency": {}}, "tool.kfn.idempotency.store: write { secret"),
    ],
)
def test_an_error_is_one_line_naming_the_full_key_path(table: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        make_settings(**table)
    text = str(raised.value)
    assert text.startswith(message)
    assert "\n" not in text and "pydantic" not in text and "validation error" not in text


def test_the_scale_table_knows_every_autoscaling_annotation() -> None:
    assert ScaleTable.keys() == SCALE_KEYS


def test_a_table_is_a_frozen_model_with_kebab_case_keys() -> None:
    table = AppTable.model_validate({"python-version": "3.12", "event-types": False})
    assert (table.python_version, table.event_types) == ("3.12", False)
    with pytest.raises(SettingsError, match=r"tool\.kfn\.python_version: unknown key"):
        make_settings(python_version="3.12")
