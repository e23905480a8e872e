"""Mutation testing of the modules that carry the delivery contract, bounded in time.

    make mutate                      # or: python3 mutation/run.py --minutes 40

Each run copies the tracked files to .mutate/tree (never the working tree: a mutant is
written into its file), keeps a virtual environment in .mutate/venv with the dev extra
and cosmic-ray (which lists the mutants and applies them), and tests every group of
modules below. A first run of the mapped tests under coverage records which tests reach
each line and how long each test takes (mutation/contexts.py). A mutant then runs only
the tests that reach its lines, fastest first, and stops at the first failure; it may
take a few times what those tests took unmutated before it counts as killed by timeout
(it hung). A mutant on a line no test reaches survives without a run, and mutants inside
type annotations (never evaluated: the modules use postponed annotations) are not
generated at all. The mutants of the status-code and acknowledgement paths (FOCUS) all
run first; the other mutants are then sampled in a fixed random order until the time is
up. The score, the survivors with their diffs, and those JUSTIFIED as unobservable, each
with its reason, are written to mutation/RESULTS.md.

The result is information, not a gate: CI does not run this.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutate"
TREE = WORK / "tree"
VENV = WORK / "venv"
COSMIC_RAY = "cosmic-ray==8.4.6"
PYTEST = ["-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
PYTEST += ["-o", "addopts=--strict-markers --strict-config", "--no-header", "-rfE"]
UNLABELLED = "(a process started without the test's environment)"
CONTEXT_PTH = (
    "import os; __import__('coverage').Coverage.current() and __import__('coverage')"
    ".Coverage.current().switch_context(os.environ.get('KFN_MUTATE_TEST') or "
    f"{UNLABELLED!r})\n"
)
"""Started by coverage's own .pth, a `kfn run` process labels its lines with its test's file."""
SLACK, SLOWDOWN = 20.0, 3.0
"""A mutant's tests may take SLACK seconds plus SLOWDOWN times their mapped time, then it hung."""
CAP = [90.0]
"""The most seconds one mutant may take (--mutant-seconds): past it, undecided, not hung."""
WORKERS = [max(1, min(2, os.cpu_count() or 1))]
"""Mutants run at once (--workers), each in its own copy of the tree: their tests wait on
servers much of the time, so two share two cores well."""

MAPPED = (
    "tests/integration",
    "tests/unit",
    "tests/observe/test_metrics.py",
    "tests/observe/test_trace_propagation.py",
    "tests/observe/test_http_refusals.py",
    "tests/idempotency",
    "tests/events/test_local_broker.py",
    "tests/adversarial/test_header_limits.py",
    "tests/adversarial/test_slow_clients.py",
    "tests/adversarial/test_connection_cap.py",
)
"""The tests the map runs: every mutant is tried against those of them that reach it.

The suites where the status codes and acknowledgements are seen from outside (a real
server, a real client) and the unit tests; the others (the local broker's, CESQL's,
the trigger parity's) cost more than the run can spend and reach these lines little.
"""


@dataclass(frozen=True)
class Group:
    name: str
    modules: tuple[str, ...]
    share: float
    """Its part of the time left for the sampled (not FOCUS) mutants."""


GROUPS = (
    Group(
        "endpoint, routing, dispatch, replies, lifecycle, server",
        (
            "runtime/kfn/_events.py",
            "runtime/kfn/_body.py",
            "runtime/kfn/_backpressure.py",
            "runtime/kfn/_admission.py",
            "runtime/kfn/sender_identity.py",
            "runtime/kfn/_probes.py",
            "runtime/kfn/_inflight.py",
            "runtime/kfn/_asgi.py",
            "runtime/kfn/_errors.py",
            "runtime/kfn/app.py",
            "runtime/kfn/server.py",
            "runtime/kfn/routing.py",
            "runtime/kfn/dispatch.py",
            "runtime/kfn/replies.py",
            "runtime/kfn/problems.py",
            "runtime/kfn/lifecycle.py",
            "runtime/kfn/_sync_pool.py",
            "runtime/kfn/_protocol.py",
            "runtime/kfn/_event_lane.py",
            "runtime/kfn/_route_index.py",
        ),
        0.6,
    ),
    Group(
        "codec, filters, cesql",
        ("runtime/kfn/codec", "runtime/kfn/filters.py", "runtime/kfn/_cesql"),
        0.4,
    ),
)

FOCUS = {
    # The functions (and module-level tables) that decide a status code, a Retry-After,
    # or whether an event is acknowledged.
    "runtime/kfn/_events.py": {"__call__", "_admitted", "answer_error"},
    "runtime/kfn/_body.py": {"read_body"},
    "runtime/kfn/_backpressure.py": {"check"},
    "runtime/kfn/_admission.py": {"refuse_every_event", "admission"},
    "runtime/kfn/sender_identity.py": {"bearer_token", "invalid"},
    "runtime/kfn/_probes.py": {"readiness", "unready", "unready_reason"},
    "runtime/kfn/_asgi.py": {"respond", "respond_problem"},
    "runtime/kfn/_errors.py": {
        "is_retried",
        "RETRIED_BY_KNATIVE",
        "EventError",
        "Unavailable",
        "EventDropped",
        "Drop",
        "Retry",
    },
    "runtime/kfn/app.py": {
        "__call__",
        "_http",
        "_cut_off",
        "_refuse",
        "_user_http",
        "takes_event",
        "deliver",
        "_serve",
        "CUT_OFF",
        "METHOD_NOT_ALLOWED",
    },
    "runtime/kfn/server.py": {"_on_sigterm", "_drain", "cut_off"},
    "runtime/kfn/routing.py": {"targets", "route", "matching"},
    "runtime/kfn/dispatch.py": {"deliver", "call", "_call", "_invoke"},
    "runtime/kfn/replies.py": {"build_reply"},
    "runtime/kfn/problems.py": {"status_of", "of", "headers", "body", "_STATUS"},
    "runtime/kfn/lifecycle.py": {"drain"},
    "runtime/kfn/_sync_pool.py": {"run", "exhausted", "_expire", "_finish", "_work"},
    "runtime/kfn/_protocol.py": {
        "connection_made",
        "data_received",
        "_feed",
        "on_header",
        "on_headers_complete",
        "_start_asgi_task",
        "on_message_complete",
        "on_response_complete",
        "expired",
        "_refuse",
        "_tick",
        "_too_many_connections",
        "TOO_MANY_CONNECTIONS",
        "INVALID_HTTP",
        "HEADER_TIMEOUT",
        "BODY_TIMEOUT",
    },
    "runtime/kfn/_event_lane.py": {"run_event", "answer", "send", "_finish", "_start"},
    "runtime/kfn/codec/__init__.py": {"detect_mode", "decode", "encode"},
    "runtime/kfn/codec/binary.py": {"decode"},
    "runtime/kfn/codec/structured.py": {"_load", "from_object", "decode", "decode_batch"},
}

