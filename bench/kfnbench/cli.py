"""`python3 bench/run.py [options]`: measure, then write RESULTS.md, RESULTS.json, RESULTS.png."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kfnbench import (
    bootstrap,
    chart,
    coldstart,
    curves,
    dispatch,
    instructions,
    meta,
    profile,
    quiet,
    report,
    server_instructions,
    servers,
    throughput,
)
from kfnbench.paths import APPS, BENCH, KFN_APP, WORK
from kfnbench.servers import ServerError
from kfnbench.systems import SYSTEMS
from kfnbench.targets import evaluate
from kfnbench.workloads import WORKLOADS

FULL = {
    "seconds": 3.0,
    "warmup": 1.0,
    "repetitions": 3,
    "connections": [32, 1],
    "cold_runs": 11,
    "curve_seconds": 2.0,
    "curve_warmup": 1.0,
    "curve_repetitions": 1,
    "instruction_events": 500,
    "instruction_warmup": 200,
    "dispatch_rounds": 7,
}
QUICK = {
    "seconds": 1.0,
    "warmup": 0.0,
    "repetitions": 1,
    "connections": [32],
    "cold_runs": 1,
    "curve_seconds": 1.0,
    "curve_warmup": 0.0,
    "curve_repetitions": 1,
    "instruction_events": 20,
    "instruction_warmup": 10,
    "dispatch_rounds": 1,
}
TUNABLE = (
    "seconds",
    "warmup",
    "repetitions",
    "cold_runs",
    "curve_seconds",
    "curve_warmup",
    "curve_repetitions",
    "instruction_events",
    "instruction_warmup",
    "dispatch_rounds",
)
PROFILED = ("floor", "kfn", "kfn-async")
PROFILE_SECONDS = 10.0


def _names(raw: str | None, known: dict[str, Any], what: str) -> list[str]:
    if not raw:
        return list(known)
    names = [part.strip() for part in raw.split(",") if part.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)} (known: {', '.join(known)})")
    return [n for n in known if n in names]  # canonical order


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 bench/run.py",
        description="kfn against the floor, bare FastAPI, func-python and functions-framework: "
        "throughput, latency, cold start, memory, as ratios from one run.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny configuration: one short run per system (the test uses it)",
    )
    parser.add_argument("--systems", help=f"comma-separated subset of {', '.join(SYSTEMS)}")
    parser.add_argument("--workloads", help=f"comma-separated subset of {', '.join(WORKLOADS)}")
    parser.add_argument("--connections", help="comma-separated connection counts (default 32,1)")
    parser.add_argument("--seconds", type=float, help="seconds per measured load run")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up per system and workload")
    parser.add_argument("--repetitions", type=int, help="repetitions of the throughput matrix")
    parser.add_argument("--cold-runs", type=int, help="timed cold starts per app")
    parser.add_argument("--no-cold", action="store_true", help="skip cold start, RSS, imports")
    parser.add_argument("--no-throughput", action="store_true", help="skip the load runs")
    parser.add_argument(
        "--curves",
        help=f"comma-separated scaling curves ({', '.join(curves.CURVES)}), or 'none'",
    )
    parser.add_argument("--curve-seconds", type=float, help="seconds per point of a curve")
    parser.add_argument("--curve-warmup", type=float, help="seconds of warm-up per point")
    parser.add_argument("--curve-repetitions", type=int, help="runs per point (median kept)")
    parser.add_argument(
        "--instructions",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="instructions per event under callgrind (default: on when valgrind is installed, "
        "off in --quick)",
    )
    parser.add_argument("--instruction-events", type=int, help="events counted per system")
    parser.add_argument("--instruction-warmup", type=int, help="events before counting starts")
    parser.add_argument(
        "--dispatch",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run bench/dispatch_micro.py at 10 and 1,000 functions (default: on)",
    )
    parser.add_argument(
        "--dispatch-rounds", type=int, help="rounds of the dispatch micro-benchmark"
    )
    parser.add_argument(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="py-spy profiles of floor/kfn under load (default: on, off in --quick)",
    )
    parser.add_argument(
        "--attempts",
        type=int,
        help=f"tries of a measurement that other work disturbed (default {quiet.ATTEMPTS})",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        help="seconds to wait for a quiet machine before a measurement "
        f"(default {quiet.QUIET_WAIT_SECONDS:g})",
    )
    parser.add_argument(
        "--python-load",
        action="store_true",
        help="use the built-in load generator even when wrk is available",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=BENCH,
        help="directory for RESULTS.md/.json/.png (default: bench/)",
    )
    parser.add_argument(
        "--render",
        action="store_true",
        help="only re-render RESULTS.md and the chart from RESULTS.json",
    )
    return parser.parse_args(argv)


def _cpus() -> tuple[int | None, int | None]:
    """Server and load CPUs; the harness itself moves to the load CPU, off the server's."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return None, None
    server, loader = available[0], available[1]
    os.sched_setaffinity(0, {loader})
    return server, loader


