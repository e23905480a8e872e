"""RESULTS.md from the raw results: tables of values, each with its ratios to the references.

The markdown is rendered from the JSON alone (`--render` redoes it without measuring).
A hand-written analysis between the ANALYSIS markers of an existing RESULTS.md is kept
across re-runs, since a run cannot write its own explanation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from kfnbench.curves import CURVES
from kfnbench.systems import COLD_GROUPS, FLOOR, SUBJECT, SYSTEMS
from kfnbench.targets import TARGETS, value
from kfnbench.workloads import WORKLOADS

BEGIN = "<!-- analysis:begin -->"
END = "<!-- analysis:end -->"
NO_ANALYSIS = "_No analysis has been written for this run._"
REFERENCES = [name for name, system in SYSTEMS.items() if system.reference]
SHORT = {"functions-framework": "ff"}


def _short(name: str) -> str:
    return SHORT.get(name, name)


def kept_analysis(path: Path) -> str:
    if not path.exists():
        return NO_ANALYSIS
    match = re.search(re.escape(BEGIN) + r"\n(.*?)\n?" + re.escape(END), path.read_text(), re.S)
    return match.group(1).strip() if match and match.group(1).strip() else NO_ANALYSIS


def _ratios(mine: float | None, others: list[float | None]) -> str:
    if mine is None:
        return "-"
    return " · ".join(f"{mine / other:.2f}" if other else "-" for other in others)


def _table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _systems(results: dict[str, Any]) -> list[str]:
    present = {cell["system"] for cell in results.get("throughput", [])}
    present |= {cold["system"] for cold in results.get("coldstart", [])}
    return [name for name in SYSTEMS if name in present]


def _ref_header() -> str:
    return " · ".join(_short(r) for r in REFERENCES)


def _setup(results: dict[str, Any]) -> list[str]:
    meta = results["meta"]
    m, config, loadgen = meta["machine"], meta["config"], meta["load_generator"]
    pin = meta["pinning"]
    pinning = (
        f"server on CPU {pin['server_cpu']}, load generator on CPU {pin['load_cpu']}"
        if pin["server_cpu"] is not None
        else "none (fewer than 2 CPUs available): numbers are noisier"
    )
    rows = [
        ["date", meta["date"]],
        ["machine", f"{m['cpu']}, {m['cpus']} CPUs, {m['memory']}, {m['os']}, Linux {m['kernel']}"],
        ["python", m["python"]],
        [
            "kfn",
            f"commit {meta['git']['commit']}"
            + (" + uncommitted changes" if meta["git"]["dirty"] else "")
            + f" (runtime/ and functions/ snapshot {meta['git'].get('snapshot', '?')}); "
            "Knative's K_SERVICE set, so `kfn run` runs as in the container on Knative",
        ],
        [
            "load generator",
            f"{loadgen['tool']} {loadgen['version']}".strip() + f" — {loadgen['note']}",
        ],
        ["pinning", pinning],
        [
            "throughput runs",
            f"{config['repetitions']} repetitions x {config['seconds']:g} s (after a "
            f"{config['warmup']:g} s warm-up), connections {', '.join(map(str, config['connections']))}; "
            "systems interleaved, order rotated per repetition; medians shown",
        ],
        [
            "cold start",
            f"median of {config['cold_runs']} runs per app, fork to first 2xx, polled every "
            f"{config['poll_ms']:g} ms; python -c pass in bench/.venv: {meta.get('interpreter_ms', 0):.1f} ms",
        ],
    ]
    if "attempts" in config:
        rows.append(
            [
                "other work",
                f"a measurement disturbed by other work (over 5% of a CPU) is tried up to "
                f"{config['attempts']} time(s), after waiting up to {config['quiet_wait_s']:g} s "
                "for a quiet machine; the share is kept per run",
            ]
        )
    if "curve_seconds" in config:
        rows.append(
            [
                "scaling curves",
                f"{config['curve_repetitions']} run(s) of {config['curve_seconds']:g} s per point "
                f"after a {config['curve_warmup']:g} s warm-up, 32 connections unless the axis "
                "is connections",
            ]
        )
    if results.get("instructions"):
        rows.append(
            [
                "instructions",
                f"callgrind, {config['instruction_events']} events counted per system after "
                f"{config['instruction_warmup']} uncounted, in-process and whole server",
            ]
        )
    elif meta.get("instructions_note"):
        rows.append(["instructions", meta["instructions_note"]])
    return ["## Setup", "", *_table(["", ""], rows, "ll"), ""]


def _versions(results: dict[str, Any]) -> list[str]:
    rows = [
        [
            f"**{name}**",
            SYSTEMS[name].description,
            ", ".join(f"{p} {v}" for p, v in results["meta"]["versions"].get(name, {}).items()),
        ]
        for name in _systems(results)
    ]
    return ["## Systems and versions", "", *_table(["system", "what", "versions"], rows, "lll"), ""]


def _targets(results: dict[str, Any], chart: str | None) -> list[str]:
    rows = []
    for verdict in results.get("targets", []):
        if verdict["ratio"] is None:
            rows.append(
                [verdict["title"], "-", f"{verdict['op']} {verdict['bound']:g}", "not measured"]
            )
            continue
        margin = verdict["margin_percent"]
        state = f"met ({margin:+.1f}% spare)" if verdict["met"] else f"**missed by {-margin:.1f}%**"
        rows.append(
            [
                verdict["title"],
                f"{verdict['ratio']:.2f}x",
                f"{verdict['op']} {verdict['bound']:g}x",
                state,
            ]
        )
    lines = ["## Targets (kfn ÷ anchor, same run; kfn-sync ÷ kfn-async for the sync ones)", ""]
    lines += _table(["target", "measured", "target", "verdict"], rows, "lrrl")
    if chart:
        lines += ["", f"![headline ratios]({chart})"]
    return [*lines, ""]


def _throughput(results: dict[str, Any]) -> list[str]:
    lines = [
        "## Throughput and latency",
        "",
        f"Ratios are this system ÷ each reference, in the order {_ref_header()} "
        "(ff = functions-framework). For req/s higher is better; for latency lower is better.",
        "",
    ]
    cells = results.get("throughput", [])
    connections = sorted({c["connections"] for c in cells}, reverse=True)
    for workload in WORKLOADS.values():
        for conns in connections:
            present = [
                c for c in cells if c["workload"] == workload.name and c["connections"] == conns
            ]
            if not present:
                continue
            rows = []
            for name in _systems(results):
                cell = next((c for c in present if c["system"] == name), None)
                if cell is None:
                    continue
                med = cell["median"]
                refs = {
                    m: [value(results, m, (workload.name, conns), r) for r in REFERENCES]
                    for m in ("rps", "p50_ms", "p99_ms")
                }
                label = f"**{name}**" if name == SUBJECT else name
                rows.append(
                    [
                        label
                        + (" ⚠" if cell["errors"] else "")
                        + (" †" if cell.get("disturbed") else ""),
                        f"{med['rps']:,.0f}",
                        _ratios(med["rps"], refs["rps"]),
                        f"{med['p50_ms']:.2f}",
                        _ratios(med["p50_ms"], refs["p50_ms"]),
                        f"{med['p99_ms']:.2f}",
                        _ratios(med["p99_ms"], refs["p99_ms"]),
                    ]
                )
            header = [
                "system",
                "req/s",
                "req/s ratios",
                "p50 ms",
                "p50 ratios",
                "p99 ms",
                "p99 ratios",
            ]
            lines += [f"### {workload.title} — {conns} connection{'s' if conns > 1 else ''}", ""]
            lines += [*_table(header, rows), ""]
    if any(c["errors"] for c in cells):
        lines += ["⚠: some requests failed (non-2xx or socket errors); see RESULTS.json.", ""]
    if any(c.get("disturbed") for c in cells):
        lines += [
            "†: in some repetition other work on the machine took more than 5% of the server "
            "CPU in every attempt; the least disturbed attempt was kept (`other_work` in "
            "RESULTS.json).",
            "",
        ]
    return lines


def _cold(results: dict[str, Any]) -> list[str]:
    colds = results.get("coldstart", [])
    if not colds:
        return []
    lines = [
        "## Cold start and idle memory",
        "",
        "Fork of the server process to its first 2xx; idle RSS (whole process tree) "
        f"{results['meta']['config']['settle_s']:g} s after it. Ratios in the order {_ref_header()}.",
        "",
    ]
    for group, (title, probe) in COLD_GROUPS.items():
        rows = []
        for name in SYSTEMS:
            cold = next((c for c in colds if (c["group"], c["system"]) == (group, name)), None)
            if cold is None:
                continue
            ms, rss = cold["median_ms"], cold["median_rss_mib"]
            ref_ms = [value(results, "cold_ms", group, r) for r in REFERENCES]
            ref_rss = [value(results, "rss_mib", group, r) for r in REFERENCES]
            spread = f"{min(cold['runs_ms']):.0f}-{max(cold['runs_ms']):.0f}"
            label = f"**{name}**" if name == SUBJECT else name
            rows.append(
                [
                    label,
                    cold["server"],
                    f"{ms:.1f}",
                    spread,
                    _ratios(ms, ref_ms),
                    f"{rss:.1f}",
                    _ratios(rss, ref_rss),
                ]
            )
        if rows:
            header = [
                "system",
                "process",
                "cold ms",
                "range",
                "cold ratios",
                "RSS MiB",
                "RSS ratios",
            ]
            lines += [f"### {title} (probe: {probe})", "", *_table(header, rows, "llrrrrr"), ""]
    return lines


def _imports(results: dict[str, Any]) -> list[str]:
    profiles = results.get("imports", [])
    if not profiles:
        return []
    rows = [
        [
            p["system"],
            COLD_GROUPS[p["group"]][0],
            f"{p['total_ms']:.0f}",
            str(p["modules"]),
            ", ".join(f"{t['package']} {t['cumulative_ms']:.0f}" for t in p["top"]),
        ]
        for p in profiles
    ]
    return [
        "## Import time (`-X importtime`, one start each)",
        "",
        "Sum of every module's own import time (inflated by the profiling itself; compare "
        "rows, not with the cold-start table), and the top-level packages by cumulative ms.",
        "",
        *_table(
            ["system", "app", "import ms", "modules", "top packages (cumulative ms)"], rows, "llrrl"
        ),
        "",
    ]


def _profiles(results: dict[str, Any]) -> list[str]:
    profiles = results.get("profiles", [])
    if not profiles:
        return []
    lines = [
        "## Where the CPU goes (py-spy --gil, binary event, 32 connections)",
        "",
        "Samples of the thread holding the GIL, by the library of the innermost Python frame "
        "(C code counts in its Python caller: `uvicorn` includes the socket writes, `asyncio` "
        "the event loop's C internals). The server CPU is saturated, so one event costs "
        "1/throughput of CPU; the share of time Python held the GIL, spread by area, gives "
        "µs of Python per event (the rest is the kernel's network work). Throughput is "
        "lower than in the tables above: the profiler pauses the process to sample it.",
        "",
    ]
    names = sorted({a["name"] for p in profiles for a in p["areas"]})
    per_event = {}
    for p in profiles:
        rps = p["rps_under_profiler"]
        per_event[p["system"]] = (1e6 / rps if rps else 0.0, p.get("python_share", 1.0))
    rows = []
    for area in names:
        row = [area]
        for p in profiles:
            share = next((a["percent"] for a in p["areas"] if a["name"] == area), 0.0)
            total, python = per_event[p["system"]]
            row.append(f"{share:.1f}% · {share / 100 * python * total:.1f} µs")
        rows.append(row)
    rows.sort(key=lambda r: -max(float(c.split("%")[0]) for c in r[1:]))
    rows.append(
        ["**Python µs per event**"]
        + [f"{per_event[p['system']][0] * per_event[p['system']][1]:.1f} µs" for p in profiles]
    )
    rows.append(
        ["**CPU µs per event** (1/throughput)"]
        + [f"{per_event[p['system']][0]:.1f} µs" for p in profiles]
    )
    lines += _table(["area", *(p["system"] for p in profiles)], rows, "l" + "r" * len(profiles))
    for p in profiles:
        if not p["system"].startswith(SUBJECT) or not p["top_inclusive"]:
            continue
        lines += [
            "",
            f"{p['system']}: its own functions by inclusive share of samples ({p['samples']}):",
            "",
        ]
        rows = [[f"`{t['name']}`", f"{t['percent']:.1f}%"] for t in p["top_inclusive"][:12]]
        lines += _table(["function (file)", "inclusive"], rows, "lr")
    return [*lines, ""]


def _instructions(results: dict[str, Any]) -> list[str]:
    counts = results.get("instructions", [])
    if not counts:
        return []
    whole = {c["system"]: c["per_event"] for c in results.get("server_instructions", [])}
    floor = next((c["per_event"] for c in counts if c["system"] == FLOOR), None)
    whole_floor = whole.get(FLOOR)

    def ratio(ours: float | None, base: float | None) -> str:
        return f"{ours / base:.2f}" if ours and base else "-"

    rows = [
        [
            f"**{c['system']}**" if c["system"] == SUBJECT else c["system"],
            f"{c['per_event']:,}",
            ratio(c["per_event"], floor),
            f"{whole[c['system']]:,}" if c["system"] in whole else "-",
            ratio(whole.get(c["system"]), whole_floor),
        ]
        for c in counts
    ]
    header = ["system", "in-process / event", "÷ floor", "whole server / event", "÷ floor"]
    return [
        "## Instructions per event (callgrind, binary event, no reply)",
        "",
        "*In-process:* the app driven with no sockets, one request at a time: the host's, "
        "the app's and the interpreter's instructions per event on the event path (the "
        "server's HTTP parsing is not in it). *Whole server:* the server process as its "
        "users start it, sent the same requests one at a time over one kept-alive loopback "
        "connection: everything it does for a request, uvicorn, httptools, kfn's protocol "
        "and the event loop included (the client is another process, not counted). Both "
        "count work, not time, so they repeat from run to run on a busy machine where "
        "req/s does not; they do not see waiting (a thread hand-off's latency, the GIL) or "
        "the kernel's work.",
        "",
        *_table(header, rows),
        "",
    ]


def _dispatch(results: dict[str, Any]) -> list[str]:
    rows_in = results.get("dispatch", [])
    if not rows_in:
        return []
    base = rows_in[0]["median_us_per_event"]
    reference = all("every_filter_median_us" in r for r in rows_in)
    rows = [
        [
            f"{r['functions']:,}",
            str(r.get("matched", "-")),
            f"{r['median_us_per_event']:.2f}",
            f"{r['median_us_per_event'] / base:.2f}" if base else "-",
            *([f"{r['every_filter_median_us']:.2f}"] if reference else []),
        ]
        for r in rows_in
    ]
    header = ["functions", "matched", "µs / event", f"÷ at {rows_in[0]['functions']:,}"]
    header += ["µs evaluating every filter"] if reference else []
    return [
        "## Dispatch against the number of functions (bench/dispatch_micro.py)",
        "",
        "The functions of one event chosen in an app with mixed filters, "
        "in-process; median µs per event.",
        "",
        *_table(header, rows),
        "",
    ]


def _curves(results: dict[str, Any]) -> list[str]:
    points = results.get("curves", [])
    if not points:
        return []
    lines = [
        "## Scaling curves",
        "",
        "Binary event with no reply, one axis changed at a time (drawn in RESULTS.png). "
        "Each point is one short run: a shape, not a measurement to hold a target to.",
        "",
    ]
    for curve in CURVES.values():
        mine = [p for p in points if p["curve"] == curve.name]
        if not mine:
            continue
        systems = [s for s in SYSTEMS if any(p["system"] == s for p in mine)]
        metric = "events_per_s" if curve.name == "batch" else "rps"
        unit = "events/s" if curve.name == "batch" else "req/s"
        header = [curve.axis]
        for system in systems:
            header += [f"{system} {unit}", f"{system} p99 ms"]
        if len(systems) > 1 and FLOOR in systems:
            header.append(f"{SUBJECT} ÷ floor")
        rows = []
        for x in sorted({p["x"] for p in mine}):
            row = [f"{x:,}"]
            at = {p["system"]: p for p in mine if p["x"] == x}
            for system in systems:
                point = at.get(system)
                row += [f"{point[metric]:,.0f}", f"{point['p99_ms']:.2f}"] if point else ["-", "-"]
            if len(systems) > 1 and FLOOR in systems:
                ours, floor = at.get(SUBJECT), at.get(FLOOR)
                row.append(f"{ours[metric] / floor[metric]:.2f}" if ours and floor else "-")
            rows.append(row)
        lines += [f"### {curve.axis}", "", *_table(header, rows), ""]
    return lines


def render(results: dict[str, Any], analysis: str, chart: str | None) -> str:
    meta = results["meta"]
    lines = ["# kfn benchmark results", ""]
    lines.append(
        f"Generated by `python3 bench/run.py{' --quick' if meta['quick'] else ''}` on "
        f"{meta['date']}; raw numbers in [RESULTS.json](RESULTS.json)."
    )
    if meta["quick"]:
        lines += [
            "",
            "> **Quick mode**: one short run per system, to check the harness "
            "works. These numbers are not measurements.",
        ]
    if meta["load_generator"]["tool"] == "python":
        lines += [
            "",
            "> **Load came from the built-in Python generator, not wrk** "
            f"({meta['load_generator']['note']}); it may saturate before the servers do.",
        ]
    lines.append("")
    lines += _targets(results, chart)
    lines += ["## Analysis", "", BEGIN, analysis, END, ""]
    lines += _setup(results) + _versions(results)
    lines += _throughput(results) + _cold(results) + _instructions(results)
    lines += _dispatch(results) + _curves(results) + _imports(results) + _profiles(results)
    return "\n".join(lines).rstrip() + "\n"


def headline(results: dict[str, Any]) -> list[str]:
    """The targets as short lines for the console."""
    out = []
    for v in results.get("targets", []):
        if v["ratio"] is None:
            out.append(f"  {v['title']}: not measured")
        else:
            state = "met" if v["met"] else f"MISSED by {-v['margin_percent']:.1f}%"
            out.append(
                f"  {v['title']}: {v['ratio']:.2f}x (target {v['op']} {v['bound']:g}) {state}"
            )
    return out


__all__ = ["TARGETS", "headline", "kept_analysis", "render"]
