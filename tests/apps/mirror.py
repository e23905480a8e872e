"""One function that receives every event and replies with what it saw: for codec tests."""

from __future__ import annotations

import base64
from typing import Any

from kfn import CloudEvent, cloudevent
from kfn.codec.attributes import canonical_string


@cloudevent(reply_type="kfn.mirror")
async def mirror(event: CloudEvent) -> dict[str, Any]:
    data = event.get_data()
    seen: dict[str, Any] = {
        "attributes": {k: canonical_string(v) for k, v in event.get_attributes().items()},
        "types": {k: type(v).__name__ for k, v in event.get_attributes().items()},
        "data_type": type(data).__name__,
    }
    seen["data"] = base64.b64encode(data).decode() if isinstance(data, bytes) else data
    return seen
