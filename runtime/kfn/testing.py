"""The test kit: pytest fixtures that run your functions in-process, no server, no socket.

Installed with kfn as a pytest plugin (entry point `pytest11: kfn`), so the fixtures
are there in any test of a project that uses kfn:

    from kfn.testing import event

    async def test_an_order_is_billed(kfn_client):
        invoice = await kfn_client.reply(event("com.example.order.created", data=ORDER))
        assert invoice.get_type() == "com.example.invoice.created"

    async def test_shipping_emits(kfn_client, kfn_sink):
        await kfn_client.send(event("com.example.invoice.created", data=INVOICE))
        assert kfn_sink.of_type("com.example.shipment.dispatched")

Fixtures (async ones need pytest-asyncio, which the dev extra installs):

- `kfn_app`: the App with your functions (KFN_FUNCTIONS, default `functions`),
  started (startup hooks run) before the test and shut down after it.
- `kfn_client`: a `KfnClient` bound to it over httpx's ASGI transport: `send`,
  `reply`, `fire` (a schedule's ping) and `.http` for `@http` functions.
- `kfn_sink`: a `CapturedSink` that receives everything the functions `emit`,
  through the real emitter (K_CE_OVERRIDES applied, binary mode), for assertions.
- `kfn_settings`, `kfn_registry`: what the app is built from; override them (a
  fixture returning your own `Registry` skips loading KFN_FUNCTIONS), or
  mark a test `@pytest.mark.kfn(local_broker=True, functions=("myapp",))` to change
  settings. With `local_broker=True`, replies and emits flow to the matching
  functions as under `kfn run`; `await kfn_client.settle()` waits for the flow to
  end and `kfn_client.hops` lists every delivery.

Idempotent functions keep their claims in memory in tests (mark a test
`@pytest.mark.kfn(idempotency_store="redis://...")` for a real store); send the
same event twice and `kfn_client.duplicates` lists what was answered without
running the function again.

Schedules never fire on their own in tests; `await kfn_client.fire("name")`
delivers the event the function's PingSource would send.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

import httpx
import pytest
from cloudevents.core.v1.event import CloudEvent

from kfn import emitter
from kfn.app import App
from kfn.codec import Mode as ContentMode
from kfn.codec import carries_event, from_http, to_http
from kfn.codec.event import model_data, new_event
from kfn.config import Settings
from kfn.idempotency.guard import Duplicate
from kfn.local_broker import HopRecord
from kfn.registry import EventFunction, Registry, default_registry
from kfn.sink import SinkConfig

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - the dev extra installs it
    pytest_asyncio = None  # type: ignore[assignment]

__all__ = ["CapturedSink", "DecodedResponse", "KfnClient", "Mode", "decode_response", "event"]

Mode = Literal["binary", "structured"]
SINK_URL = "http://sink.kfn.test/"
"""The captured sink's address: never resolved, the emitter's transport answers in-process."""


def event(
    type: str,
    data: Any = None,
    *,
    source: str = "/tests",
    id: str | None = None,
    subject: str | None = None,
    content_type: str | None = None,
    **extensions: Any,
) -> CloudEvent:
    """A CloudEvent for a test: a new id, the current time, JSON data unless told otherwise.

    A pydantic model as `data` is sent as its JSON.
    """
    dumped = model_data(data)
    if dumped is not None:
        data = dumped
    if content_type is None and data is not None and not isinstance(data, bytes | str):
        content_type = "application/json"
    return new_event(
        type,
        source,
        data,
        content_type=content_type,
        subject=subject,
        id=id,
        extensions=extensions,
    )


@dataclasses.dataclass
class DecodedResponse:
    """What the host answered: the status, the reply event (if any) or the problem."""

    status_code: int
    reply: CloudEvent | None
    problem: dict[str, Any] | None
    response: httpx.Response

    @property
    def data(self) -> Any:
        """The reply's data (None without a reply)."""
        return self.reply.get_data() if self.reply is not None else None


def decode_response(response: httpx.Response) -> DecodedResponse:
    """Decode a host response: a reply event in any content mode, or a problem body."""
    content_type = response.headers.get("content-type", "")
    reply = None
    problem = None
    if response.is_success and carries_event(response.headers):
        events = from_http(response.headers.multi_items(), response.content)
        reply = events[0] if len(events) == 1 else None
    elif content_type.startswith("application/problem+json"):
        problem = response.json()
    return DecodedResponse(response.status_code, reply, problem, response)


