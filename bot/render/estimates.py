"""Text for the calculator's results (cost and fit), for the terminal and Discord alike.

The text uses Discord's light markdown (bold, code spans), which reads fine in a terminal;
names from the catalog or the user are escaped so they show literally and never ping anyone.
"""

from __future__ import annotations

from bot.core.catalog import Hardware
from bot.core.costs import GB, GIB, USABLE_FRACTION, CostEstimate, FitResult

_MD = str.maketrans({c: "\\" + c for c in "\\*_~`|>[]#"})
MAX_CHARS = 1800
ASSUMPTIONS_HINT = " Full list with `--json`."


def safe(text: str) -> str:
    """Text that Discord shows literally: markdown escaped, no mentions."""
    return str(text).translate(_MD).replace("@", "@\u200b")


def size(n: float) -> str:
    """A byte count as "4.92 GB (4.58 GiB)"."""
    return f"{n / GB:.2f} GB ({n / GIB:.2f} GiB)"


def _money_str(value: float) -> str:
    return f"${value:.2f}" if value >= 0.995 else f"${value:.3g}"


def rate(value: float) -> str:
    """A tokens/s figure with sensible precision: 121, 8.4, 0.83."""
    return f"{value:,.0f}" if value >= 10 else f"{value:.2g}" if value < 1 else f"{value:.1f}"


def _clip(text: str, limit: int = MAX_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 2].rsplit("\n", 1)[0] + "\n…"


def format_cost(est: CostEstimate, *, full: bool = False) -> str:
    """Compact human text for one estimate (Discord-safe, at most 1,800 characters).

    Args:
        est: an estimate from `estimate_cost`.
        full: list every assumption (the CLI) instead of the first one and
            ASSUMPTIONS_HINT (Discord, which adds the rest itself); no length cap then.
    """
    m = est.model
    seqs = f" x {est.parallel} parallel sequences" if est.parallel > 1 else ""
    state = f" + recurrent state {size(est.state_bytes)}" if est.state_bytes else ""
    lines = [
        f"**{safe(m.name)}** `{est.quant.id}`, {est.context:,} tokens of context{seqs}, "
        f"KV cache `{est.kv_type}`",
        f"Weights {size(est.weights_bytes)} + KV cache {size(est.kv_cache_bytes)}{state} + "
        f"overhead {size(est.overhead_bytes)} = **{size(est.total_bytes)}**",
    ]
    hw = est.hardware
    if hw is not None and est.usable_bytes is not None:
        count = f"{est.gpus} x " if est.gpus > 1 else ""
        where = (f"{count}{safe(hw.name)} ({count}{hw.memory_gb:g} GiB, "
                 f"{est.usable_bytes / GIB:.1f} GiB usable)")
        if est.fits:
            free = (est.usable_bytes - est.total_bytes) / GIB
            lines.append(f"Fits on {where}, {free:.1f} GiB to spare.")
        elif est.offloaded and est.runnable:
            lines.append(
                f"Does not fit on {where}: {est.gpu_layers} of {m.layers} layers on the GPU, "
                "the rest in system memory (slower)."
            )
        else:
            lines.append(f"Does not fit on {where}.")
        if est.tokens_per_second is not None and est.tokens_per_second_range:
            low, high = est.tokens_per_second_range
            lines.append(
                f"Decode about **{rate(est.tokens_per_second)} tokens/s** "
                f"(range {rate(low)} to {rate(high)}); prompt processing not estimated."
            )
    money = []
    if est.usd_per_hour is not None:
        money.append(f"{_money_str(est.usd_per_hour)}/hour ({est.cost_basis})")
    if est.usd_per_million_tokens is not None:
        money.append(f"{_money_str(est.usd_per_million_tokens)} per 1M output tokens")
    if est.joules_per_token is not None and est.wh_per_million_tokens is not None:
        money.append(
            f"{est.joules_per_token:.2f} J/token, {est.wh_per_million_tokens:,.0f} Wh per 1M tokens"
        )
    if money:
        lines.append("; ".join(money) + ".")
    if est.break_even_million_tokens_per_month is not None:
        be = est.break_even_million_tokens_per_month
        text = (
            f"Break-even against ${est.api_usd_per_mtok:g} per 1M API tokens: "
            f"{be:,.1f}M tokens a month"
        )
        if est.break_even_reachable is False:
            text += " (more than one stream at this speed can produce; the API is cheaper)"
        lines.append(text + ".")
    if hw is None:
        lines.append("Add a hardware name for fit, speed and cost.")
    if full:
        lines.append("Assumptions:")
        lines.extend(f"- {safe(item)}" for item in est.assumptions)
        return "\n".join(lines)
    # The Discord cog strips ASSUMPTIONS_HINT and adds the other assumptions as small print.
    lines.append(f"Assumptions: {safe(est.assumptions[0])}{ASSUMPTIONS_HINT}")
    return _clip("\n".join(lines))


def format_fit(
    hardware: Hardware, results: list[FitResult], *, limit: int | None = MAX_CHARS
) -> str:
    """Compact human text for `fit` (Discord-safe, at most `limit` characters).

    Args:
        hardware: the machine the results were computed for.
        results: `fit_models` output, best first.
        limit: the longest text; rows that do not fit are counted instead. None lists all.
    """
    usable = hardware.memory_gb * USABLE_FRACTION.get(hardware.kind, 0.95)
    context = results[0].estimate.context if results else None
    head = (
        f"**{safe(hardware.name)}** ({hardware.memory_gb:g} GiB, {usable:.1f} GiB usable, "
        f"{hardware.bandwidth_gbps:g} GB/s)"
    )
    if not results:
        return f"{head}: no catalog model fits at this context."
    lines = [f"{head}, {context:,} tokens of context: {len(results)} models fit, best first."]
    skipped = "Models whose maximum context is shorter are left out."
    tail = (
        "Speeds are decode estimates (about -33% to +50%, wider above 100 tokens/s); "
        "prompt processing not estimated."
    )
    cap = limit if limit is not None else 10**9
    budget = cap - len(tail) - len(skipped) - len(lines[0]) - 40
    for index, res in enumerate(results, 1):
        tps = f"~{rate(res.tokens_per_second)} tokens/s" if res.tokens_per_second else "speed n/a"
        line = (
            f"{index}. {safe(res.model.name)} `{res.quant.id}`: {res.total_bytes / GIB:.1f} GiB, "
            f"{tps}"
        )
        if budget - len(line) - 1 < 0:
            lines.append(f"…and {len(results) - index + 1} more.")
            break
        budget -= len(line) + 1
        lines.append(line)
    lines.append(tail + " " + skipped)
    text = "\n".join(lines)
    return _clip(text, limit) if limit is not None else text
