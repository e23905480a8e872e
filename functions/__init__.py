"""The example app: a small shop's order flow, written with kfn decorators.

`kfn run` (or `uvicorn kfn.app:app`) loads this package; each module below
registers its functions when imported. The order flow: an order is billed (`orders`,
a reply), the invoice ships the order (`shipping`, an emit), the shipment notifies
the customer (`notify`, a reply), `audit` records every step, `archive` writes the
order events to a file (a sync function), and `schedules` runs a nightly job.
"""

from functions import archive, audit, greet, notify, orders, schedules, shipping

__all__ = ["archive", "audit", "greet", "notify", "orders", "schedules", "shipping"]
