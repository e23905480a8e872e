"""Who may deliver events to this host: anyone, a sender with a token, or no one.

Decided once at startup from the settings. With neither KFN_OIDC_AUDIENCE nor
KFN_EVENT_ENDPOINTS=false there is no check at all, so the event path costs what it
did; kfn.sender_identity (and PyJWT) is imported only when an audience is set.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from kfn._errors import EventsNotAccepted, StartupError
from kfn.config import Settings

Admit = Callable[[list[tuple[bytes, bytes]]], Awaitable[object]]
"""Checks a request's headers before its body is read; raises SenderRefused (or Unavailable)."""


async def refuse_every_event(headers: list[tuple[bytes, bytes]]) -> object:
    raise EventsNotAccepted(
        "this Service takes no events: it is reachable from outside the cluster, so its "
        "event functions run in a cluster-local Service (KFN_EVENT_ENDPOINTS=false)"
    )


def admission(settings: Settings) -> Admit | None:
    """The check event requests pass before anything else, or None when there is none."""
    if not settings.event_endpoints:
        return refuse_every_event
    if not settings.oidc_audience:
        return None
    try:
        from kfn import sender_identity
    except ImportError:
        raise StartupError(
            "KFN_OIDC_AUDIENCE is set, but the JOSE library sender identity needs is not "
            "installed: pip install 'kfn-host[oidc]'"
        ) from None
    identity = sender_identity.from_settings(
        settings.oidc_audience, settings.oidc_issuer, settings.oidc_jwks_url
    )
    return identity.verify
