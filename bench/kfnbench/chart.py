"""RESULTS.png: each target's ratio against its bound, beside the scaling curves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kfnbench.curves import CURVES

COLORS = {"floor": "#616161", "kfn": "#1565c0", "kfn-async": "#6a1b9a", "kfn-sync": "#ef6c00"}


def _ratios(axes: Any, verdicts: list[dict[str, Any]]) -> None:
    labels = [v["title"] for v in verdicts][::-1]
    ratios = [v["ratio"] for v in verdicts][::-1]
    bounds = [v["bound"] for v in verdicts][::-1]
    colors = ["#2e7d32" if v["met"] else "#c62828" for v in verdicts][::-1]
    rows = range(len(labels))
    # Bars grow from 1.0 (parity) to the ratio, so above and below parity read at a glance.
    axes.barh(rows, [r - 1.0 for r in ratios], left=1.0, color=colors, height=0.6)
    for row, bound, ratio in zip(rows, bounds, ratios, strict=True):
        axes.plot([bound, bound], [row - 0.42, row + 0.42], color="black", linewidth=2)
        # The label sits beyond both the bar's end and the target tick, on the bar's side.
        if ratio >= 1.0:
            axes.text(max(ratio, bound) * 1.04, row, f"{ratio:.2f}x", va="center", fontsize=8)
        else:
            axes.text(min(ratio, bound) / 1.04, row, f"{ratio:.2f}x", va="center", ha="right",
                      fontsize=8)  # fmt: skip
    axes.set_yticks(list(rows), labels, fontsize=8)
    axes.set_xscale("log")
    axes.axvline(1.0, color="grey", linewidth=0.8, linestyle=":")
    axes.set_xlabel("ratio (log scale); black tick = target; green met, red missed", fontsize=8)
    axes.set_xlim(min([*ratios, *bounds]) * 0.5, max([*ratios, *bounds]) * 1.8)


def _curve(axes: Any, name: str, points: list[dict[str, Any]]) -> None:
    curve = CURVES[name]
    metric = "events_per_s" if name == "batch" else "rps"
    latency = axes.twinx()
    for system in sorted({p["system"] for p in points}):
        mine = sorted((p for p in points if p["system"] == system), key=lambda p: p["x"])
        xs = [p["x"] for p in mine]
        color = COLORS.get(system, "#00838f")
        axes.plot(xs, [p[metric] for p in mine], marker="o", color=color, label=system)
        latency.plot(xs, [p["p99_ms"] for p in mine], marker="x", linestyle="--", color=color)
    axes.set_xscale("log")
    axes.set_yscale("log")
    latency.set_yscale("log")
    axes.set_xlabel(curve.axis, fontsize=8)
    axes.set_ylabel(f"{'events' if name == 'batch' else 'req'}/s (solid)", fontsize=8)
    latency.set_ylabel("p99 ms (dashed)", fontsize=8)
    axes.tick_params(labelsize=7)
    latency.tick_params(labelsize=7)
    axes.legend(fontsize=7, loc="lower left")
    axes.set_title(name, fontsize=9)


def draw(results: dict[str, Any], path: Path) -> bool:
    """Write the PNG; False (and no file) when nothing was measured or matplotlib is absent."""
    verdicts = [v for v in results.get("targets", []) if v["ratio"] is not None]
    points = results.get("curves", [])
    names = [name for name in CURVES if any(p["curve"] == name for p in points)]
    if not verdicts and not names:
        return False
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    height = max(0.42 * len(verdicts) + 1.8, 7.0 if names else 0.0)
    figure = plt.figure(figsize=(17 if names else 10, height))
    grid = figure.add_gridspec(2, 3 if names else 1, width_ratios=[1.5, 1, 1] if names else [1])
    if verdicts:
        _ratios(figure.add_subplot(grid[:, 0]), verdicts)
    for index, name in enumerate(names[:4]):
        axes = figure.add_subplot(grid[index // 2, 1 + index % 2])
        _curve(axes, name, [p for p in points if p["curve"] == name])
    meta = results["meta"]
    title = f"kfn ÷ floor and anchors, and how req/s and p99 scale; one run, {meta['date']}"
    if meta["quick"]:
        title += " (--quick: not a measurement)"
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True
