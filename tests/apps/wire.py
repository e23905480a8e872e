"""Functions whose replies break a rule of the wire, and an echo: the wire-fault tests' app."""

from __future__ import annotations

import asyncio
from typing import Any

from kfn import CloudEvent, cloudevent


@cloudevent(type="wire.echo", reply_type="wire.echoed")
async def echo(event: CloudEvent) -> Any:
    """Replies with the data it got (bytes as they came): what the codec made of the request."""
    return event.get_data()


@cloudevent(type="wire.quiet")
async def quiet(event: CloudEvent) -> None:
    return None


def _event(datacontenttype: str | None = None, **extensions: Any) -> CloudEvent:
    attributes: dict[str, Any] = {"type": "wire.bad", "source": "/tests/wire", **extensions}
    if datacontenttype is not None:
        attributes["datacontenttype"] = datacontenttype
    return CloudEvent(attributes, "hi")


def _circular() -> dict[str, Any]:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    return loop


BAD_REPLIES: dict[str, Any] = {
    "surrogate": lambda: "lone \ud800 surrogate",
    "surrogate-in-json": lambda: {"text": "lone \udfff"},
    "nan": lambda: {"x": float("nan")},
    "infinity": lambda: [float("inf")],
    "circular": _circular,
    "crlf-content-type": lambda: _event("text/plain\r\nx-injected: yes"),
    "non-latin-1-content-type": lambda: _event("text/plain; charset=\u4e00"),
    "latin-1-content-type": lambda: _event("text/plain; name=caf\u00e9"),
    "unknown-reply-charset": lambda: _event("text/plain; charset=no-such-charset"),
    "idna-reply-charset": lambda: _event("text/plain; charset=idna"),
    "newline-in-name": lambda: _event(**{"bad\n": "x"}),
    "float-extension": lambda: _event(score=0.5),
    "surrogate-extension": lambda: _event(note="\ud800"),
}
"""The subject of a `wire.reply` event names the bad reply the function returns."""


@cloudevent(type="wire.reply", reply_type="wire.replied")
async def bad_reply(event: CloudEvent) -> Any:
    """The bad reply the subject names; no reply for any other subject."""
    make = BAD_REPLIES.get(event.get_subject() or "")
    return make() if make is not None else None


@cloudevent(type="wire.sleep")
async def sleep(event: CloudEvent) -> None:
    await asyncio.sleep(float(str(event.get_data() or 1)))
