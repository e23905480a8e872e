"""The `@http` functions as a FastAPI app: parameters, validation and OpenAPI come from FastAPI.

Imported only when the app has HTTP functions, so an event-only app never pays
for importing FastAPI.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from kfn._errors import RegistrationError
from kfn.registry import Registry, where_defined


def build_http_app(registry: Registry) -> Any:
    # The functions' routes go first, the docs routes after them (`setup()` below):
    # Starlette tries routes in order, so every request to a function skips three.
    api = FastAPI(title="kfn functions", openapi_url=None, docs_url=None, redoc_url=None)
    seen: dict[tuple[str, str], str] = {}
    for spec in registry.http_functions:
        for method in spec.methods:
            key = (spec.path, method)
            if key in seen:
                raise RegistrationError(
                    f"function {spec.name!r} in {where_defined(spec.func)}: {method} {spec.path} is "
                    f"already served by {seen[key]!r}"
                )
            seen[key] = spec.name
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
    return api
