"""Running the app on uvicorn the way kfn wants it: lifespan on, no access log, SIGTERM drains.

Knative sends SIGTERM after its queue-proxy has drained, but a direct `kill` or a
local Ctrl+C may come mid-request. On SIGTERM the host turns unready at once,
answers new work 503, lets in-flight work finish within the grace period, then cuts
off what is still running (each such request is answered 503 with Retry-After, so
its sender retries elsewhere) and lets uvicorn shut down (close the socket, run the
shutdown hooks). A second SIGTERM stops waiting. The process is gone within the
grace period plus `EXIT_MARGIN` whatever still runs: past that, a watchdog ends it.
A host that shut down exits 0, one the watchdog ended exits 1.

Connections are served by `kfn._protocol` (header and body limits and timeouts, a
cap on open connections), which hands event requests to the app's event endpoint
without ASGI's per-request stack (`kfn._event_lane`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import signal
import threading
from collections.abc import Generator
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn

from kfn import logs
from kfn._protocol import protocol
from kfn.config import Settings

if TYPE_CHECKING:
    from kfn.app import App

APP = "kfn.app:app"
PROTOCOL = "kfn._protocol:HttpProtocol"
EXIT_MARGIN = 2.0
"""Seconds past the grace period by which the process has exited after SIGTERM."""
STOP_SECONDS = 1
"""uvicorn's own wait for requests after the host's drain and cut-off (a backstop)."""


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: App) -> None:
        super().__init__(config)
        self.app = app
        self._draining: asyncio.Task[None] | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """SIGINT stops at once, SIGTERM drains first; neither is re-raised after the exit.

        uvicorn re-raises the signal once it has shut down, so the process would die
        of it; a host that drained cleanly should exit 0.
        """
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        loop = asyncio.get_running_loop()

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            # A fresh context: the handler runs in whatever code the signal interrupted,
            # and the drain must not inherit (and log as) a request's invocation.
            loop.call_soon_threadsafe(
                self._on_sigterm, signum, frame, context=contextvars.Context()
            )

        original = {
            signal.SIGINT: signal.signal(signal.SIGINT, self.handle_exit),
            signal.SIGTERM: signal.signal(signal.SIGTERM, on_sigterm),
        }
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        if self._draining is not None:  # a second SIGTERM: stop waiting
            self.handle_exit(signum, frame)
            return
        self._draining = asyncio.get_running_loop().create_task(self._drain(signum, frame))

    async def _drain(self, signum: int, frame: FrameType | None) -> None:
        grace_period = (self.app.settings or Settings()).grace_period
        watchdog = threading.Timer(grace_period + EXIT_MARGIN - STOP_SECONDS / 2, _force_exit)
        watchdog.daemon = True
        watchdog.start()
        await self.app.drain("SIGTERM")
        self.cut_off()
        self.handle_exit(signum, frame)

    def cut_off(self) -> None:
        """Cancel every request still being handled; the app answers each 503 (kfn.app)."""
        for task in list(self.server_state.tasks):
            task.cancel()


def _force_exit() -> None:
    """The watchdog: work (a thread that cannot be cancelled) outlived the grace period."""
    logs.event(logging.ERROR, "exiting with work still running past the grace period")
    for handler in logging.getLogger("kfn").handlers:
        handler.flush()
    os._exit(1)


def serve(settings: Settings, host: str, reload: bool = False) -> int:
    """Serve `kfn.app:app` until stopped; the process exit code."""
    options = dict(
        host=host,
        port=settings.port,
        lifespan="on",
        access_log=settings.access_log,
        timeout_graceful_shutdown=int(settings.grace_period) + 1 if reload else STOP_SECONDS,
        log_level=settings.log_level.lower(),
        log_config=logs.uvicorn_log_config(
            settings.log_level, settings.log_format or logs.default_format()
        ),
        ws="none",  # no function can take a websocket; skip importing a stack
    )
    if reload:
        # The reloading worker imports the protocol by name and reads its limits from KFN_*.
        uvicorn.run(APP, reload=True, http=PROTOCOL, **options)  # type: ignore[arg-type]
        return 0
    from kfn.app import app

    config = uvicorn.Config(APP, http=protocol(settings, events=app), **options)  # type: ignore[arg-type]
    server = _Server(config, app)
    server.run()
    return 0 if server.started else 3
