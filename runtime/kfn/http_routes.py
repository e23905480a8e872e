"""The `@http` functions as a FastAPI app: parameters, validation and OpenAPI come from FastAPI.

Its errors (an unknown path, a method not allowed, a request that fails validation,
an `HTTPException`, an exception in a function) are answered as problems, rendered
by `kfn.problems` like every error of the host, never with the exception's message.
Imported only when the app has HTTP functions, so an event-only app never pays
for importing FastAPI.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from kfn._errors import RegistrationError
from kfn._http_side import check_routes
from kfn.problems import Problem, not_found
from kfn.registry import Registry, where_defined

VALIDATION_ERROR_KEYS = ("type", "loc", "msg", "input")
"""What each FastAPI validation error keeps in the problem (as events' 422 do: no ctx, no url)."""


def build_http_app(registry: Registry) -> Any:
    # The functions' routes go first, the docs routes after them (`setup()` below):
    # Starlette tries routes in order, so every request to a function skips three.
    api = FastAPI(title="kfn functions", openapi_url=None, docs_url=None, redoc_url=None)
    check_routes(registry)
    for spec in registry.http_functions:
        try:
            api.add_api_route(
                spec.path,
                spec.func,
                methods=list(spec.methods),
                name=spec.name,
                **spec.route_options,
            )
        except Exception as error:
            raise RegistrationError(
                f"function {spec.name!r} in {where_defined(spec.func)}: FastAPI cannot route it: "
                f"{type(error).__name__}: {error}"
            ) from None
    api.openapi_url, api.docs_url, api.redoc_url = "/openapi.json", "/docs", "/redoc"
    api.setup()
    api.add_exception_handler(HTTPException, _http_error)
    api.add_exception_handler(RequestValidationError, _invalid_request)
    api.add_exception_handler(Exception, _function_error)
    return api


def _function_name(request: Request) -> str | None:
    route = request.scope.get("route")
    name = getattr(route, "name", None)
    return name if isinstance(name, str) else None


def _respond(problem: Problem, headers: Mapping[str, str] | None = None) -> Response:
    response = Response(problem.body(), status_code=problem.status, headers=headers)
    for key, value in problem.headers():
        response.headers[key.decode()] = value.decode()
    return response


async def _http_error(request: Request, error: Exception) -> Response:
    """404 and 405 from routing, and any `HTTPException` a function raises."""
    assert isinstance(error, HTTPException)
    status, path = error.status_code, request.url.path
    if status < 400:  # a redirect or "not modified" raised as an exception: no problem body
        return Response(status_code=status, headers=error.headers)
    if status == 404 and _function_name(request) is None:
        problem = not_found(path)
    elif status == 405:
        problem = Problem(405, "method-not-allowed", f"{request.method} is not allowed on {path}")
        if path == "/":  # POST / is the event endpoint, beside the user's methods
            allowed = {m.strip() for m in (error.headers or {}).get("Allow", "").split(",")}
            headers = {"Allow": ", ".join(sorted((allowed - {""}) | {"POST"}))}
            return _respond(problem, headers)
    else:
        detail = error.detail if isinstance(error.detail, str) else None
        problem = Problem(
            status,
            "http-error",
            detail or f"function {_function_name(request)!r} answered {status}",
            function=_function_name(request),
            errors=None if detail is not None else jsonable_encoder(error.detail),
        )
    return _respond(problem, error.headers)


async def _invalid_request(request: Request, error: Exception) -> Response:
    """422: the request does not fit the function's parameters; FastAPI's errors kept."""
    assert isinstance(error, RequestValidationError)
    name = _function_name(request)
    errors = [
        {key: item[key] for key in VALIDATION_ERROR_KEYS if key in item} for item in error.errors()
    ]
    return _respond(
        Problem(
            422,
            "invalid-request",
            f"the request does not fit the parameters of function {name!r}",
            function=name,
            errors=jsonable_encoder(errors),
        )
    )


async def _function_error(request: Request, error: Exception) -> Response:
    """500: the function raised. The body names the exception's type only; the log has the rest."""
    name = _function_name(request)
    return _respond(
        Problem(
            500, "function-error", f"function {name!r} raised {type(error).__name__}", function=name
        )
    )
