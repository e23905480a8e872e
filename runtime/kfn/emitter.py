"""Sending events out: `await emit(event)` posts to the sink, or raises.

On Knative a SinkBinding gives the process a sink (`K_SINK`, usually the Broker);
`emit` posts each event there in binary mode over one pooled httpx client, with the
`K_CE_OVERRIDES` extensions applied, `K_CA_CERTS` trusted, the OIDC token as a bearer
token, a timeout, and retries with exponential backoff on exactly the statuses a
Knative dispatcher retries (5xx, 404, 408, 409, 429) and on connection errors. An
emit either reaches the sink or raises EmitError: an event lost without a trace is
the one failure a function author cannot debug.

Each app owns one Emitter and makes it the one `emit` finds (a context variable the
app sets for its startup and each request, which the tasks they start inherit). Under
`kfn run` with no `K_SINK` its sink is the local broker (kfn.local_broker), so the
same `emit` call drives the local event loop. httpx is imported only when the first
event goes over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from cloudevents.core.v1.event import CloudEvent

from kfn import logs, tracing
from kfn._errors import ConfigError, DecodingError, EmitError, NoSinkError, is_retried
from kfn.codec import to_http
from kfn.codec.attributes import canonical_string, check_attributes
from kfn.codec.event import model_data, trusted_event
from kfn.config import EMIT_RETRIES, EMIT_TIMEOUT_SECONDS, Settings
from kfn.sink import SinkConfig, TokenError

if TYPE_CHECKING:
    import httpx

    from kfn.metrics import Metrics

DEFAULT_TIMEOUT = EMIT_TIMEOUT_SECONDS
DEFAULT_RETRIES = EMIT_RETRIES
BACKOFF_BASE = 0.2
"""The first wait, doubled per retry: Knative's default Broker delivery is exponential from PT0.2S."""
BACKOFF_MAX = 5.0
"""No single wait is longer, whatever Retry-After asks: a function is waiting on the emit."""


class InProcessSink(Protocol):
    """Something that takes events in-process (the local broker); raises EmitError to refuse."""

    async def accept(self, event: CloudEvent) -> None: ...