class KfnClient:
    """Sends events to an in-process app and decodes what comes back."""

    def __init__(self, app: App, http: httpx.AsyncClient) -> None:
        self.app = app
        self.http = http
        """An httpx client bound to the app: `await kfn_client.http.get("/hello")`."""

    async def send(
        self, event: CloudEvent, *, to: str | None = None, mode: Mode = "binary"
    ) -> DecodedResponse:
        """POST the event to `/` (every matching function) or `/events/<to>` (one function)."""
        if mode not in ("binary", "structured"):
            raise ValueError(f"mode must be 'binary' or 'structured', not {mode!r}")
        headers, body = to_http(event, ContentMode(mode))
        path = "/" if to is None else f"/events/{to}"
        return decode_response(await self.http.post(path, headers=headers, content=body))

    async def reply(
        self, event: CloudEvent, *, to: str | None = None, mode: Mode = "binary"
    ) -> CloudEvent:
        """Send the event and return the reply; fail the test when there is none."""
        answer = await self.send(event, to=to, mode=mode)
        if answer.reply is None:
            detail = json.dumps(answer.problem) if answer.problem else answer.response.text
            pytest.fail(
                f"expected a reply to {event.get_type()}, got {answer.status_code} "
                f"{detail or '(no body)'}"
            )
        return answer.reply

    async def fire(self, function: str, *, mode: Mode = "binary") -> DecodedResponse:
        """Deliver the event the function's PingSource sends, to `/events/<function>`."""
        from kfn.local_schedules import ping_event

        spec = self.app.registry.functions.get(function)
        if not isinstance(spec, EventFunction) or spec.schedule is None:
            pytest.fail(f"{function!r} is not a @schedule function")
        return await self.send(ping_event(spec), to=function, mode=mode)

    async def settle(self) -> None:
        """Wait until the local broker delivered everything (with local_broker=True)."""
        if self.app.local_broker is not None:
            await self.app.local_broker.settle()

    @property
    def hops(self) -> list[HopRecord]:
        """Every delivery the local broker made, oldest first (with local_broker=True)."""
        broker = self.app.local_broker
        return list(broker.hops) if broker is not None else []

    @property
    def duplicates(self) -> list[Duplicate]:
        """Deliveries to idempotent functions answered without running them, oldest first."""
        guard = self.app.dispatcher.idempotency if self.app.dispatcher is not None else None
        return list(guard.duplicates) if guard is not None else []


class CapturedSink:
    """A sink for `emit` in tests: it records each event as the sink would receive it."""

    def __init__(self) -> None:
        self.events: list[CloudEvent] = []
        """The events that reached the sink, in order."""
        self.requests: list[httpx.Request] = []
        """Every request the emitter made, failed ones included."""
        self._failures: list[int] = []
        self.emitter = emitter.Emitter(
            dataclasses.replace(SinkConfig.from_env(), url=SINK_URL),
            backoff=0.0,
            transport=httpx.MockTransport(self._receive),
        )

    def fail(self, status: int, times: int = 1) -> None:
        """DecodedResponse the next `times` requests with `status` (retried ones are retried)."""
        self._failures.extend([status] * times)

    def of_type(self, type: str) -> list[CloudEvent]:
        """The captured events of one type."""
        return [e for e in self.events if e.get_type() == type]

    def clear(self) -> None:
        self.events.clear()
        self.requests.clear()

    def _receive(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self._failures:
            return httpx.Response(self._failures.pop(0))
        self.events.extend(from_http(request.headers.multi_items(), request.content))
        return httpx.Response(202)


# -- the plugin ------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "kfn(**settings): settings for the kfn_app fixture, e.g. local_broker=True or "
        "functions=('myapp',)",
    )


@pytest.fixture
def kfn_settings(request: pytest.FixtureRequest) -> Settings:
    """Settings from the environment, no local broker, no timers and idempotency claims in
    memory, then the `kfn` mark's."""
    settings = dataclasses.replace(
        Settings.from_env(), local_broker=False, schedules=False, idempotency_store="memory"
    )
    marker = request.node.get_closest_marker("kfn")
    if marker is not None:
        overrides = dict(marker.kwargs)
        if isinstance(overrides.get("functions"), str):
            overrides["functions"] = tuple(overrides["functions"].split(","))
        settings = dataclasses.replace(settings, **overrides)
    return settings


@pytest.fixture
def kfn_registry() -> Registry:
    """The registry the decorators in `kfn` write to."""
    return default_registry


@pytest.fixture
def kfn_sink() -> Iterator[CapturedSink]:
    """Capture every emitted event for the duration of the test."""
    sink = CapturedSink()
    with emitter.override(sink.emitter):
        yield sink


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def kfn_app(kfn_settings: Settings, kfn_registry: Registry) -> AsyncIterator[App]:
        """The app with your functions, started before the test and shut down after it."""
        # A test that brings its own registry has declared its functions already.
        app = App(kfn_settings, kfn_registry, load=kfn_registry is default_registry)
        await app.startup()
        try:
            yield app
        finally:
            await app.shutdown()

    @pytest_asyncio.fixture
    async def kfn_client(kfn_app: App) -> AsyncIterator[KfnClient]:
        """A client bound to `kfn_app` in-process (httpx's ASGI transport)."""
        transport = httpx.ASGITransport(app=kfn_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kfn.test") as http:
            yield KfnClient(kfn_app, http)

else:  # pragma: no cover

    @pytest.fixture
    def kfn_app() -> None:
        pytest.fail("the kfn_app fixture needs pytest-asyncio: pip install pytest-asyncio")

    @pytest.fixture
    def kfn_client() -> None:
        pytest.fail("the kfn_client fixture needs pytest-asyncio: pip install pytest-asyncio")
