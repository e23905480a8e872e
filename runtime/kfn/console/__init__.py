"""The dev console: what the functions are and what happened to each event, at /_kfn/ under `kfn run`.

A small ASGI app (`app.py`) serving a page and its assets (`static/`, shipped with
the package, no CDN) and a JSON API the page polls; `feed.py` records every
invocation span as a delivery. It is off on Knative (K_SERVICE set): there /_kfn/
is a 404 like any unknown path.
"""

from kfn.console.app import Console

__all__ = ["Console"]
