"""Running the app on uvicorn the way kfn wants it: lifespan on, no access log, exit 0 on SIGTERM."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Generator

import uvicorn

from kfn.config import Settings

HANDLED = (signal.SIGINT, signal.SIGTERM)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """uvicorn's handlers, but without re-raising the signal after a graceful exit.

        uvicorn re-raises SIGTERM once it has shut down, so the process dies of the
        signal; a host that drained cleanly should exit 0.
        """
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def serve(settings: Settings, host: str, reload: bool = False) -> int:
    """Serve `kfn.app:app` until stopped; the process exit code."""
    options = dict(
        host=host,
        port=settings.port,
        lifespan="on",
        access_log=settings.access_log,
        timeout_graceful_shutdown=int(settings.grace_period) + 1,
        log_level=settings.log_level.lower(),
        ws="none",  # no function can take a websocket; skipping it saves ~17 ms of imports
    )
    if reload:
        uvicorn.run("kfn.app:app", reload=True, **options)  # type: ignore[arg-type]
        return 0
    config = uvicorn.Config("kfn.app:app", **options)  # type: ignore[arg-type]
    server = _Server(config)
    server.run()
    return 0 if server.started else 3
