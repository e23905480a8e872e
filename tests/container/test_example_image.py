"""The example app's image, built by `kfn build --engine podman`, keeps Knative's runtime contract.

The container runs as a revision would: read-only root filesystem, the image's own
user, PORT and the K_* variables set, and it is checked only from outside.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import REPO
from tests.container.contract import build
from tests.container.harness import GRACE_PERIOD, InFlight, Podman, SlowSink, running
from tests.deploy.dockerfile_parsing import stages
from tests.helpers import binary_headers

ORDER = {
    "order_id": "o-1",
    "customer": "ann",
    "lines": [{"sku": "tea", "quantity": 2, "unit_price": 3.25}],
}
INVOICE = {"invoice_id": "inv-o-1", "order_id": "o-1", "customer": "ann", "total": 6.5}


@pytest.fixture(scope="module")
def image(
    podman: Podman, base_image: str, run_tag: str, intermediates: list[str], built: list[str]
) -> str:
    image = f"localhost/kfn-test/shop:example-{run_tag}"
    build(podman, REPO, image, (built, intermediates), base_image)
    return image


def test_the_image_runs_as_the_dockerfiles_numeric_non_root_user(
    podman: Podman, image: str
) -> None:
    final = stages((REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8"))[-1]
    with running(podman, image) as container:
        container.wait_ready()
        uid = container.exec("id", "-u")
    assert uid.returncode == 0, uid.stderr
    assert uid.stdout.strip() == final.all("USER")[0].split(":")[0] != "0"


def test_the_image_holds_the_extras_the_settings_name(podman: Podman, image: str) -> None:
    """[tool.kfn] extras = ["idempotency"]: the Redis client for ship's claims."""
    found = podman.call("run", "--rm", "--entrypoint", "python3", image, "-c", "import redis")
    assert found.returncode == 0, found.stderr


def test_a_write_outside_tmp_fails_and_tmp_is_writable(podman: Podman, image: str) -> None:
    with running(podman, image) as container:
        container.wait_ready()
        outside = container.exec("python3", "-c", "open('/app/written', 'w')")
        inside = container.exec("python3", "-c", "open('/tmp/written', 'w')")
    assert outside.returncode != 0 and "Read-only file system" in outside.stderr
    assert inside.returncode == 0, inside.stderr


def test_readiness_turns_200_once_the_startup_hooks_ran_and_liveness_answers(
    podman: Podman, image: str
) -> None:
    with running(podman, image) as container:
        ready = container.wait_ready()
        live = httpx.get(f"{container.url}/health/liveness", timeout=5)
        logs = container.logs()
    assert ready.json() == {"status": "ready"}
    assert live.status_code == 200
    assert "Traceback" not in logs


def test_an_order_event_is_answered_with_its_invoice_reply(podman: Podman, image: str) -> None:
    with running(podman, image) as container:
        container.wait_ready()
        response = httpx.post(
            f"{container.url}/events/bill",
            content=json.dumps(ORDER),
            headers=binary_headers(
                "com.example.order.created", **{"content-type": "application/json"}
            ),
            timeout=10,
        )
    assert response.status_code == 200, response.text
    assert response.headers["ce-type"] == "com.example.invoice.created"
    assert response.json()["order_id"] == "o-1"


def test_sigterm_during_an_in_flight_event_still_acknowledges_it_and_exits_0(
    podman: Podman, image: str
) -> None:
    """`ship` emits to K_SINK; the sink holds the emit while the container gets SIGTERM."""
    sink = SlowSink(delay=2)
    with sink.serving() as sink_url, running(podman, image, {"K_SINK": sink_url}) as container:
        container.wait_ready()
        event = InFlight(
            "POST",
            f"{container.url}/events/ship",
            content=json.dumps(INVOICE),
            headers=binary_headers(
                "com.example.invoice.created", **{"content-type": "application/json"}
            ),
        )
        assert sink.arrived.wait(15), container.logs()
        container.terminate()
        response = event.result()
        code = container.wait_exit(timeout=GRACE_PERIOD + 5)
        logs = container.logs()
    assert response.status_code == 202, response.text
    assert sink.received[0]["ce-type"] == "com.example.shipment.dispatched"
    assert code == 0, logs
    assert "Traceback" not in logs
