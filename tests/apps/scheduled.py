"""A schedule that fires every second, for the tests of local schedules under `kfn run`."""

from __future__ import annotations

from kfn import CloudEvent, schedule


@schedule("* * * * * *", data={"job": "tick"})
async def every_second(event: CloudEvent) -> None:
    return None
