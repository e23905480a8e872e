"""A plain HTTP function: FastAPI gives it query parameters, validation and OpenAPI."""

from __future__ import annotations

import os

from kfn import http


@http("/hello", methods=["GET"])
async def hello(name: str = "world") -> dict[str, str]:
    """Greet someone; `K_SERVICE` says which Knative Service answered."""
    return {"greeting": f"hello {name}", "service": os.environ.get("K_SERVICE", "local")}
