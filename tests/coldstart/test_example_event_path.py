"""The example app on Knative: its first event waits for no FastAPI and no model build.

`audit` takes the CloudEvent, so the instance an event for it wakes serves it
without importing FastAPI, building a pydantic schema (whose first build also loads
pydantic's plugins through importlib.metadata) or importing tempfile; `bill` builds
the order models for its own first event, and GET /hello builds the HTTP side.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO

SERVES_THE_EXAMPLE = """
import asyncio, json, sys
from kfn.app import App

HEAVY = ("fastapi", "pydantic.plugin._loader", "importlib.metadata", "tempfile")
ORDER = {"order_id": "o-1", "customer": "ada", "lines": [{"sku": "a", "quantity": 2, "unit_price": 1.5}]}

def seen(step, harness=frozenset()):
    import functions.models as models
    built = sorted(
        name for name in ("Order", "OrderLine", "Invoice", "Shipment", "Notification")
        if getattr(models, name).__pydantic_complete__
    )
    imported = [m for m in HEAVY if m in sys.modules and m not in harness]
    return {"step": step, "imported": imported, "built": built}

async def main():
    steps = []
    app = App()
    await app.startup()
    steps.append(seen("ready"))
    import httpx  # the test's own client, after readiness: what it imports is not the app's
    from kfn.codec import to_http
    from kfn.testing import event

    harness = frozenset(sys.modules)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kfn.test") as client:
        headers, body = to_http(event("com.example.order.paid", {"order_id": "o-1"}))
        answer = await client.post("/events/audit", headers=headers, content=body)
        steps.append({**seen("audit", harness), "status": answer.status_code})
        headers, body = to_http(event("com.example.order.created", ORDER))
        answer = await client.post("/events/bill", headers=headers, content=body)
        steps.append({**seen("bill", harness), "status": answer.status_code, "total": answer.json()["total"]})
        answer = await client.get("/hello", params={"name": "kfn"})
        steps.append({**seen("hello", harness), "status": answer.status_code})
    await app.shutdown()
    print(json.dumps(steps))

asyncio.run(main())
"""


def test_the_first_event_for_audit_builds_nothing_it_does_not_need() -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("KFN_", "K_"))}
    environ.update(K_SERVICE="shop", KFN_FUNCTIONS="functions", PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-c", SERVES_THE_EXAMPLE],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    ready, audit, bill, hello = json.loads(result.stdout.strip().splitlines()[-1])
    assert ready == {"step": "ready", "imported": [], "built": []}
    assert audit == {"step": "audit", "imported": [], "built": [], "status": 202}
    assert bill["status"] == 200 and bill["total"] == 3.0
    assert {"Order", "Invoice"} <= set(bill["built"])
    assert "fastapi" not in bill["imported"]
    assert hello["status"] == 200 and "fastapi" in hello["imported"]
