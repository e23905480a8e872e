"""Decorators record functions and reject bad declarations when they run."""

from __future__ import annotations

import pytest

from kfn import CloudEvent, RegistrationError, Registry
from kfn.binding import bind
from kfn.registry import EventFunction, HttpFunction


def test_decorators_register_and_return_the_function_unchanged() -> None:
    reg = Registry()

    async def handler(event: CloudEvent) -> None: ...

    assert reg.cloudevent(type="t")(handler) is handler
    spec = reg.functions["handler"]
    assert isinstance(spec, EventFunction) and spec.filter.matches({"type": "t"})


def test_http_functions_record_path_and_methods() -> None:
    reg = Registry()
    reg.http("/items", methods=["get", "post"], name="items")(lambda: None)
    (spec,) = reg.http_functions
    assert isinstance(spec, HttpFunction) and spec.methods == ("GET", "POST")


@pytest.mark.parametrize(
    "path", ["/events/x", "/events", "/health/liveness", "/metrics", "/_kfn/x"]
)
def test_reserved_paths_are_refused(path: str) -> None:
    with pytest.raises(RegistrationError, match="reserved"):
        Registry().http(path)(lambda: None)


def test_post_on_root_is_refused_as_the_event_endpoint() -> None:
    with pytest.raises(
        RegistrationError, match=r"reserved.*POST / and /events/\* take CloudEvents"
    ):
        Registry().http("/", methods=["GET", "POST"])(lambda: None)


@pytest.mark.parametrize("methods", [["GET"], ["GET", "PUT", "DELETE"]])
def test_root_may_be_an_http_function_for_any_method_but_post(methods: list[str]) -> None:
    reg = Registry()
    reg.http("/", methods=methods, name="home")(lambda: None)
    assert reg.functions["home"].path == "/"  # type: ignore[attr-defined]


def test_names_are_unique_ignoring_case_and_dashes() -> None:
    reg = Registry()
    reg.cloudevent(type="a", name="do_it")(lambda e: None)
    with pytest.raises(RegistrationError, match="already taken by 'do_it'"):
        reg.cloudevent(type="b", name="Do-It")(lambda e: None)


def test_an_empty_filter_value_names_the_function() -> None:
    def picky(event: CloudEvent) -> None: ...

    with pytest.raises(RegistrationError, match=r"'picky'.*empty"):
        Registry().cloudevent(type="")(picky)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout": 0}, "timeout"),
        ({"reply_type": ""}, "reply_type"),
        ({"emits": "a.b"}, "emits"),
        ({"service": "Billing_Svc"}, "service"),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(RegistrationError, match=message):
        Registry().cloudevent(type="t", name="f", **options)(lambda e: None)  # type: ignore[arg-type]


def test_generators_are_refused() -> None:
    def gen(event: CloudEvent):  # type: ignore[no-untyped-def]
        yield event

    with pytest.raises(RegistrationError, match="generator"):
        Registry().cloudevent(type="t")(gen)


def test_a_return_value_needs_a_reply_type() -> None:
    reg = Registry()

    def answer(event: CloudEvent) -> dict[str, int]:
        return {}

    reg.cloudevent(type="t")(answer)
    with pytest.raises(RegistrationError, match="reply_type"):
        bind(reg.functions["answer"])  # type: ignore[arg-type]


def test_returning_a_cloudevent_needs_no_reply_type() -> None:
    reg = Registry()

    def forward(event: CloudEvent) -> CloudEvent | None:
        return None

    reg.cloudevent(type="t")(forward)
    binding = bind(reg.functions["forward"])  # type: ignore[arg-type]
    assert [p.kind for p in binding.parameters] == ["event"]
