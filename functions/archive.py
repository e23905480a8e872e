"""A sync function with a prefix filter and no reply: order events archived to a file.

Writing a file blocks, so this is a plain `def`: kfn runs it in a thread pool and
the event loop goes on serving meanwhile. The archive lives under /tmp, the one
writable place in a Knative container (its root filesystem is read-only).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kfn import CloudEvent, cloudevent
from kfn.codec.attributes import canonical_string
from kfn.filters import prefix


def archive_file() -> Path:
    """Where the archive goes: $SHOP_ARCHIVE, or shop-orders.jsonl in the temp directory."""
    import tempfile  # here, not at import: only the first archived event needs it

    return Path(os.environ.get("SHOP_ARCHIVE", Path(tempfile.gettempdir()) / "shop-orders.jsonl"))


@cloudevent(filters=[prefix(type="com.example.order.")])
def archive(event: CloudEvent) -> None:
    """Append the event as one JSON line; the event is acknowledged once it is written."""
    record: dict[str, Any] = {
        name: canonical_string(value) for name, value in event.get_attributes().items()
    }
    record["data"] = event.get_data() if not isinstance(event.get_data(), bytes) else None
    with archive_file().open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
