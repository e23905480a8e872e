"""What a function's signature asks for, worked out once at startup.

A parameter annotated `CloudEvent` gets the event; one annotated with another type
(a pydantic model, `list[Order]`, `int`...) gets the event data validated into it;
an unannotated one gets the raw data. The return annotation tells whether the
function can reply. pydantic is imported only when some function needs it.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.v1.event import CloudEvent

from kfn._errors import InvalidData, RegistrationError
from kfn.registry import EventFunction, where_defined

RAW = "raw"
EVENT = "event"
TYPED = "typed"


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # RAW, EVENT or TYPED
    keyword: bool
    validate: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Binding:
    """How to call one event function with one event."""

    parameters: tuple[Parameter, ...]

    def arguments(self, event: CloudEvent) -> tuple[list[Any], dict[str, Any]]:
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for parameter in self.parameters:
            if parameter.kind == EVENT:
                value: Any = event
            elif parameter.kind == RAW:
                value = event.get_data()
            else:
                assert parameter.validate is not None
                value = parameter.validate(event.get_data())
            if parameter.keyword:
                kwargs[parameter.name] = value
            else:
                args.append(value)
        return args, kwargs


def _is_event_type(hint: Any) -> bool:
    return isinstance(hint, type) and (issubclass(hint, CloudEvent) or hint is BaseCloudEvent)


def _typed_validator(hint: Any, parameter: str) -> Callable[[Any], Any]:
    from pydantic import TypeAdapter, ValidationError

    adapter: TypeAdapter[Any] = TypeAdapter(hint)
    text_target = hint in (str, bytes)

    def validate(data: Any) -> Any:
        try:
            if isinstance(data, bytes | str) and not text_target:
                return adapter.validate_json(data)
            return adapter.validate_python(data)
        except ValidationError as error:
            raise InvalidData(
                f"the event data does not fit parameter {parameter!r}",
                errors=error.errors(include_url=False, include_context=False),
            ) from None

    return validate


def bind(spec: EventFunction) -> Binding:
    """Inspect the function once; raise RegistrationError for what cannot be served."""
    where = where_defined(spec.func)
    try:
        hints = typing.get_type_hints(spec.func)
    except Exception as error:
        raise RegistrationError(
            f"function {spec.name!r} in {where}: its type hints cannot be resolved ({error})"
        ) from None
    parameters: list[Parameter] = []
    for param in inspect.signature(spec.func).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        keyword = param.kind is param.KEYWORD_ONLY
        hint = hints.get(param.name, param.annotation)
        if hint is inspect.Parameter.empty or hint is Any or hint is object:
            parameters.append(Parameter(param.name, RAW, keyword))
        elif _is_event_type(hint):
            parameters.append(Parameter(param.name, EVENT, keyword))
        else:
            try:
                validator = _typed_validator(hint, param.name)
            except Exception as error:
                raise RegistrationError(
                    f"function {spec.name!r} in {where}: parameter {param.name!r} has a type "
                    f"pydantic cannot validate ({error})"
                ) from None
            parameters.append(Parameter(param.name, TYPED, keyword, validator))
    if spec.reply_type is None:
        _check_no_data_returned(spec, where, hints.get("return", inspect.Signature.empty))
    return Binding(tuple(parameters))


def _check_no_data_returned(spec: EventFunction, where: str, returns: Any) -> None:
    """Refuse a function without reply_type that may return data: its events would fail."""
    if _is_event_type(returns) or _may_return_event(returns):
        return
    if returns not in (None, type(None), inspect.Signature.empty):
        raise RegistrationError(
            f"function {spec.name!r} in {where}: it returns {returns!r} but declares no "
            "reply_type; add reply_type='...' to @cloudevent, or return a CloudEvent"
        )
    line = _value_returned_at(spec.func)
    if line is not None:
        raise RegistrationError(
            f"function {spec.name!r} in {where}: it returns a value (line {line}) but declares "
            "no reply_type; add reply_type='...' to @cloudevent, return None, or annotate it "
            "`-> CloudEvent` when it returns events"
        )


def _value_returned_at(func: Callable[..., Any]) -> int | None:
    """The line of the function's first `return <value>` (not `return None`), if any.

    Read from the source, so an unannotated function that returns data is refused at
    startup instead of answering every event 500. Nested functions do not count;
    without source (a builtin, a lambda in a REPL) there is nothing to read.
    """
    try:
        source = textwrap.dedent(inspect.getsource(func))
        first_line = inspect.getsourcelines(func)[1]
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return None
    definition = next(
        (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)),
        None,
    )
    if definition is None:
        return None
    pending: list[ast.AST] = list(definition.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, ast.Return) and not _is_none(node.value):
            return first_line + node.lineno - 1
        pending.extend(ast.iter_child_nodes(node))
    return None


def _is_none(value: Any) -> bool:
    return value is None or (isinstance(value, ast.Constant) and value.value is None)


def _may_return_event(returns: Any) -> bool:
    """True for annotations like `CloudEvent | None` that only ever carry events."""
    args = typing.get_args(returns)
    return bool(args) and all(_is_event_type(a) or a is type(None) for a in args)