class Emitter:
    """Sends events to one sink; holds the process's pooled HTTP client, created on first use."""

    def __init__(
        self,
        sink: SinkConfig,
        *,
        ingress: InProcessSink | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = BACKOFF_BASE,
        max_backoff: float = BACKOFF_MAX,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.sink = sink
        self.ingress = ingress
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.metrics: Metrics | None = None
        """Counts emits and their failures when set (the app sets its own)."""

    @classmethod
    def from_settings(
        cls, settings: Settings, sink: SinkConfig, ingress: InProcessSink | None = None
    ) -> Emitter:
        return cls(
            sink, ingress=ingress, timeout=settings.emit_timeout, retries=settings.emit_retries
        )

    @property
    def target(self) -> str:
        """Where events go, for messages."""
        if self.sink.url is not None:
            return self.sink.url
        return "the local broker" if self.ingress is not None else "nowhere"

    async def send(self, event: CloudEvent) -> None:
        """Deliver one event to the sink; raise EmitError when it cannot be delivered."""
        if self.metrics is None:
            await self._send(event)
            return
        span = tracing.current()
        try:
            await self._send(event)
        except BaseException:
            self.metrics.emitted(span.function if span else None, ok=False)
            raise
        self.metrics.emitted(span.function if span else None, ok=True)

    async def _send(self, event: CloudEvent) -> None:
        prepared = self.prepare(event)
        if self.sink.url is not None:
            await self._post(self.sink.url, prepared)
        elif self.ingress is not None:
            await self.ingress.accept(prepared)
        else:
            raise NoSinkError(
                f"cannot emit event {prepared.get_id()} ({prepared.get_type()}): no sink is "
                "configured. K_SINK is not set; on Knative a SinkBinding sets it (declare "
                "emits=[...] on the function so the generated manifests include one); "
                "locally, `kfn run` routes emits to its local broker"
            )

    def prepare(self, event: CloudEvent) -> CloudEvent:
        """The event as it goes out: pydantic data dumped, K_CE_OVERRIDES applied, checked."""
        if not isinstance(event, CloudEvent):
            raise TypeError(f"emit() takes a CloudEvent, not {type(event).__name__}")
        attributes: dict[str, Any] = dict(event.get_attributes())
        data = event.get_data()
        dumped = model_data(data)
        if dumped is not None:
            data = dumped
            attributes.setdefault("datacontenttype", "application/json")
        tracing.stamp(attributes)
        attributes.update(self.sink.overrides)
        check = {
            name: canonical_string(value) if name == "time" else value
            for name, value in attributes.items()
            if value is not None
        }
        try:
            check_attributes(check)
        except DecodingError as error:
            raise EmitError(f"cannot emit: not a valid CloudEvent: {error.detail}") from None
        return trusted_event({k: v for k, v in attributes.items() if v is not None}, data)

    # -- HTTP --------------------------------------------------------------------------

    def client(self) -> httpx.AsyncClient:
        """The pooled client, created in (and bound to) the running event loop."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            import httpx

            # A client belongs to one event loop; a new loop (a test's) gets a new one.
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout),
                verify=self.sink.verify(),
                transport=self._transport,
                follow_redirects=False,
            )
            self._loop = loop
        return self._client

    async def _post(self, url: str, event: CloudEvent) -> None:
        import httpx

        headers, body = to_http(event)
        headers += tracing.headers_for(event.get_attributes())
        client = self.client()
        attempts = self.retries + 1
        last = ""
        status: int | None = None
        for attempt in range(1, attempts + 1):
            try:
                token = self.sink.bearer_token()  # re-read every time: it is rotated in place
            except TokenError as error:
                raise EmitError(str(error), attempts=attempt - 1) from None
            request_headers = [*headers, ("authorization", f"Bearer {token}")] if token else headers
            retry_after: float | None = None
            try:
                response = await client.post(url, headers=request_headers, content=body)
            except httpx.TransportError as error:
                status, last = None, f"{type(error).__name__}: {error}".rstrip(": ")
            else:
                status = response.status_code
                if response.is_success:
                    return
                detail = _excerpt(response.text)
                last = f"status {status}" + (f": {detail}" if detail else "")
                if not is_retried(status):
                    hint = " (is the OIDC token valid?)" if status in (401, 403) else ""
                    raise EmitError(
                        f"the sink {url} refused event {event.get_id()} ({event.get_type()}) "
                        f"with {last}{hint}",
                        status=status,
                        attempts=attempt,
                    )
                retry_after = _retry_after(response.headers.get("retry-after"))
            if attempt == attempts:
                break
            wait = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
            if retry_after is not None:
                wait = min(self.max_backoff, max(wait, retry_after))
            logs.event(
                logging.WARNING,
                "emit retry",
                event_id=event.get_id(),
                type=event.get_type(),
                sink=url,
                attempt=attempt,
                error=last,
                wait_seconds=round(wait, 3),
            )
            await asyncio.sleep(wait)
        raise EmitError(
            f"event {event.get_id()} ({event.get_type()}) did not reach the sink {url} "
            f"after {attempts} attempts; last: {last}",
            status=status,
            attempts=attempts,
        )

    async def aclose(self) -> None:
        """Close the pooled client (at shutdown); a later send opens a new one."""
        client, self._client = self._client, None
        if client is not None and self._loop is asyncio.get_running_loop():
            await client.aclose()


def _excerpt(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: the exponential backoff is good enough


# -- which emitter `emit` uses -----------------------------------------------------------

_app_emitter: contextvars.ContextVar[Emitter | None] = contextvars.ContextVar(
    "kfn_app_emitter", default=None
)
"""The running app's emitter, set by the app for its startup, requests and event loop."""
_test_emitter: contextvars.ContextVar[Emitter | None] = contextvars.ContextVar(
    "kfn_test_emitter", default=None
)


def serving(emitter: Emitter | None) -> contextvars.Token[Emitter | None]:
    """Make `emitter` the one `emit` uses in this context (and the tasks it starts).

    The app calls it at startup and around each request, so `emit` in a function,
    a hook, a local-broker delivery or a schedule reaches that app's sink; two apps in
    one process each keep their own.
    """
    return _app_emitter.set(emitter)


def restore(token: contextvars.Token[Emitter | None]) -> None:
    _app_emitter.reset(token)


@contextlib.contextmanager
def override(emitter: Emitter) -> Iterator[Emitter]:
    """Send every emit to `emitter` inside the block, whatever app serves (for tests)."""
    token = _test_emitter.set(emitter)
    try:
        yield emitter
    finally:
        _test_emitter.reset(token)


def current() -> Emitter:
    """The emitter `emit` uses: a test's override, else the serving app's.

    Outside any app (a script), one from the environment, kept for this context.
    """
    emitter = _test_emitter.get() or _app_emitter.get()
    if emitter is None:
        try:
            emitter = Emitter.from_settings(Settings.from_env(), SinkConfig.from_env())
        except ConfigError as error:
            raise EmitError(f"cannot emit: {error}") from None
        _app_emitter.set(emitter)
    return emitter


async def emit(event: CloudEvent) -> None:
    """Send `event` to the sink (K_SINK, or the local broker under `kfn run`).

    Returns once the sink accepted it (2xx); raises EmitError when it did not,
    after retrying what Knative retries. Call it from `async def` functions:

        await emit(CloudEvent({"type": "com.example.shipped", "source": "/shipping"}, data))
    """
    await current().send(event)
