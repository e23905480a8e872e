"""The headline chart: each target's measured ratio against its bound, met or missed."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def draw(results: dict[str, Any], path: Path) -> bool:
    """Write the PNG; False (and no file) when nothing was measured or matplotlib is absent."""
    verdicts = [v for v in results.get("targets", []) if v["ratio"] is not None]
    if not verdicts:
        return False
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    labels = [v["title"] for v in verdicts][::-1]
    ratios = [v["ratio"] for v in verdicts][::-1]
    bounds = [v["bound"] for v in verdicts][::-1]
    colors = ["#2e7d32" if v["met"] else "#c62828" for v in verdicts][::-1]
    figure, axes = plt.subplots(figsize=(10, 0.55 * len(verdicts) + 1.6))
    rows = range(len(labels))
    # Bars grow from 1.0 (parity) to the ratio, so above and below parity read at a glance.
    axes.barh(rows, [r - 1.0 for r in ratios], left=1.0, color=colors, height=0.6)
    for row, bound, ratio in zip(rows, bounds, ratios, strict=True):
        axes.plot([bound, bound], [row - 0.42, row + 0.42], color="black", linewidth=2)
        # The label sits beyond both the bar's end and the target tick, on the bar's side.
        if ratio >= 1.0:
            axes.text(max(ratio, bound) * 1.04, row, f"{ratio:.2f}x", va="center", fontsize=9)
        else:
            axes.text(min(ratio, bound) / 1.04, row, f"{ratio:.2f}x", va="center", ha="right",
                      fontsize=9)  # fmt: skip
    axes.set_yticks(list(rows), labels, fontsize=9)
    axes.set_xscale("log")
    axes.axvline(1.0, color="grey", linewidth=0.8, linestyle=":")
    axes.set_xlabel("kfn ÷ anchor (log scale); black tick = target; green met, red missed")
    meta = results["meta"]
    title = f"kfn ÷ floor and anchors, one run, {meta['date']}"
    if meta["quick"]:
        title += "\n(--quick: not a measurement)"
    axes.set_title(title, fontsize=10)
    axes.set_xlim(min([*ratios, *bounds]) * 0.6, max([*ratios, *bounds]) * 1.6)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True