def _load_generator(args: argparse.Namespace, load_runs: bool) -> tuple[str | None, dict[str, str]]:
    if args.python_load:
        return None, {"tool": "python", "version": "", "note": "requested with --python-load"}
    if not load_runs:
        return None, {"tool": "none", "version": "", "note": "no load runs (--no-throughput)"}
    wrk, note = bootstrap.ensure_wrk()
    if wrk:
        return wrk, {"tool": "wrk", "version": meta.wrk_version(wrk), "note": note}
    print(f"[kfnbench] {note}; falling back to the built-in Python load generator", flush=True)
    return None, {"tool": "python", "version": "", "note": note}


def write(results: dict[str, Any], output: Path) -> Path:
    """RESULTS.json, RESULTS.png and RESULTS.md (keeping a hand-written analysis)."""
    output.mkdir(parents=True, exist_ok=True)
    results["targets"] = evaluate(results)
    (output / "RESULTS.json").write_text(json.dumps(results, indent=2) + "\n")
    has_chart = chart.draw(results, output / "RESULTS.png")
    markdown = output / "RESULTS.md"
    text = report.render(
        results, report.kept_analysis(markdown), "RESULTS.png" if has_chart else None
    )
    markdown.write_text(text)
    return markdown


def measure(args: argparse.Namespace) -> dict[str, Any]:
    config: dict[str, Any] = {**(QUICK if args.quick else FULL)}
    for key in TUNABLE:
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    if args.attempts is not None:
        quiet.ATTEMPTS = max(1, args.attempts)
    if args.quiet_wait is not None:
        quiet.QUIET_WAIT_SECONDS = max(0.0, args.quiet_wait)
    config.update(attempts=quiet.ATTEMPTS, quiet_wait_s=quiet.QUIET_WAIT_SECONDS)
    if args.connections:
        config["connections"] = [int(c) for c in args.connections.split(",")]
    systems = _names(args.systems, SYSTEMS, "systems")
    workloads = _names(args.workloads, WORKLOADS, "workloads")
    if any(SYSTEMS[name].venv != SYSTEMS["floor"].venv for name in systems):
        bootstrap.ensure_ff_venv()
    servers.precompile(APPS, KFN_APP / "functions")
    server_cpu, load_cpu = _cpus()
    wrk, loadgen = _load_generator(args, not args.no_throughput)
    config.update(poll_ms=coldstart.POLL_SECONDS * 1000, settle_s=coldstart.SETTLE_SECONDS)
    results: dict[str, Any] = {
        "meta": {
            "date": meta.now(),
            "quick": args.quick,
            "machine": meta.machine(),
            "git": meta.git(),
            "versions": meta.versions(systems),
            "load_generator": loadgen,
            "config": config,
            "pinning": {"server_cpu": server_cpu, "load_cpu": load_cpu},
        }
    }
    work = WORK / "run"
    if not args.no_throughput:
        print("[kfnbench] throughput and latency", flush=True)
        plan = throughput.Plan(
            systems,
            workloads,
            config["connections"],
            config["repetitions"],
            config["seconds"],
            config["warmup"],
            wrk,
            server_cpu,
            load_cpu,
            work,
            quiet=not args.quick,
        )
        results["throughput"] = [cell.as_dict() for cell in throughput.run(plan)]
    if not args.no_cold:
        print("[kfnbench] cold start, idle RSS and import time", flush=True)
        results["meta"]["interpreter_ms"] = coldstart.interpreter_ms(
            max(3, config["cold_runs"]), server_cpu
        )
        colds = coldstart.measure(
            systems, config["cold_runs"], work, (server_cpu, load_cpu), careful=not args.quick
        )
        results["coldstart"] = [cold.as_dict() for cold in colds]
        results["imports"] = [
            p.as_dict() for p in coldstart.import_profiles(systems, work, server_cpu)
        ]
    chosen_curves = _curves(args.curves)
    if chosen_curves:
        print("[kfnbench] scaling curves", flush=True)
        settings = curves.Settings(
            config["curve_seconds"],
            config["curve_warmup"],
            config["curve_repetitions"],
            wrk,
            server_cpu,
            load_cpu,
            work,
            args.quick,
        )
        results["curves"] = [point.as_dict() for point in curves.run(settings, chosen_curves)]
    count_instructions = args.instructions if args.instructions is not None else not args.quick
    if count_instructions:
        missing = instructions.available()
        if missing:
            results["meta"]["instructions_note"] = f"not counted: {missing}"
            print(f"[kfnbench] instructions per event {results['meta']['instructions_note']}")
        else:
            print("[kfnbench] instructions per event (callgrind)", flush=True)
            counts = instructions.measure(
                systems,
                config["instruction_events"],
                config["instruction_warmup"],
                work,
                server_cpu,
            )
            results["instructions"] = [c.as_dict() for c in counts]
            print("[kfnbench] instructions per event, whole server (callgrind)", flush=True)
            whole = server_instructions.measure(
                systems,
                config["instruction_events"],
                config["instruction_warmup"],
                work,
                server_cpu,
            )
            results["server_instructions"] = [c.as_dict() for c in whole]
    if args.dispatch:
        print("[kfnbench] dispatch micro-benchmark (bench/dispatch_micro.py)", flush=True)
        results["dispatch"] = dispatch.measure(config["dispatch_rounds"], server_cpu)
    run_profiles = args.profile if args.profile is not None else not args.quick
    if run_profiles and wrk and "event-binary" in workloads:
        print("[kfnbench] profiles (py-spy)", flush=True)
        results["profiles"] = [
            profile.profile(
                name, "event-binary", PROFILE_SECONDS, wrk, (server_cpu, load_cpu), work
            ).as_dict()
            for name in PROFILED
            if name in systems
        ]
    return results


def _curves(raw: str | None) -> list[str]:
    if raw is not None and raw.strip() == "none":
        return []
    return _names(raw, curves.CURVES, "curves")


@contextlib.contextmanager
def _exclusive(wanted: bool) -> Iterator[None]:
    """Full runs one at a time: two would measure each other. Quick runs never wait."""
    if not wanted:
        yield
        return
    WORK.mkdir(parents=True, exist_ok=True)
    with open(WORK / "run.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("[kfnbench] another full run is measuring; waiting for it", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _exit_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM unwinds like an error, so every server's `finally` stops it."""
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = parse(argv)
    output: Path = args.output.resolve()
    if args.render:
        results = json.loads((output / "RESULTS.json").read_text())
    else:
        try:
            with _exclusive(not args.quick):
                results = measure(args)
        except (ServerError, bootstrap.BootstrapError, instructions.InstructionsError) as error:
            print(f"[kfnbench] failed: {error}", file=sys.stderr)
            return 1
    markdown = write(results, output)
    print("\n".join(["[kfnbench] targets:", *report.headline(results)]))
    print(f"[kfnbench] wrote {markdown} (+ RESULTS.json, RESULTS.png)")
    return 0
