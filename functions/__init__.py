"""The example app: a small shop's order flow, written with kfn decorators.

`kfn run` (or `uvicorn runtime.app:app`) loads this package; each module below
registers its functions when imported.
"""

from functions import audit, greet, orders

__all__ = ["audit", "greet", "orders"]
