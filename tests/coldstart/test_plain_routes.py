"""Which routes may be built after readiness: only those FastAPI cannot refuse."""

from __future__ import annotations

import datetime
import decimal
import enum
import inspect
from typing import Any, Literal

import pytest
from fastapi import FastAPI, Query, Request
from pydantic import BaseModel

from kfn import Registry
from kfn._http_side import DESCRIPTIVE_OPTIONS, builds_lazily, plain_route
from kfn.registry import HttpFunction


class Color(enum.Enum):
    RED = "red"


class Order(BaseModel):
    order_id: str


class Thing:
    pass


def _route(path: str = "/x", **options: Any) -> Any:
    registry = Registry()

    def declare(func: Any) -> HttpFunction:
        registry.http(path, **options)(func)
        spec = registry.http_functions[0]
        return spec

    return declare


async def scalars(a: str, b: int = 1, c: float | None = None, d: bool = False) -> dict[str, Any]:
    return {}


async def containers(
    a: list[int], b: dict[str, list[str]], c: tuple[int, ...], d: Literal["x", 1]
) -> list[dict[str, Any]]:
    return []


async def typed(color: Color, order: Order, when: datetime.date, amount: decimal.Decimal) -> Order:
    return order


async def untyped(a, b="x"):  # type: ignore[no-untyped-def]
    return None


async def thing(a: int) -> Thing:
    return Thing()


async def thing_parameter(a: Thing) -> None:
    return None


async def request(request: Request) -> None:
    return None


async def query(a: int = Query(gt=0)) -> None:
    return None


async def star(*args: int) -> None:
    return None


async def path_list(x: list[int]) -> None:
    return None


async def unresolved(a: Missing) -> None:  # type: ignore[name-defined]  # noqa: F821
    return None


@pytest.mark.parametrize("func", [scalars, containers, typed, untyped])
def test_plain_types_may_wait(func: Any) -> None:
    assert plain_route(_route()(func))


@pytest.mark.parametrize(
    "func", [thing, thing_parameter, request, query, star, unresolved], ids=lambda f: f.__name__
)
def test_what_only_fastapi_can_judge_is_built_at_startup(func: Any) -> None:
    assert not plain_route(_route()(func))


def test_a_path_parameter_must_be_a_scalar() -> None:
    assert not plain_route(_route("/items/{x}")(path_list))
    assert plain_route(_route("/items/{a}")(scalars))


def test_options_beyond_the_descriptive_ones_are_built_at_startup() -> None:
    assert plain_route(_route(tags=["a"], status_code=201, summary="s")(scalars))
    assert plain_route(_route(response_model=Order)(scalars))
    assert not plain_route(_route(response_model=Thing)(scalars))
    assert not plain_route(_route(dependencies=[])(scalars))
    assert not plain_route(_route(no_such_option=1)(scalars))


def test_every_descriptive_option_is_one_fastapi_takes() -> None:
    taken = set(inspect.signature(FastAPI.add_api_route).parameters)
    assert taken >= DESCRIPTIVE_OPTIONS


def test_only_mixed_apps_on_knative_wait() -> None:
    registry = Registry()
    registry.http("/x")(scalars)
    assert not builds_lazily(registry, on_knative=True)  # HTTP only: nothing to gain
    registry.cloudevent(type="t")(untyped)
    assert not builds_lazily(registry, on_knative=False)
    # FastAPI is imported in this process already (this module imports it): built now.
    assert not builds_lazily(registry, on_knative=True)
