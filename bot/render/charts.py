"""PNG charts for `cost` and `fit`, drawn with matplotlib on the headless Agg backend.

The CLI writes them with `--chart FILE.png`; the Discord commands attach the same bytes.
"""

from __future__ import annotations

import io
import logging

import matplotlib

matplotlib.use("Agg")  # headless; must happen before pyplot is imported

import matplotlib.pyplot as plt  # noqa: E402

from bot.core.catalog import Hardware  # noqa: E402
from bot.core.costs import GIB, USABLE_FRACTION, CostEstimate, FitResult  # noqa: E402
from bot.render.estimates import rate  # noqa: E402

log = logging.getLogger(__name__)

_COLORS = {"weights": "#4C72B0", "kv": "#DD8452", "state": "#55A868", "overhead": "#8C8C8C"}


def _png(fig: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buffer.getvalue()


def cost_chart_png(est: CostEstimate) -> bytes:
    """The memory breakdown (weights, KV cache, overhead) against the hardware's capacity.

    Args:
        est: an estimate from `estimate_cost`.

    Returns:
        PNG bytes.
    """
    parts = [
        ("weights", est.weights_bytes / GIB, _COLORS["weights"]),
        (f"KV cache ({est.kv_type})", est.kv_cache_bytes / GIB, _COLORS["kv"]),
        ("recurrent state", est.state_bytes / GIB, _COLORS["state"]),
        ("overhead", est.overhead_bytes / GIB, _COLORS["overhead"]),
    ]
    parts = [p for p in parts if p[1] > 0 or p[0] != "recurrent state"]
    fig, ax = plt.subplots(figsize=(8, 2.6))
    left = 0.0
    for label, value, color in parts:
        ax.barh([0], [value], left=left, color=color, label=f"{label}: {value:.2f} GiB")
        left += value
    limit = left
    hw = est.hardware
    if hw is not None:
        capacity = hw.memory_gb * est.gpus
        count = f"{est.gpus} x " if est.gpus > 1 else ""
        ax.axvline(capacity, color="black", linewidth=1.5,
                   label=f"{count}{hw.name}: {capacity:g} GiB")
        if est.usable_bytes is not None:
            usable = est.usable_bytes / GIB
            ax.axvline(
                usable,
                color="black",
                linestyle="--",
                linewidth=1,
                label=f"usable: {usable:.1f} GiB",
            )
        limit = max(limit, capacity)
        verdict = "fits" if est.fits else "does not fit"
    else:
        verdict = "no hardware given"
    ax.set_xlim(0, limit * 1.08)
    ax.set_yticks([])
    ax.set_xlabel("GiB (2^30 bytes)")
    ax.set_title(
        f"{est.model.name} {est.quant.id}, {est.context:,} tokens: "
        f"{est.total_bytes / GIB:.2f} GiB ({verdict})",
        fontsize=10,
    )
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=3, fontsize=8, frameon=False)
    return _png(fig)


def fit_chart_png(hardware: Hardware, results: list[FitResult]) -> bytes:
    """The models that fit, each at its best quantization, against the hardware's memory.

    Args:
        hardware: the machine the results were computed for.
        results: `fit_models` output, best first.

    Returns:
        PNG bytes.
    """
    shown = results[:20]
    height = max(2.5, 0.4 * len(shown) + 1.5)
    fig, ax = plt.subplots(figsize=(8, height))
    usable = hardware.memory_gb * USABLE_FRACTION.get(hardware.kind, 0.95)
    if shown:
        labels = [f"{r.model.name} {r.quant.id}" for r in shown][::-1]
        values = [r.total_bytes / GIB for r in shown][::-1]
        speeds = [r.tokens_per_second for r in shown][::-1]
        bars = ax.barh(labels, values, color=_COLORS["weights"])
        for bar, tps in zip(bars, speeds, strict=True):
            text = f" ~{rate(tps)} tok/s" if tps else ""
            ax.text(
                bar.get_width(), bar.get_y() + bar.get_height() / 2, text, va="center", fontsize=8
            )
    else:
        ax.text(0.5, 0.5, "no catalog model fits", ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    ax.axvline(
        hardware.memory_gb,
        color="black",
        linewidth=1.5,
        label=f"memory: {hardware.memory_gb:g} GiB",
    )
    ax.axvline(
        usable, color="black", linestyle="--", linewidth=1, label=f"usable: {usable:.1f} GiB"
    )
    ax.set_xlim(0, hardware.memory_gb * 1.25)
    ax.set_xlabel("total memory, GiB (2^30 bytes)")
    context = f", {shown[0].estimate.context:,} tokens" if shown else ""
    more = f" (best {len(shown)} of {len(results)})" if len(results) > len(shown) else ""
    ax.set_title(f"Models that fit on {hardware.name}{context}{more}", fontsize=10)
    ax.tick_params(axis="y", labelsize=8)
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig)
