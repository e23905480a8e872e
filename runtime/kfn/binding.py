"""What a function's signature asks for, worked out once at startup.

A parameter annotated `CloudEvent` gets the event; one annotated with another type
(a pydantic model, `list[Order]`, `int`...) gets the event data validated into it;
an unannotated one gets the raw data. The return annotation tells whether the
function can reply. pydantic is imported only when some function needs it.

A type whose model defers its build (pydantic's `defer_build=True`) keeps it
deferred here: on Knative the validator is built for the first event that needs it,
so an event for another function does not wait for it. Everywhere else (`kfn run`
on a laptop, `kfn list`, `kfn manifests`) `Binding.build` builds it at startup, so a
model pydantic cannot build is refused there, before it is deployed.
"""

from __future__ import annotations

import ast
import functools
import inspect
import linecache
import logging
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.v1.event import CloudEvent

from kfn import logs
from kfn._errors import FunctionFailed, InvalidData, RegistrationError
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

    def build(self) -> None:
        """Build every deferred validator now; raises RegistrationError when pydantic cannot."""
        for parameter in self.parameters:
            if isinstance(parameter.validate, TypedData):
                parameter.validate.build()


def _is_event_type(hint: Any) -> bool:
    return isinstance(hint, type) and (issubclass(hint, CloudEvent) or hint is BaseCloudEvent)


class TypedData:
    """Validates event data into one parameter's type, with a pydantic TypeAdapter.

    The adapter is made at startup, where a type pydantic refuses is a RegistrationError.
    When the type's model defers its build, so does the adapter, until `build` or the
    first event; a build that fails then answers that function's events 500 (the log
    says why, once), as no event of it could be served.
    """

    def __init__(self, hint: Any, parameter: str, owner: str) -> None:
        from pydantic import TypeAdapter, ValidationError

        self._invalid = ValidationError
        self._hint = hint
        self._adapter: Any = TypeAdapter(hint)
        self._text_target = hint in (str, bytes)
        self._parameter = parameter
        self._owner = owner
        self.deferred = not getattr(self._adapter, "pydantic_complete", True)
        self._failure: str | None = None

    def build(self) -> None:
        """Build a deferred adapter now; raises RegistrationError when pydantic cannot."""
        if not self.deferred:
            return
        if self._failure is None:
            try:
                if isinstance(self._hint, type) and hasattr(self._hint, "model_rebuild"):
                    self._hint.model_rebuild(raise_errors=True)  # the model's own, for its dumps
                self._adapter.rebuild(force=True, raise_errors=True)
            except Exception as error:
                self._failure = (
                    f"{self._owner}: parameter {self._parameter!r} has a type pydantic cannot "
                    f"validate ({error})"
                )
            else:
                self.deferred = False
                return
        raise RegistrationError(self._failure)

    def __call__(self, data: Any) -> Any:
        if self.deferred:
            self._build_for_an_event()
        try:
            if isinstance(data, bytes | str) and not self._text_target:
                return self._adapter.validate_json(data)
            return self._adapter.validate_python(data)
        except self._invalid as error:
            raise InvalidData(
                f"the event data does not fit parameter {self._parameter!r}",
                errors=error.errors(include_url=False, include_context=False),
            ) from None

    def _build_for_an_event(self) -> None:
        failed_before = self._failure is not None
        try:
            self.build()
        except RegistrationError as error:
            if not failed_before:
                logs.event(logging.CRITICAL, f"events cannot be validated: {error}")
            raise FunctionFailed(
                f"parameter {self._parameter!r} has a type pydantic could not build; "
                "the log says why"
            ) from None


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
                validator = TypedData(hint, param.name, f"function {spec.name!r} in {where}")
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
    code = getattr(inspect.unwrap(func), "__code__", None)
    if code is None:
        return None
    tree = _parsed(code.co_filename, tuple(linecache.getlines(code.co_filename)))
    definition = _definition(tree, code.co_name, code.co_firstlineno) if tree else None
    if definition is None:
        return None
    lines: list[int] = []
    pending: list[ast.AST] = list(definition.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, ast.Return) and not _is_none(node.value):
            lines.append(node.lineno)
        pending.extend(ast.iter_child_nodes(node))
    return min(lines, default=None)


@functools.lru_cache(maxsize=1)  # the functions of one module are bound one after another
def _parsed(filename: str, lines: tuple[str, ...]) -> ast.Module | None:
    try:
        return ast.parse("".join(lines), filename)
    except (SyntaxError, ValueError):
        return None


def _definition(
    tree: ast.Module, name: str, first_line: int
) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The `def` of `name` whose first line (its first decorator's) is `first_line`.

    Only the statements whose lines hold that line are looked into, not the whole tree.
    """
    nodes: list[ast.AST] = list(tree.body)
    while nodes:
        within: list[ast.AST] = []
        for node in nodes:
            first = _first_line(node)
            if first is None or not first <= first_line <= getattr(node, "end_lineno", first):
                continue
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (first, node.name) == (
                first_line,
                name,
            ):
                return node
            within.extend(ast.iter_child_nodes(node))
        nodes = within
    return None


def _first_line(node: ast.AST) -> int | None:
    line: int | None = getattr(node, "lineno", None)
    decorators = getattr(node, "decorator_list", ())
    return min(line, *(d.lineno for d in decorators)) if line is not None and decorators else line


def _is_none(value: Any) -> bool:
    return value is None or (isinstance(value, ast.Constant) and value.value is None)


def _may_return_event(returns: Any) -> bool:
    """True for annotations like `CloudEvent | None` that only ever carry events."""
    args = typing.get_args(returns)
    return bool(args) and all(_is_event_type(a) or a is type(None) for a in args)
