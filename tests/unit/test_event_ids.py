"""Ids kfn makes up: reply event ids (UUID version 4) and W3C trace and span ids.

They come from `random` (no system call per event); what matters is that they are
well-formed and do not repeat, also across a fork (the generator is reseeded).
"""

from __future__ import annotations

import os
import re
import uuid

from kfn import tracing
from kfn.codec.event import new_event, new_id


def test_an_originated_event_gets_a_fresh_version_4_uuid() -> None:
    ids = [new_event("t", "/s").get_id() for _ in range(1000)]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 4 and str(uuid.UUID(i)) == i for i in ids)


def test_trace_and_span_ids_are_w3c_lowercase_hex_and_fresh() -> None:
    traces = [tracing.new_trace_id() for _ in range(1000)]
    spans = [tracing.new_span_id() for _ in range(1000)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", t) and t != "0" * 32 for t in traces)
    assert all(re.fullmatch(r"[0-9a-f]{16}", s) and s != "0" * 16 for s in spans)
    assert len(set(traces)) == len(traces) and len(set(spans)) == len(spans)


def test_a_forked_child_does_not_repeat_its_parent_s_ids() -> None:
    """Without reseeding, the child's first ids would be the parent's next ones."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: its next ids, then gone
        os.write(write, f"{new_id()} {tracing.new_span_id()}".encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read) as pipe:
        child_id, child_span = pipe.read().split()
    assert new_id() != child_id
    assert tracing.new_span_id() != child_span
