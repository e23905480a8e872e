"""Units: one Service for the app, or several with service=...; each loads only its own functions."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from kfn import ConfigError, RegistrationError
from kfn._units import select_unit
from kfn.config import Settings as HostSettings
from kfn.deploy.errors import DeployError
from kfn.deploy.units import plan
from kfn.registry import Registry
from kfn.schedule import schedule
from tests.deploy.conftest import kitchen_sink, make_settings


def _app() -> Registry:
    app = Registry()

    @app.http("/a")
    async def front() -> None:
        return None

    @app.cloudevent(type="t.one", service="billing")
    async def charge(event: Any) -> None:
        return None

    @app.cloudevent(type="t.two")
    async def record(event: Any) -> None:
        return None

    @schedule("@daily", service="billing", registry=app)
    async def nightly(event: Any) -> None:
        return None

    return app


def test_the_whole_app_is_one_service_by_default() -> None:
    app = Registry()

    @app.http("/a")
    async def front() -> None:
        return None

    units = plan(app, make_settings(name="shop"))
    assert [(u.name, u.main, u.grouped) for u in units] == [("shop", True, False)]


def test_functions_are_grouped_by_service_main_first() -> None:
    units = plan(_app(), replace(make_settings(name="shop"), public_events=True))
    assert [u.name for u in units] == ["shop", "billing"]
    shop, billing = units
    assert [f.name for f in shop.functions] == ["front", "record"]
    assert [f.name for f in billing.functions] == ["charge", "nightly"]
    assert [f.name for f in billing.scheduled_functions] == ["nightly"]
    assert all(u.grouped for u in units)
    assert shop.public and not billing.public


@pytest.mark.parametrize("unit", ["shop", "billing"])
def test_the_host_keeps_exactly_the_functions_of_its_unit(unit: str) -> None:
    """select_unit (the host's rule) agrees with the generator's grouping."""
    app = _app()
    planned = {
        u.name: sorted(f.name for f in u.functions) for u in plan(app, make_settings(name="shop"))
    }
    assert sorted(select_unit(app, unit).functions) == planned[unit]


def test_the_kitchen_sink_units_agree_with_the_host_too() -> None:
    app, table = kitchen_sink()
    settings = make_settings(**table)
    for unit in plan(app, settings):
        fresh, _ = kitchen_sink()
        selected = select_unit(fresh, unit.name)
        assert sorted(selected.functions) == sorted(f.name for f in unit.functions)


def test_selecting_a_unit_leaves_the_registry_it_was_given_whole() -> None:
    app = _app()
    everything = sorted(app.functions)
    select_unit(app, "billing")
    assert sorted(app.functions) == everything


def test_a_unit_with_no_functions_stops_the_host() -> None:
    with pytest.raises(RegistrationError, match="KFN_SERVICE_UNIT='nothing'"):
        select_unit(Registry(), "nothing")


def test_the_host_reads_its_unit_from_the_environment() -> None:
    assert HostSettings.from_env({"KFN_SERVICE_UNIT": "billing"}).service_unit == "billing"
    assert HostSettings.from_env({}).service_unit == ""
    with pytest.raises(ConfigError, match="KFN_SERVICE_UNIT='Billing'"):
        HostSettings.from_env({"KFN_SERVICE_UNIT": "Billing"})


def test_service_may_not_repeat_the_main_service_name() -> None:
    app = Registry()

    @app.cloudevent(type="t", service="shop")
    async def f(event: Any) -> None:
        return None

    with pytest.raises(DeployError, match="service='shop' is the app's main Service"):
        plan(app, make_settings(name="shop"))


def test_settings_for_a_group_no_function_declares_are_an_error() -> None:
    with pytest.raises(DeployError, match=r"\[tool.kfn.services.billng\]: no function"):
        plan(_app(), make_settings(name="shop", services={"billng": {}}))


def test_an_app_without_functions_is_an_error() -> None:
    with pytest.raises(DeployError, match="no functions found"):
        plan(Registry(), make_settings())


def _timeout_app(timeout: float | None) -> Registry:
    app = Registry()

    @app.cloudevent(type="t", timeout=timeout)
    async def slow(event: Any) -> None:
        return None

    return app


def test_timeout_seconds_covers_the_longest_function_and_the_drain() -> None:
    warnings: list[str] = []
    (unit,) = plan(_timeout_app(100), make_settings())
    assert unit.timeout_seconds(warnings) == 130
    (unit,) = plan(_timeout_app(None), make_settings(env={"KFN_TIMEOUT": "2m"}))
    assert unit.timeout_seconds(warnings) == 150
    assert warnings == []


def test_timeout_seconds_is_capped_at_knatives_maximum_with_a_warning() -> None:
    warnings: list[str] = []
    (unit,) = plan(_timeout_app(590), make_settings())
    assert unit.timeout_seconds(warnings) == 600
    assert "capped" in warnings[0]
    (unit,) = plan(_timeout_app(600), make_settings())
    with pytest.raises(DeployError, match="at most 600 s"):
        unit.timeout_seconds([])


def test_a_configured_timeout_must_exceed_the_functions_and_leave_the_pod_time_to_stop() -> None:
    (unit,) = plan(_timeout_app(10), make_settings(**{"timeout-seconds": 10}))
    with pytest.raises(DeployError, match="must be above function 'slow'"):
        unit.timeout_seconds([])
    (unit,) = plan(_timeout_app(10), make_settings(**{"timeout-seconds": 20}))
    with pytest.raises(DeployError, match="30 s drain before SIGTERM"):
        unit.timeout_seconds([])
