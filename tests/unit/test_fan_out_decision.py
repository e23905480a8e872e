"""Which failure a fan-out answers with when several of its calls fail alike.

The class decides (a host fault, then a failure Knative retries, then one it does
not); within a class, the first function in the app's order does: the same event
gets the same answer on every delivery.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from kfn import CloudEvent, Drop, Registry, Retry
from kfn._errors import EventError
from kfn.config import Settings
from kfn.dispatch import Dispatcher
from kfn.metrics import Metrics
from kfn.problems import status_of
from kfn.testing import event


def _failing(error: Exception) -> Callable[[CloudEvent], Awaitable[None]]:
    async def fail(event: CloudEvent) -> None:
        raise error

    return fail


def _dispatcher(*functions: tuple[str, Exception]) -> Dispatcher:
    """The functions, in this order, on events of type `t`: each raises its error."""
    registry = Registry()
    for name, error in functions:
        registry.cloudevent(type="t", name=name)(_failing(error))
    return Dispatcher(registry, Settings(), Metrics())


async def _answer(dispatcher: Dispatcher) -> EventError:
    sent = event("t", {"n": 1})
    with pytest.raises(EventError) as caught:
        await dispatcher.deliver(sent, dispatcher.match(sent))
    return caught.value


async def test_of_two_retried_failures_the_first_function_s_is_the_answer() -> None:
    error = await _answer(_dispatcher(("soon", Retry(after=1)), ("later", Retry(after=5))))
    assert (status_of(error), error.retry_after, error.context["function"]) == (503, 1, "soon")


async def test_of_two_permanent_failures_the_first_function_s_is_the_answer() -> None:
    error = await _answer(
        _dispatcher(("gone", Drop("no such order", status=410)), ("bad", Drop("malformed")))
    )
    assert (status_of(error), error.context["function"]) == (410, "gone")


async def test_a_retried_failure_after_a_permanent_one_is_the_answer() -> None:
    error = await _answer(_dispatcher(("bad", Drop("malformed")), ("soon", Retry(after=2))))
    assert (status_of(error), error.retry_after, error.context["function"]) == (503, 2, "soon")