FOCUS_ORDER = (
    *("_events", "problems", "dispatch", "routing", "replies", "_body", "_backpressure"),
    *("_admission", "_asgi", "_errors", "_sync_pool", "_probes", "lifecycle", "app"),
    *("server", "_protocol", "_event_lane", "sender_identity", "__init__", "binary"),
    "structured",
)
"""The order the FOCUS modules run in (by file name): the endpoint's own decisions first."""

_ANY_CALL = (
    "equivalent: after a fan-out in which every call succeeded, the span made the ended "
    "one only has to be one of the calls that ran (the answer's log line then carries a "
    "trace, and the request is counted as the functions' answer, not a refusal); which "
    "one is immaterial, and every index here names a call that ran"
)
JUSTIFIED: dict[tuple[str, str, str], str] = {
    # (module, operator, the original line, stripped): why no test can see the mutant.
    **{
        ("runtime/kfn/dispatch.py", operator, "tracing.adopt(contexts[-1].run(tracing.logged))"): (
            _ANY_CALL
        )
        for operator in (
            "core/ReplaceUnaryOperator_Delete_USub",
            "core/ReplaceUnaryOperator_USub_Not",
            "core/ReplaceUnaryOperator_USub_UAdd",
            "core/ReplaceUnaryOperator_USub_Invert",
            "core/NumberReplacer",
        )
    },
    **{
        ("runtime/kfn/dispatch.py", operator, "if len(targets) == 1:"): (
            "equivalent: `== 0` (or `< 1`) sends every event down the fan-out path, which "
            "`deliver` is never called without a target for; with one target that path runs "
            "the call in a task of its own and adopts its span, so the answer, the metrics "
            "and the log line are the single path's (which exists to save a task per event)"
        )
        for operator in ("core/NumberReplacer", "core/ReplaceComparisonOperator_Eq_Lt")
    },
    (
        "runtime/kfn/codec/__init__.py",
        "core/NumberReplacer",
        'kind = content_type.split(b";", 1)[0].strip().lower()',
    ): (
        "equivalent: a `maxsplit` of 2 instead of 1 leaves the first part, the only one "
        "read, as it was"
    ),
    (
        "runtime/kfn/dispatch.py",
        "core/NumberReplacer",
        "reply = await self.call(targets[0], event)",
    ): "equivalent: the line runs only when `len(targets) == 1`, where `targets[-1]` is `targets[0]`",
    (
        "runtime/kfn/_body.py",
        "core/ReplaceComparisonOperator_Eq_LtE",
        'if message["type"] == "http.disconnect":',
    ): (
        "equivalent: an HTTP request's `receive` yields only two message types, "
        '"http.request", which sorts after "http.disconnect", and "http.disconnect" itself, '
        "so `<=` picks out the same one as `==`"
    ),
    (
        "runtime/kfn/dispatch.py",
        "core/ReplaceTrueWithFalse",
        "for t, c in zip(targets, contexts, strict=True)",
    ): (
        "equivalent: `contexts` is made from `targets`, one each, on the line above, so "
        "the two always have the same length and `strict` never decides anything"
    ),
    **{
        ("runtime/kfn/_errors.py", operator, "if not 400 <= status < 500 or is_retried(status):"): (
            "equivalent when it makes `<= 500` or `< 501` of `< 500`: the one status let "
            "through, 500, is one Knative retries, refused by `is_retried` on the same line "
            "(Drop(status=500) is tested; a 401 for the 400 is killed by Drop(400))"
        )
        for operator in ("core/ReplaceComparisonOperator_Lt_LtE", "core/NumberReplacer")
    },
    **{
        ("runtime/kfn/_sync_pool.py", f"core/ReplaceComparisonOperator_{kind}", line): (
            "equivalent: a call's states are the ints 0 to 3 (`range(4)`) and `_QUEUED` is 0, "
            "the least: CPython keeps one object of each small int, so `is` agrees with `==`, "
            "and `<= _QUEUED` is `== _QUEUED`, `> _QUEUED` is `!= _QUEUED`"
        )
        for line, changes in (
            ("if state == _QUEUED:", ("Eq_Is", "Eq_LtE")),
            ("if call.state != _QUEUED:", ("NotEq_IsNot", "NotEq_Gt")),
        )
        for kind in changes
    },
    **{
        ("runtime/kfn/_sync_pool.py", "core/ReplaceComparisonOperator_GtE_Eq", line): (
            "equivalent: a stuck call holds one of the pool's threads until it ends, and "
            "there are never more than `_size` threads, so `len(self._stuck)` never exceeds "
            "`_size` and `>=` is `==`"
        )
        for line in (
            "return len(self._stuck) >= self._size",
            "if len(self._stuck) >= self._size:",
        )
    },
    (
        "runtime/kfn/_sync_pool.py",
        "core/ReplaceOrWithAnd",
        "if state in (_DONE, _ABANDONED) or call.stuck:",
    ): (
        "unobservable: `_expire` meets a finished or already-stuck call only when its timer "
        "fires in the one loop turn between the worker finishing and `_finish` cancelling "
        "that timer (a caller's cancellation after an answer finds nothing to cancel); no "
        "test can place a timer there"
    ),
    (
        "runtime/kfn/_sync_pool.py",
        "core/NumberReplacer",
        "seconds=round(time.monotonic() - call.started, 3),",
    ): (
        "unobservable as a behaviour when it makes 2 of the 3: centiseconds are also at most "
        "milliseconds, which is what the test of that log line can require of a duration "
        "(one that ends in 0 has fewer digits either way); a finer rounding fails it"
    ),
    (
        "runtime/kfn/app.py",
        "core/ReplaceComparisonOperator_Eq_LtE",
        'if path == "/" or path.startswith(EVENTS_PREFIX):',
    ): (
        "equivalent: an HTTP request's ASGI path always begins with '/', so the one path "
        "that sorts at or before '/' is '/' itself"
    ),
    **{
        ("runtime/kfn/app.py", operator, "if task is not None:"): (
            "unobservable: `_cut_off` runs in the request's own task, so `current_task()` is "
            "never None, and the mutant skips `uncancel`; a task's cancel count is read only "
            "by `asyncio.timeout` and task groups, and the cut-off answer awaits neither"
        )
        for operator in ("core/ReplaceComparisonOperator_IsNot_Is", "core/AddNot")
    },
    (
        "runtime/kfn/app.py",
        "core/ReplaceAndWithOr",
        "assert parts is not None and parts.http_app is not None",
    ): (
        "unobservable: an assert for the type checker; `serves_root` is set only after "
        "`parts`, from the @http functions that `parts.http_app` serves, so both halves "
        "hold wherever the line runs and `or` fails in no state that `and` passes"
    ),
    (
        "runtime/kfn/lifecycle.py",
        "core/NumberReplacer",
        "finished = await self.in_flight.wait_idle(max(0.0, self.deadline - started))",
    ): (
        "equivalent for the -1.0 the seeded draw makes of the 0.0: `asyncio.wait_for` "
        "treats every timeout at or below 0 alike (it times out at once unless the wait "
        "is already done), so a drain past its deadline returns as it did (the other "
        "draw, 1.0, is not covered by this: it would make a late shutdown a second later)"
    ),
    (
        "runtime/kfn/sender_identity.py",
        "core/NumberReplacer",
        'scheme, _, token = values[0].decode("latin-1").strip().partition(" ")',
    ): (
        "equivalent: the line runs only after `len(values) > 1` was refused and an empty "
        "list was, so `values` holds one header and `values[-1]` is `values[0]`"
    ),
    (
        "runtime/kfn/_protocol.py",
        "core/ReplaceComparisonOperator_Eq_LtE",
        "if self._header_bytes == 0:",
    ): "equivalent: a count of bytes received is never negative, so `<= 0` is `== 0`",
    **{
        ("runtime/kfn/_protocol.py", operator, line): (
            "unreached under `kfn run`, which sets no concurrency limit: uvicorn's own "
            "limit_concurrency check, kept as uvicorn has it for a server that sets one"
        )
        for operator, line in (
            (
                "core/ReplaceComparisonOperator_GtE_Eq",
                "len(self.connections) >= self.limit_concurrency",
            ),
            (
                "core/ReplaceComparisonOperator_GtE_IsNot",
                "or len(self.tasks) >= self.limit_concurrency",
            ),
        )
    },
    **{
        ("runtime/kfn/_protocol.py", operator, line): (
            "equivalent as a behaviour: the event lane is a shorter way to the same "
            "endpoint; a request the mutant sends through ASGI instead (or an "
            "Expect: 100-continue one it sends through the lane, whose cycle is uvicorn's "
            "and answers the Expect the same) gets the same answer, only slower; "
            "`kfn run` sets no root_path"
        )
        for operator, line in (
            ("core/ReplaceComparisonOperator_IsNot_Is", "events is not None"),
            ("core/ReplaceUnaryOperator_Delete_Not", "and not self.expect_100_continue"),
            ("core/ReplaceUnaryOperator_Delete_Not", "and not self.root_path"),
        )
    },
    (
        "runtime/kfn/_protocol.py",
        "core/ReplaceComparisonOperator_LtE_Lt",
        "if isinstance(connection, HttpProtocol) and 0.0 < connection.deadline <= now:",
    ): (
        "equivalent as a behaviour: a deadline equal to the sweep's `now` to the last bit "
        "of a float is expired one sweep later instead, and every timeout is kept only to "
        "within a sweep interval (a quarter of the shortest timeout) anyway"
    ),
    (
        "runtime/kfn/_protocol.py",
        "core/NumberReplacer",
        "if isinstance(connection, HttpProtocol) and 0.0 < connection.deadline <= now:",
    ): (
        "equivalent when it makes 1.0 of the 0.0: a deadline is the loop's monotonic clock "
        "(seconds since boot) plus a timeout, far above 1.0, and 0.0 means none; both "
        "bounds tell the two apart the same way"
    ),
    (
        "runtime/kfn/_protocol.py",
        "core/ReplaceTrueWithFalse",
        "cycle.disconnected = True  # the app's receive() sees a disconnect, its sends are dropped",
    ): (
        "unobservable from outside: the 408 is already written by the protocol; without "
        "the flag the app's receive() waits until the refused connection stops lingering, "
        "when uvicorn's connection_lost marks the cycle disconnected, and the event's "
        "function never runs either way (its body never came)"
    ),
    (
        "runtime/kfn/_protocol.py",
        "core/ReplaceOrWithAnd",
        "if self._lingering or self.parser is None or self.transport.is_closing():",
    ): (
        "equivalent when it makes `parser is None and is_closing()` of the last `or` (the "
        "other draw, `_lingering and parser is None`, is killed): uvicorn sets `parser` to "
        "None only in connection_lost, when the transport is closed, and nothing the parser "
        "calls back during this feed closes the transport (kfn's refusals linger instead), "
        "so the two halves are true together or not at all"
    ),
    (
        "runtime/kfn/app.py",
        "core/ReplaceComparisonOperator_Eq_LtE",
        'if kind == "http":',
    ): (
        'equivalent: a scope\'s type is one of ASGI\'s three, and of "http", "lifespan" '
        'and "websocket" only "http" sorts at or before "http"'
    ),
    (
        "runtime/kfn/app.py",
        "core/NumberReplacer",
        'await send({"type": "websocket.close", "code": 1008})',
    ): (
        "equivalent: a close sent before the handshake is accepted is answered by uvicorn "
        "with HTTP 403, which carries no close code; the code is for a reader of the line"
    ),
    **{
        (
            "runtime/kfn/_events.py",
            operator,
            "if mode is not codec.Mode.BATCH and len(replies) > 1:",
        ): (
            "equivalent: `replies` is not empty here (an empty one was answered 202 on the "
            "line before), so `!= 1` is `> 1`; and an Enum's members are singletons, so "
            "`!=` is `is not`"
        )
        for operator in (
            "core/ReplaceComparisonOperator_Gt_NotEq",
            "core/ReplaceComparisonOperator_IsNot_NotEq",
        )
    },
    (
        "runtime/kfn/_protocol.py",
        "core/NumberReplacer",
        "self._headers_done += 1",
    ): (
        "equivalent when it makes 2 of the 1: `_headers_done` is only compared with its "
        "value before a feed, to tell whether a head completed during it, and any step up "
        "says so"
    ),
    (
        "runtime/kfn/problems.py",
        "core/ReplaceFalseWithTrue",
        "return json.dumps(document, default=str, allow_nan=False).encode()",
    ): (
        "unobservable: every value of a problem's body goes through `clip`, which turns "
        "a NaN or an infinity into text first, so `allow_nan` never meets one; it stays "
        "as the guarantee that a body is JSON if that ever changes"
    ),
}
"""Survivors that are equivalent or cannot be observed; RESULTS.md lists each with its reason."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=40.0, help="the whole time budget")
    parser.add_argument("--seed", type=int, default=17, help="the order of the sampled mutants")
    parser.add_argument("--output", type=Path, default=ROOT / "mutation" / "RESULTS.md")
    parser.add_argument("--focus-only", action="store_true", help="skip the sampled mutants")
    parser.add_argument("--mutant-seconds", type=float, default=CAP[0], help="one mutant's cap")
    parser.add_argument("--only", default="", help="only the mutants whose place contains this")
    parser.add_argument(
        "--report", action="store_true", help="rewrite RESULTS.md from the last run, not run"
    )
    parser.add_argument("--also", nargs="*", default=[], help="tests every mutant runs first")
    parser.add_argument(
        "--workers", type=int, default=WORKERS[0], help="mutants run at once, each in a tree"
    )
    args = parser.parse_args()
    if args.report:  # the last run again, with the justifications as they are now
        last = json.loads((WORK / "last-run.json").read_text())
        CAP[0] = last.get("cap", args.mutant_seconds)  # runs before the cap was kept: say it
        groups = {g.name: g for g in GROUPS}
        report = [{**entry, "group": groups[entry["group"]]} for entry in last["report"]]
        summary = TestMap(
            {}, dict.fromkeys(map(str, range(last["tests"])), 0.0), last["failed"], 0.0
        )
        summary.minutes, summary.extended = last["map_minutes"], last["extended"]
        write_results(args.output, report, summary, last["seconds"])
        return 0
    started = time.monotonic()
    deadline = started + args.minutes * 60
    CAP[0] = args.mutant_seconds
    WORKERS[0] = max(1, args.workers)
    copy_tree()
    python = venv()
    env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("CI", None)
    env.pop("KFN_MUTATE_TEST", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # a mutant and its original may share an mtime
    listed = {
        group.name: [
            m for m in list_group(python, group, env, args.seed) if args.only in m["where"]
        ]
        for group in GROUPS
    }
    test_map = current_map(python, env)
    load_killed()
    test_map.also = args.also
    runs: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {g.name: [] for g in GROUPS}
    focused = {g.name: [m for m in listed[g.name] if m["focus"]] for g in GROUPS}
    for index, group in enumerate(GROUPS):  # the FOCUS mutants first, in the order of FOCUS
        focus = focused[group.name]
        focus.sort(key=lambda m: FOCUS_ORDER.index(Path(m["module_path"]).stem))
        waiting = sum(len(focused[g.name]) for g in GROUPS[index:]) or 1
        share = (deadline - time.monotonic()) * len(focus) / waiting  # by their numbers
        print(f"mutate: {group.name}: {len(focus)} status/ack mutants", flush=True)
        runs[group.name] += run_mutants(
            python, env, test_map, focus, min(deadline, time.monotonic() + share)
        )
    if not args.focus_only:
        left = max(0.0, deadline - time.monotonic())
        for group in GROUPS:
            rest = [m for m in listed[group.name] if not m["focus"]]
            budget = left * group.share
            print(f"mutate: {group.name}: sampling for {budget / 60:.1f} min", flush=True)
            runs[group.name] += run_mutants(python, env, test_map, rest, time.monotonic() + budget)
    report = [
        {
            "group": g,
            "total": len(listed[g.name]),
            "focus": sum(1 for m in listed[g.name] if m["focus"]),
            "results": runs[g.name],
        }
        for g in GROUPS
    ]
    seconds = time.monotonic() - started
    last = {
        "report": [{**entry, "group": entry["group"].name} for entry in report],
        "tests": len(test_map.seconds),
        "failed": test_map.failed,
        "map_minutes": test_map.minutes,
        "extended": test_map.extended,
        "seconds": seconds,
        "cap": CAP[0],
    }
    (WORK / "last-run.json").write_text(json.dumps(last))
    write_results(args.output, report, test_map, seconds)
    print(f"mutate: results in {args.output}", flush=True)
    return 0


def worker_tree(worker: int) -> Path:
    """Worker 0 mutates .mutate/tree (the venv's editable install); the others a copy each."""
    return TREE if worker == 0 else WORK / f"tree-{worker}"


def worker_python(python: Path, worker: int) -> Path:
    """The python of `worker`'s venv: one whose editable install is that worker's tree.

    The tests start `kfn run` with their own PYTHONPATH, so only the environment the
    interpreter belongs to can say which tree a server imports kfn from. Worker 0 has
    .mutate/venv; the others a copy of it, made once per run, pointing at their tree.
    """
    if worker == 0:
        return python
    venv = WORK / f"venv-{worker}"
    copied = venv / "bin" / "python"
    if copied.exists():
        return copied
    shutil.copytree(VENV, venv, symlinks=True)
    old, new = str(VENV), str(venv)
    for script in (venv / "bin").iterdir():  # console scripts name their interpreter
        if script.is_file() and not script.is_symlink():
            text = script.read_bytes()
            if text.startswith(b"#!") and old.encode() in text.split(b"\n", 1)[0]:
                script.write_bytes(text.replace(old.encode(), new.encode(), 1))
    for pth in venv.glob("lib/python*/site-packages/__editable__.*.pth"):
        pth.write_text(pth.read_text().replace(str(TREE), str(worker_tree(worker))))
    return copied


def copy_tree() -> None:
    """The tracked files (as they are now, edits included) into .mutate/tree and its copies."""
    for old in [TREE, *WORK.glob("tree-*"), *WORK.glob("venv-*")]:
        if old.exists():
            shutil.rmtree(old)
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        path = raw.decode()
        source = ROOT / path
        if source.is_file():
            (TREE / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, TREE / path)
    for worker in range(1, WORKERS[0]):
        shutil.copytree(TREE, worker_tree(worker), symlinks=True)


def venv() -> Path:
    """.mutate/venv with the tree installed editable and cosmic-ray; reused while it fits."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    wanted = (ROOT / "pyproject.toml").read_text() + COSMIC_RAY
    if not (stamp.exists() and stamp.read_text() == wanted):
        print("mutate: setting up .mutate/venv (dev extra and cosmic-ray)...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "-e", f"{TREE}[dev]", COSMIC_RAY], check=True)
        stamp.write_text(wanted)
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    (Path(purelib) / "zz_kfn_mutate_context.pth").write_text(CONTEXT_PTH)
    return python  # the editable install points at the tree, copied afresh each run


def list_group(python: Path, group: Group, env: dict[str, str], seed: int) -> list[dict[str, Any]]:
    """cosmic-ray lists the group's mutants: the FOCUS ones first, then the rest shuffled."""
    slug = group.name.split(",")[0].strip()
    config, session = WORK / f"{slug}.toml", WORK / f"{slug}.sqlite"
    sources = [p for m in group.modules for p in ([TREE / m] if m.endswith(".py") else [])]
    sources += [p for m in group.modules if not m.endswith(".py") for p in (TREE / m).rglob("*.py")]
    focus = json.dumps(sorted((module, sorted(names)) for module, names in FOCUS.items()))
    key = f"{_digest(sources)}:{seed}:{hashlib.sha256(focus.encode()).hexdigest()}"
    saved = WORK / f"{slug}-mutants.json"  # the last listing, while modules and FOCUS stay
    if saved.exists() and json.loads(saved.read_text())["key"] == key:
        return list(json.loads(saved.read_text())["mutants"])
    session.unlink(missing_ok=True)
    modules = ", ".join(json.dumps(m) for m in group.modules)
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = [{modules}]\n"
        "timeout = 60\n"  # unused: run_mutants times each mutant
        "excluded-modules = []\n"
        'test-command = "false"\n\n'
        '[cosmic-ray.distributor]\nname = "local"\n'
    )
    cosmic_ray = str(python.parent / "cosmic-ray")
    subprocess.run([cosmic_ray, "init", str(config), str(session)], cwd=TREE, env=env, check=True)
    listed = subprocess.run(
        [str(python), __file__, "--list", str(session), str(seed)],
        cwd=TREE, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    mutants = [json.loads(line) for line in listed.splitlines()]
    saved.write_text(json.dumps({"key": key, "mutants": mutants}))
    return mutants


@dataclass
class TestMap:
    lines: dict[str, dict[int, set[str]]]
    """Per module and line, the tests (node ids) and test files (their `kfn run`) that reach it."""
    seconds: dict[str, float]
    """Each test's mapped time."""
    failed: list[str]
    """Tests that failed unmutated: left out of every mutant's run (they would kill anything)."""
    minutes: float
    fixtures: dict[str, set[str]] = field(default_factory=dict)
    """Per session- or package-scoped fixture, its tests: what reaches a `fixture:<name>` line."""
    fresh: set[str] = field(default_factory=set)
    """Test files mapped since the last full map (new or changed): the mutants they reach run them first."""
    extended: bool = False
    """Whether the last run's map was extended (only test files changed) rather than made anew."""
    also: list[str] = field(default_factory=list)
    """Tests run first on every mutant (checking new tests against the last run's survivors)."""


def current_map(python: Path, env: dict[str, str]) -> TestMap:
    """The map of the tree: the last one extended when only test files changed, else a new one.

    The last map stays true of every test file that is unchanged as long as the runtime
    and the tests' shared code (conftest.py files, tests/apps, tests/helpers.py...) are
    too: then only the new and changed test files are mapped, and merged in.
    """
    started = time.monotonic()
    hashes = tree_hashes()
    SUPPORT[0] = hashes["support"]
    saved_path = WORK / "map.json"
    saved = json.loads(saved_path.read_text()) if saved_path.exists() else None
    reuse = saved is not None and saved.get("shared") == hashes["shared"]
    changed: list[str] = []
    if reuse:
        old_tests: dict[str, str] = saved["tests"]
        changed = sorted(f for f, h in hashes["tests"].items() if old_tests.get(f) != h)
        gone = {f for f in old_tests if hashes["tests"].get(f) != old_tests[f]}
        print(f"mutate: extending the last map with {len(changed)} test files", flush=True)
        lines = {
            m: {int(n): {c for c in cs if c.split("::")[0] not in gone} for n, cs in by.items()}
            for m, by in saved["lines"].items()
        }
        seconds = {k: v for k, v in saved["seconds"].items() if k.split("::")[0] not in gone}
        failed = [k for k in saved["failed"] if k.split("::")[0] not in gone]
        fixtures = {
            name: {t for t in tests if t.split("::")[0] not in gone}
            for name, tests in saved.get("fixtures", {}).items()
        }
        if changed:
            new_lines, new_seconds, new_failed, new_fixtures = map_tests(python, env, changed)
            for name, tests in new_fixtures.items():
                fixtures.setdefault(name, set()).update(tests)
            for module, by_line in new_lines.items():
                for line, contexts in by_line.items():
                    lines.setdefault(module, {}).setdefault(line, set()).update(contexts)
            seconds.update(new_seconds)
            failed += new_failed
    else:
        lines, seconds, failed, fixtures = map_tests(python, env, list(MAPPED))
    stored = {m: {n: sorted(c) for n, c in by.items()} for m, by in lines.items()}
    users = {name: sorted(tests) for name, tests in fixtures.items()}
    saved_path.write_text(
        json.dumps(
            {"lines": stored, "seconds": seconds, "failed": failed, "fixtures": users, **hashes}
        )
    )
    if failed:
        print(f"mutate: {len(failed)} tests fail unmutated; left out", flush=True)
    minutes = (time.monotonic() - started) / 60
    fresh = set(saved.get("fresh", [])) if reuse and saved is not None else set()
    fresh |= set(changed) if reuse else set()
    saved_path.write_text(
        json.dumps({**json.loads(saved_path.read_text()), "fresh": sorted(fresh)})
    )
    return TestMap(lines, seconds, failed, minutes, fixtures, fresh=fresh, extended=reuse)


def _digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(TREE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def tree_hashes() -> dict[str, Any]:
    """What a map depends on: the runtime and the tests' shared code (`shared`), each test file."""
    tests: dict[str, str] = {}
    for entry in MAPPED:
        root = TREE / entry
        for path in [root] if root.is_file() else sorted(root.rglob("test_*.py")):
            tests[str(path.relative_to(TREE))] = _digest([path])
    support = [p for p in (TREE / "tests").rglob("*.py") if not p.name.startswith("test_")]
    support += [TREE / "pyproject.toml", TREE / "mutation" / "contexts.py"]
    runtime = _digest(list((TREE / "runtime").rglob("*.py")))
    return {"shared": f"{runtime}:{_digest(support)}", "support": _digest(support), "tests": tests}


def map_tests(
    python: Path, env: dict[str, str], paths: list[str]
) -> tuple[dict[str, dict[int, set[str]]], dict[str, float], list[str], dict[str, set[str]]]:
    """Run `paths` once under coverage: who reaches each line, each test's time, which failed,
    and the tests of each shared fixture."""
    data_file = WORK / "map.coverage"
    times = WORK / "map-times.json"
    for old in [*WORK.glob("map.coverage*"), times]:
        old.unlink(missing_ok=True)
    print(f"mutate: mapping lines to tests ({len(paths)} paths)...", flush=True)
    coverage = [str(python), "-m", "coverage"]
    run = [*coverage, "run", f"--data-file={data_file}", "-m", "pytest", "-q"]
    run += ["-p", "no:cacheprovider", "-p", "mutation.contexts", *paths]
    with (WORK / "map.log").open("w") as log:
        subprocess.run(
            run, cwd=TREE, env={**env, "KFN_MUTATE_TIMES": str(times)}, check=False,
            stdout=log, stderr=log,
        )  # fmt: skip
    if not times.exists():
        sys.exit(f"mutate: the map's test run did not finish; see {WORK / 'map.log'}")
    recorded = json.loads(times.read_text())
    subprocess.run([*coverage, "combine", "--quiet", f"--data-file={data_file}"], cwd=TREE,
                   env=env, check=False)  # fmt: skip
    script = (
        "import json, sys\n"
        "from coverage import CoverageData\n"
        "data = CoverageData(basename=sys.argv[1]); data.read()\n"
        "print(json.dumps({f: data.contexts_by_lineno(f) for f in data.measured_files()}))\n"
    )
    out = subprocess.run([str(python), "-c", script, str(data_file)], cwd=TREE, env=env,
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    lines: dict[str, dict[int, set[str]]] = {}
    for filename, by_line in json.loads(out).items():
        module = os.path.relpath(filename, TREE)
        lines[module] = {int(line): set(contexts) for line, contexts in by_line.items()}
    fixtures = {name: set(tests) for name, tests in recorded.get("fixtures", {}).items()}
    return lines, recorded["seconds"], recorded["failed"], fixtures


def selection(test_map: TestMap, mutant: dict[str, Any]) -> tuple[list[str], float]:
    """The tests to run on `mutant` and their mapped seconds; [] if none reaches it.

    First the tests that killed other mutants of its function (a neighbour's killer
    usually kills it too), then the fastest.

    A line run while its module is imported (context ""), at module level or the `def`
    line of a function, whose defaults are evaluated then, may matter to any test:
    every mapped test is then selected, as for a line only processes started without
    the test's environment ran. Otherwise those unnamed runs are left out when a
    named test reaches the line too.
    """
    lines = test_map.lines.get(mutant["module_path"], {})
    contexts: set[str] = set()
    for line in range(mutant["start"][0], mutant["end"][0] + 1):
        contexts |= lines.get(line, set())
    labelled = contexts - {"", UNLABELLED}
    if "" in contexts or (contexts and not labelled):  # run while importing (a `def` line
        labelled = set(test_map.seconds)  # with its defaults), or only by unnamed processes
    shared = {c for c in labelled if c.startswith("fixture:")}  # a server of several files
    contexts = labelled - shared
    for context in shared:
        contexts |= test_map.fixtures.get(context.removeprefix("fixture:"), set())
    files = {c for c in contexts if "::" not in c}
    units: dict[str, float] = {f: 0.0 for f in files}
    for nodeid, seconds in test_map.seconds.items():
        if nodeid.split("::")[0] in files:
            units[nodeid.split("::")[0]] += seconds
    for nodeid in contexts - files:
        if nodeid.split("::")[0] not in files:
            units[nodeid] = test_map.seconds.get(nodeid, 1.0)
    for nodeid in test_map.failed:
        units.pop(nodeid, None)
    fresh = test_map.fresh  # written since the last map: likely for the last run's survivors
    killers = KILLERS.get((mutant["module_path"], mutant["function"]), Counter())
    by_file = Counter[str]()
    for nodeid, kills in killers.items():
        by_file[nodeid.split("::")[0]] += kills

    def rank(unit: str) -> tuple[int, bool, float, str]:
        kills = killers[unit] if "::" in unit else by_file[unit]
        return (-kills, unit.split("::")[0] not in fresh, units[unit], unit)

    ordered = sorted(units, key=rank)  # who killed its neighbours, then fastest
    if ordered and test_map.also:
        ordered = [*test_map.also, *(u for u in ordered if u not in test_map.also)]
    return ordered, sum(units.values())


def run_mutants(
    python: Path,
    env: dict[str, str],
    test_map: TestMap,
    mutants: list[dict[str, Any]],
    deadline: float | None,
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each mutant alone against the tests that reach it (until `deadline`, if there is one).

    WORKERS threads take the mutants in order, each running its mutant in its own tree;
    the results come back in the mutants' order.
    """
    results: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    queue = iter(enumerate(mutants))
    lock = threading.Lock()

    def work(worker: int) -> None:
        while True:
            with lock:
                if deadline is not None and time.monotonic() > deadline:
                    return
                index, mutant = next(queue, (-1, {}))
            if index < 0:
                return
            result = run_mutant(python, env, test_map, mutant, worker)
            with lock:
                results[index] = (mutant, result)
                record(mutant, result)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(WORKERS[0])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [results[index] for index in sorted(results)]


def run_mutant(
    python: Path, env: dict[str, str], test_map: TestMap, mutant: dict[str, Any], worker: int
) -> dict[str, Any]:
    """One mutant in `worker`'s tree: remembered, unreached, or run against its tests."""
    tree = worker_tree(worker)
    path = tree / mutant["module_path"]
    _ORIGINALS.setdefault(mutant["module_path"], path.read_text())  # restored after each
    remembered = KILLED.get(_cache_key(mutant))
    if remembered is not None and remembered["test"] == _test_digest(remembered["killer"]):
        result = {"outcome": "killed", "cached": True, "seconds": 0.0, "expected": 0.0}
        return {**result, "killer": remembered["killer"]}
    units, expected = selection(test_map, mutant)
    if not units and compiles(python, mutant, worker):  # nothing can kill the mutant
        return {
            "outcome": "survived",
            "unreached": True,
            "seconds": 0.0,
            "diff": "(no mapped test reaches this line)",
        }
    if not units:
        return {"outcome": "killed", "killer": NOT_COMPILED, "seconds": 0.0, "units": 0}
    hung = SLACK + SLOWDOWN * expected
    timeout = min(hung, CAP[0])
    failed = [arg for nodeid in test_map.failed for arg in ("--deselect", nodeid)]
    python = worker_python(python, worker)
    command = [str(python), *PYTEST, *failed, *units]
    argv = [str(python), __file__, "--one", json.dumps(mutant), json.dumps(command)]
    began = time.monotonic()
    worker_env = {**env, "PATH": f"{python.parent}{os.pathsep}{env.get('PATH', '')}"}
    process = subprocess.Popen(
        argv, cwd=tree, env=worker_env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        out, _ = process.communicate(timeout=timeout)
        result = json.loads(out) if out.strip() else {"outcome": "error"}
    except subprocess.TimeoutExpired:  # it hung: killed, with the servers it started
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        result = {"outcome": "timeout" if timeout == hung else "undecided"}
    if _group_alive(process.pid):  # a server its tests left running
        os.killpg(process.pid, signal.SIGKILL)
    restore(mutant, tree)
    result["seconds"] = round(time.monotonic() - began, 1)
    result["expected"] = round(expected, 1)
    result["units"] = len(units)
    return result


def compiles(python: Path, mutant: dict[str, Any], worker: int) -> bool:
    """Whether the mutated module compiles (a mutant on a line with no code may not)."""
    argv = [str(worker_python(python, worker)), __file__, "--one", json.dumps(mutant), "[]"]
    out = subprocess.run(
        argv, cwd=worker_tree(worker), capture_output=True, text=True, check=False
    ).stdout
    restore(mutant, worker_tree(worker))
    return not (out.strip() and json.loads(out)["outcome"] == "killed")


def record(mutant: dict[str, Any], result: dict[str, Any]) -> None:
    """A mutant's outcome: remembered if killed, logged, learnt from, and printed."""
    if result.get("cached"):
        _learn(mutant, result["killer"])
        return
    if result.get("unreached"):
        print(f"mutate: {mutant['where']} survived (unreached)", flush=True)
        return
    if result["outcome"] == "killed" and result.get("killer"):
        KILLED[_cache_key(mutant)] = {
            "killer": result["killer"],
            "test": _test_digest(result["killer"]),
        }
        (WORK / "killed.json").write_text(json.dumps(KILLED))
        _learn(mutant, result["killer"])
    with (WORK / "results.jsonl").open("a") as log:
        log.write(json.dumps([mutant, result]) + "\n")
    print(
        f"mutate: {mutant['where']} {result['outcome']} in {result['seconds']}s"
        f" ({result['units']} units) {result.get('killer') or ''}",
        flush=True,
    )


KILLERS: dict[tuple[str, str | None], Counter[str]] = {}
"""Per module and function, the tests that killed its mutants: the next mutant there tries them first."""


def _learn(mutant: dict[str, Any], killer: str) -> None:
    if killer == NOT_COMPILED:
        return
    KILLERS.setdefault((mutant["module_path"], mutant["function"]), Counter())[killer] += 1


KILLED: dict[str, dict[str, str]] = {}
"""Mutants killed in earlier runs: cache key -> the killing test and its file's digest."""


def load_killed() -> None:
    path = WORK / "killed.json"
    if path.exists():
        KILLED.update(json.loads(path.read_text()))


def _cache_key(mutant: dict[str, Any]) -> str:
    """A mutant, as long as its module's text is what it is now."""
    text = hashlib.sha256(_ORIGINALS[mutant["module_path"]].encode()).hexdigest()
    return f"{mutant['module_path']}|{text}|{mutant['operator']}|{mutant['occurrence']}"


def _test_digest(nodeid: str) -> str:
    """The killing test's file and the tests' shared code: a kill is remembered while both stay."""
    path = TREE / nodeid.split("::")[0]
    return f"{_digest([path])}:{SUPPORT[0]}" if path.is_file() else ""


SUPPORT = [""]


def _group_alive(pgid: int) -> bool:
    """Whether a process of the mutant's process group still runs."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


_ORIGINALS: dict[str, str] = {}


def restore(mutant: dict[str, Any], tree: Path) -> None:
    """A killed worker cannot put the file back: every mutant starts from the original."""
    path = tree / mutant["module_path"]
    original = _ORIGINALS[mutant["module_path"]]
    if path.read_text() != original:
        path.write_text(original)


# -- run by the venv's python (it needs cosmic_ray) ---------------------------------------


def list_mutants(session: str, seed: int) -> None:
    """One JSON line per mutant: the focus ones first, in file order, then the rest shuffled."""
    from cosmic_ray.work_db import WorkDB, use_db

    with use_db(session, WorkDB.Mode.open) as db:
        items = list(db.work_items)
    focus, rest = [], []
    spans: dict[str, tuple[list[Span], list[Span]]] = {}
    for item in items:
        (spec,) = item.mutations
        module = str(spec.module_path)
        if module not in spans:
            source = Path(module).read_text()
            postponed = "from __future__ import annotations" in source
            skipped = annotation_spans(source) if postponed else []
            spans[module] = (skipped, table_spans(source, FOCUS.get(module, set())))
        start = tuple(spec.start_pos)
        annotations, tables = spans[module]
        if any(low <= start < high for low, high in annotations):
            continue  # an annotation is never evaluated: its mutants are equivalent
        mutant = {
            "module_path": module,
            "operator": spec.operator_name,
            "occurrence": spec.occurrence,
            "function": spec.definition_name,
            "where": f"{module}:{spec.start_pos[0]}",
            "start": list(spec.start_pos),
            "end": list(spec.end_pos),
        }
        in_focus = spec.definition_name in FOCUS.get(module, ()) or any(
            low <= start < high for low, high in tables
        )
        (focus if in_focus else rest).append(mutant)
    focus, rest = one_per_site(focus, seed), one_per_site(rest, seed)
    random.Random(seed).shuffle(rest)
    for mutant in focus:
        print(json.dumps({**mutant, "focus": True}))
    for mutant in rest:
        print(json.dumps({**mutant, "focus": False}))


Span = tuple[tuple[int, int], tuple[int, int]]


def one_per_site(mutants: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """One mutant per place and kind of change, picked at random (seeded), in file order.

    cosmic-ray writes every alternative of an operator (`<` as `<=`, `>`, `==`, `is`...);
    they mostly fall to the same tests, and one each keeps a run's length in bounds.
    """
    sites: dict[tuple[str, tuple[int, ...], str], list[dict[str, Any]]] = {}
    for mutant in mutants:
        kind = mutant["operator"]
        if re.match(r"core/Replace(Comparison|Binary|Unary)Operator_", kind):
            kind = kind.rsplit("_", 1)[0]
        key = (mutant["module_path"], tuple(mutant["start"]), kind)
        sites.setdefault(key, []).append(mutant)
    chooser = random.Random(seed)
    return [chooser.choice(alternatives) for alternatives in sites.values()]


def annotation_spans(source: str) -> list[Span]:
    """(line, column) ranges of every type annotation in a module."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        found: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            found.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
        for annotation in filter(None, found):
            end = (annotation.end_lineno or annotation.lineno, annotation.end_col_offset or 0)
            spans.append(((annotation.lineno, annotation.col_offset), end))
    return spans


def table_spans(source: str, names: set[str]) -> list[Span]:
    """(line, column) ranges of the module-level assignments to `names` (status tables) and classes."""
    spans = []
    for node in ast.parse(source).body:
        targets = (
            node.targets if isinstance(node, ast.Assign)
            else [node.target] if isinstance(node, ast.AnnAssign) else []
        )  # fmt: skip
        named = isinstance(node, ast.ClassDef) and node.name in names
        if named or any(isinstance(t, ast.Name) and t.id in names for t in targets):
            end = (node.end_lineno or node.lineno, node.end_col_offset or 0)
            spans.append(((node.lineno, node.col_offset), end))
    return spans


NOT_COMPILED = "(the mutated module does not compile)"


def run_one(mutant: dict[str, Any], command: list[str]) -> None:
    """Apply one mutant, run the tests, put the file back; print the outcome as JSON.

    pytest's exit code decides: 0 the mutant survived, 1 a test failed (killed), 2 or 3
    the tests could not run with it (killed: the mutant broke an import). 4 and 5 (bad
    arguments, nothing collected) mean the selection is wrong, not the mutant: an error.
    """
    import cosmic_ray.plugins
    from cosmic_ray.mutating import use_mutation

    operator = cosmic_ray.plugins.get_operator(mutant["operator"])()
    path = Path(mutant["module_path"])
    with use_mutation(path, operator, mutant["occurrence"]) as (original, mutated):
        if mutated is None:
            print(json.dumps({"outcome": "error", "why": "cosmic-ray made no mutation"}))
            return
        try:  # `*,` in a signature made `&,`: the module cannot even be imported
            compile(mutated, str(path), "exec")
        except SyntaxError:
            print(json.dumps({"outcome": "killed", "killer": NOT_COMPILED}))
            return
        if not command:  # only whether it compiles: no test reaches its line
            print(json.dumps({"outcome": "survived"}))
            return
        ran = subprocess.run(command, capture_output=True, text=True, check=False)
    diff = "\n".join(
        difflib.unified_diff(
            original.split("\n"), mutated.split("\n"), f"a/{path}", f"b/{path}", lineterm=""
        )
    )
    outcome = {0: "survived", 1: "killed", 2: "killed", 3: "killed"}.get(ran.returncode, "error")
    killer = next(  # the summary's "FAILED tests/x.py::test - ...", not a captured log line
        (
            line.split()[1]
            for line in ran.stdout.splitlines()
            if line.startswith(("FAILED ", "ERROR "))
            and ("::" in line.split()[1] or line.split()[1].endswith(".py"))
        ),
        None,
    )
    why = None if outcome != "error" else f"pytest exit {ran.returncode}: {ran.stdout[-400:]}"
    print(json.dumps({"outcome": outcome, "diff": diff, "killer": killer, "why": why}))


# -- the report ---------------------------------------------------------------------------


def justification(mutant: dict[str, Any]) -> str | None:
    """The recorded reason a survivor cannot be observed, if it has one."""
    path = TREE / mutant["module_path"]
    text = path.read_text().splitlines()[mutant["start"][0] - 1].strip()
    return JUSTIFIED.get((mutant["module_path"], mutant["operator"], text))


def write_results(
    output: Path, report: list[dict[str, Any]], test_map: TestMap, seconds: float
) -> None:
    lines = [
        "# Mutation testing",
        "",
        "Written by `make mutate` (mutation/run.py, cosmic-ray): per group of modules, the",
        "share of mutants the tests kill, every mutant that survived with its diff, and the",
        "survivors no test can observe, each with the reason. Mutants of the status-code and",
        "acknowledgement paths all run first; the others in a fixed random order until the",
        "time is up. A mutant runs the tests that reach its lines (fastest first, up to the",
        "first failure); one that runs past a few times their unmutated time is killed by",
        "timeout (it hung).",
        "",
        "A mutant killed in an earlier run is remembered (not run again) while its module's",
        "text, the killing test's file and the tests' shared code (conftest.py files,",
        "tests/apps, helpers) are unchanged; every survivor runs again. The map is extended",
        "(only new or changed test files mapped) while the runtime and that shared code are",
        "unchanged. Each mutated place and kind of change (say `<` in one comparison) gets",
        "one of cosmic-ray's alternatives, picked at random with a fixed seed.",
        "",
        f"This run: {seconds / 60:.1f} min, of which {test_map.minutes:.1f} min the map "
        f"({len(test_map.seconds)} tests; {'extended' if test_map.extended else 'made anew'}).",
        "",
    ]
    if not any(not m["focus"] for entry in report for m, _ in entry["results"]):
        lines += ["No other mutant was sampled: this run tried the status/ack mutants only.", ""]
    if test_map.failed:
        lines += ["Tests that failed unmutated (left out of every mutant's run):", ""]
        lines += [f"- `{nodeid}`" for nodeid in test_map.failed] + [""]
    survivors: list[str] = []
    justified: list[str] = []
    timeouts: list[str] = []
    errors: list[str] = []
    undecided: list[str] = []
    for entry in report:
        group: Group = entry["group"]
        counts: dict[str, Counter[str]] = {"focus": Counter(), "other": Counter()}
        spent = 0.0
        for mutant, result in entry["results"]:
            kind = "focus" if mutant["focus"] else "other"
            outcome = result["outcome"]
            spent += result.get("seconds", 0.0)
            title = f"{mutant['where']} in `{mutant['function']}` ({mutant['operator']})"
            reason = justification(mutant) if outcome in ("survived", "undecided") else None
            if outcome == "survived":
                if reason is not None:
                    counts[kind]["justified"] += 1
                    justified.append(f"- {title}: {reason}")
                    continue
                counts[kind]["survived"] += 1
                mark = " (status/ack path)" if mutant["focus"] else ""
                survivors.append(
                    f"### {title}{mark}\n\n```diff\n{str(result.get('diff') or '').strip()}\n```\n"
                )
            elif outcome == "undecided" and reason is not None:
                counts[kind]["justified"] += 1  # not killed within the cap, as justified
                justified.append(
                    f"- {title}: {reason} (its tests ran {result['seconds']} s unfailed, to the cap)"
                )
            elif outcome == "undecided":
                counts[kind]["undecided"] += 1
                mark = " (status/ack path)" if mutant["focus"] else ""
                undecided.append(f"- {title}{mark}: its tests ran {result['seconds']} s unfailed")
            elif outcome == "error":
                counts[kind]["error"] += 1
                errors.append(f"- {title}: {result.get('why')}")
            else:
                counts[kind]["killed"] += 1
                counts[kind]["remembered"] += 1 if result.get("cached") else 0
                if outcome == "timeout":
                    counts[kind]["timeout"] += 1
                    timeouts.append(
                        f"- {title}: past {SLACK:g} s + {SLOWDOWN:g} x {result['expected']} s"
                    )
        run = sum(c["killed"] + c["survived"] + c["justified"] for c in counts.values())
        killed = sum(c["killed"] for c in counts.values())
        score = f"{100 * killed / run:.1f}%" if run else "n/a"
        focus = counts["focus"]
        focus_run = focus["killed"] + focus["survived"] + focus["justified"]
        lines.append(
            f"- **{group.name}**: {score} killed ({killed} of {run} run, of "
            f"{entry['total']} mutants, {spent / 60:.1f} min); status-code and "
            f"acknowledgement paths: {focus['killed']} of {focus_run} killed "
            f"({focus['timeout']} by timeout, {focus['remembered']} remembered), "
            f"{focus['justified']} justified, "
            f"{focus['survived']} surviving, {focus['undecided']} undecided (cap), "
            f"{entry['focus'] - focus_run - focus['error'] - focus['undecided']} not run (time)"
        )
    lines += ["", "## Surviving mutants", ""]
    lines += survivors or ["None."]
    lines += ["", "## Survivors no test can observe (justified in mutation/run.py)", ""]
    lines += justified or ["None."]
    lines += ["", f"## Not killed within the cap of {CAP[0]:g} s per mutant (undecided)", ""]
    lines += undecided or ["None."]
    lines += ["", "## Killed by timeout (the mutant hung its tests)", ""]
    lines += timeouts or ["None."]
    if errors:
        lines += ["", "## Not run (the mutant could not be applied or its tests selected)", ""]
        lines += errors
    output.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--list":
        list_mutants(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 4 and sys.argv[1] == "--one":
        run_one(json.loads(sys.argv[2]), json.loads(sys.argv[3]))
    else:
        sys.exit(main())
