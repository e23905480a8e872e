"""Which functions return data, read from their module's source once at startup.

A function without reply_type that returns a value is refused before readiness;
the module is parsed once for all its functions, and only the function's own body
counts (not its nested functions or lambdas).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import pytest

from kfn import CloudEvent, RegistrationError, Registry
from kfn.binding import bind


def _bound(func: Callable[..., Any]) -> None:
    registry = Registry()
    registry.cloudevent(type="t")(func)
    bind(registry.event_functions[0])


def _line_of(func: Callable[..., Any], text: str) -> int:
    lines, first = inspect.getsourcelines(func)
    return first + next(i for i, line in enumerate(lines) if text in line)


def passes_through(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


def untyped_answer(event):  # type: ignore[no-untyped-def]
    if event.get_type() == "x":
        return None
    return {"answer": 42}


@passes_through
def wrapped_answer(event):  # type: ignore[no-untyped-def]
    if event:
        return [1]  # the first one
    return [2]


def returns_only_in_nested_code(event):  # type: ignore[no-untyped-def]
    def helper() -> int:
        return 1

    class Box:
        def value(self) -> int:
            return 2

    pick: Callable[[], int] = lambda: 3  # noqa: E731
    helper(), Box(), pick()
    return None


def test_a_value_returned_is_refused_with_its_line() -> None:
    with pytest.raises(RegistrationError, match=r"it returns a value \(line (\d+)\)") as refused:
        _bound(untyped_answer)
    assert f"(line {_line_of(untyped_answer, 'return {')})" in str(refused.value)


def test_the_function_behind_a_decorator_is_read_and_its_first_return_named() -> None:
    with pytest.raises(RegistrationError) as refused:
        _bound(wrapped_answer)
    assert f"(line {_line_of(inspect.unwrap(wrapped_answer), 'the first one')})" in str(
        refused.value
    )


def test_returns_of_nested_functions_classes_and_lambdas_do_not_count() -> None:
    _bound(returns_only_in_nested_code)


def test_a_method_is_read_from_its_class() -> None:
    class Handlers:
        @staticmethod
        def answer(event):  # type: ignore[no-untyped-def]
            return "yes"

        @staticmethod
        def quiet(event: CloudEvent) -> None:
            return None

    _bound(Handlers.quiet)
    with pytest.raises(RegistrationError, match="returns a value"):
        _bound(Handlers.answer)


def test_without_source_there_is_nothing_to_refuse() -> None:
    namespace: dict[str, Any] = {}
    exec("def made(event):\n    return 1\n", namespace)  # no file behind it
    _bound(namespace["made"])
