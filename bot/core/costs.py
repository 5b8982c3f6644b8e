"""Memory, fit, speed, money and energy for running an open model: a pure calculator.

Every number comes from these formulas and the catalogs, never from a language model. Bytes
are used internally; output labels GB (10^9 bytes) and GiB (2^30 bytes) explicitly.

Formulas (each one is also listed in `CostEstimate.assumptions`):

- **Weights** = the published GGUF file size when the catalog has it for that quantization
  (decimal GB x 10^9), else parameters x effective bits per weight / 8 bytes (the effective
  bits from llama.cpp's quantize README, not the nominal 4 or 8).
- **KV cache** = 2 (K and V) x layers x kv_heads x head_dim x context x bytes per element,
  with f16 = 2, q8_0 = 34/32 and q4_0 = 18/32 bytes (llama.cpp block sizes). Layers that use
  a sliding window hold min(context, window) tokens. Llama-3.1-8B at 8,192 tokens in f16 is
  exactly 1,024 MiB, as llama.cpp logs it.
- **Overhead** = a runtime allowance of 0.5 GB (CUDA context, buffers; the figure llmfit and
  CanIRunThisLLM use) + a compute buffer by Ollama's graph formula for llama-type models,
  4 x n_ubatch x (1 + 4 x embd + context x (1 + heads)) with n_ubatch = 512 and
  embd = heads x head_dim. That formula gives 560 MiB for Llama-3.1-8B at 8,192 tokens, which
  is what llama.cpp logs without flash attention. llama.cpp enables flash attention by default
  since PR #15434 (2025), which needs less, so at long contexts this is an upper bound.
  (Sources: /work/shared/research/costs-and-security.md A6, A7.)
- **Fit**: total <= usable memory. A GPU keeps a 5 % safety margin (display, driver,
  fragmentation); Apple unified memory lets the GPU use about 75 % by default; a CPU box
  leaves 15 % for the operating system. Memory sizes are read as binary units: a "24 GB" card
  holds 24 GiB.
- **Fit list** (`fit`): each model at the first quantization of F16, Q8_0, Q6_K, Q5_K_M,
  Q4_K_M, IQ4_XS, Q3_K_M, Q2_K that fits entirely (the types people download; nothing below
  Q2_K, where quality collapses); about 4-bit or better first, then larger models, then faster.
- **Partial offload** (GPU only): layers that fit after the overhead stay on the GPU, the rest
  go to system memory, assumed to be 64 GiB of dual-channel DDR4-3200 at 51.2 GB/s.
- **Decode speed** = efficiency x bandwidth / bytes read per token, where bytes read = the
  weights of the active parameters (weights x active/total for mixture-of-experts) + the whole
  KV cache at the given context. Efficiency 0.6, range 0.4 to 0.9, with the low end allowed
  down to 0.25 above 100 tokens/s (llama.cpp benchmarks imply
  0.44 to 0.87; small models on very fast GPUs can fall lower). Offloaded layers are read at
  system-memory bandwidth. Prompt processing is compute-bound and not estimated.
- **$/hour** = a price you give, else the catalog's rental price, else the purchase price
  amortized over 3 years running around the clock (26,280 hours) + power_w x $/kWh
  (default $0.15/kWh).
- **$/1M output tokens** = $/hour x 10^6 / (tokens/s x 3,600), exactly.
- **Energy**: J/token = power_w / tokens/s; Wh per 1M tokens = power_w x 10^6 / (tokens/s x 3,600).
- **Break-even** against an API price p ($ per 1M tokens): a machine kept all month
  (730 hours) costs $/hour x 730, so self-hosting pays from $/hour x 730 / p million tokens
  a month, if one stream can produce that many (tokens/s x 3,600 x 730 / 10^6).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from bot.core.catalog import Catalog, Hardware, Model, Quant, normalize
from bot.core.errors import InvalidInput

log = logging.getLogger(__name__)

GB = 1_000_000_000
GIB = 1 << 30
MIB = 1 << 20

# Bytes per KV element as (numerator, denominator), exact: llama.cpp blocks of 32 values.
KV_TYPES: dict[str, tuple[int, int]] = {"f16": (2, 1), "q8_0": (34, 32), "q4_0": (18, 32)}
N_UBATCH = 512
RUNTIME_ALLOWANCE_BYTES = 500_000_000  # 0.5 GB, as llmfit and CanIRunThisLLM assume
USABLE_FRACTION = {"gpu": 0.95, "apple": 0.75, "cpu": 0.85}
SYSTEM_RAM_BANDWIDTH_GBPS = 51.2  # dual-channel DDR4-3200: 2 x 8 bytes x 3,200 MT/s
SYSTEM_RAM_GIB = 64
EFFICIENCY = 0.6
EFFICIENCY_LOW = 0.4
EFFICIENCY_HIGH = 0.9
# Fast small models hit fixed per-token costs (kernel launches, sampling): Llama-2-7B Q4_0 on
# an A100 80 GB measured 136 tokens/s, about 0.26 of the bandwidth bound. Above 100 tokens/s
# the low end of the range may fall to this efficiency (continuous, so still monotone).
EFFICIENCY_FLOOR = 0.25
FAST_TPS = 100.0
LIFE_YEARS = 3
LIFE_HOURS = LIFE_YEARS * 365 * 24  # 26,280 hours, running around the clock
HOURS_PER_MONTH = 730
DEFAULT_USD_PER_KWH = 0.15
# The quantizations people download, best first (llmfit walks a similar ladder). Legacy
# Q4_0/Q4_1/Q5_0/Q5_1 are left out (K-quants of the same size are better), and so is
# everything below Q2_K, where quality collapses.
FIT_LADDER = ("F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "IQ4_XS", "Q3_K_M", "Q2_K")
FIT_MAX_BITS = 16.5  # without any ladder name in the catalog: 3 to 16 bits per weight
FIT_MIN_BITS = 3.0
GOOD_BITS = 4.4  # about 4-bit or better (IQ4_XS 4.46 and up) ranks first in `fit`


@dataclass
class CostEstimate:
    """Everything `cost` reports; `to_dict()` is the CLI's JSON contract."""

    model: Model
    quant: Quant
    context: int
    kv_type: str
    hardware: Hardware | None
    weights_bytes: int
    weights_basis: str
    kv_cache_bytes: int
    compute_buffer_bytes: int
    runtime_bytes: int
    usable_bytes: int | None = None
    fits: bool | None = None
    gpu_layers: int | None = None
    offloaded: bool = False
    runnable: bool | None = None
    tokens_per_second: float | None = None
    tokens_per_second_range: tuple[float, float] | None = None
    usd_per_hour: float | None = None
    cost_basis: str | None = None
    usd_per_kwh: float = DEFAULT_USD_PER_KWH
    usd_per_million_tokens: float | None = None
    joules_per_token: float | None = None
    wh_per_million_tokens: float | None = None
    api_usd_per_mtok: float | None = None
    break_even_million_tokens_per_month: float | None = None
    break_even_reachable: bool | None = None
    assumptions: list[str] = field(default_factory=list)

    @property
    def overhead_bytes(self) -> int:
        """Compute buffer plus runtime allowance."""
        return self.compute_buffer_bytes + self.runtime_bytes

    @property
    def total_bytes(self) -> int:
        """Weights + KV cache + overhead."""
        return self.weights_bytes + self.kv_cache_bytes + self.overhead_bytes

    def to_dict(self) -> dict[str, Any]:
        """The JSON object `modeldesk cost --json` prints; other tools read these keys."""
        tps_range = list(self.tokens_per_second_range) if self.tokens_per_second_range else None
        return {
            "model": self.model.to_dict(),
            "hardware": self.hardware.to_dict() if self.hardware else None,
            "quant": self.quant.id,
            "bits_per_weight": self.quant.bits_per_weight,
            "context": self.context,
            "kv_type": self.kv_type,
            "weights_bytes": self.weights_bytes,
            "weights_basis": self.weights_basis,
            "kv_cache_bytes": self.kv_cache_bytes,
            "compute_buffer_bytes": self.compute_buffer_bytes,
            "overhead_bytes": self.overhead_bytes,
            "total_bytes": self.total_bytes,
            "usable_bytes": self.usable_bytes,
            "fits": self.fits,
            "gpu_layers": self.gpu_layers,
            "offloaded": self.offloaded,
            "tokens_per_second": self.tokens_per_second,
            "tokens_per_second_range": list(tps_range) if tps_range else None,
            "prompt_processing": "not estimated",
            "usd_per_hour": self.usd_per_hour,
            "cost_basis": self.cost_basis,
            "usd_per_kwh": self.usd_per_kwh,
            "usd_per_million_tokens": self.usd_per_million_tokens,
            "joules_per_token": self.joules_per_token,
            "wh_per_million_tokens": self.wh_per_million_tokens,
            "api_usd_per_mtok": self.api_usd_per_mtok,
            "break_even_million_tokens_per_month": self.break_even_million_tokens_per_month,
            "break_even_reachable": self.break_even_reachable,
            "assumptions": list(self.assumptions),
        }


@dataclass
class FitResult:
    """One model that fits, at the best quantization that fits."""

    estimate: CostEstimate

    @property
    def model(self) -> Model:
        return self.estimate.model

    @property
    def quant(self) -> Quant:
        return self.estimate.quant

    @property
    def total_bytes(self) -> int:
        return self.estimate.total_bytes

    @property
    def tokens_per_second(self) -> float | None:
        return self.estimate.tokens_per_second

    def to_dict(self) -> dict[str, Any]:
        """One row of `modeldesk fit --json`."""
        est = self.estimate
        tps_range = est.tokens_per_second_range
        return {
            "model": est.model.id,
            "name": est.model.name,
            "params_b": est.model.params_b,
            "active_params_b": est.model.active_b,
            "quant": est.quant.id,
            "bits_per_weight": est.quant.bits_per_weight,
            "context": est.context,
            "weights_bytes": est.weights_bytes,
            "kv_cache_bytes": est.kv_cache_bytes,
            "overhead_bytes": est.overhead_bytes,
            "total_bytes": est.total_bytes,
            "free_bytes": (est.usable_bytes or 0) - est.total_bytes,
            "tokens_per_second": est.tokens_per_second,
            "tokens_per_second_range": list(tps_range) if tps_range else None,
            "usd_per_million_tokens": est.usd_per_million_tokens,
        }


# --- the pieces -----------------------------------------------------------------------------


def weights_bytes(model: Model, quant: Quant) -> tuple[int, str]:
    """Bytes of the weights and where the figure comes from.

    Returns:
        (bytes, basis): the published GGUF size when the catalog has one for this
        quantization, else parameters x effective bits per weight / 8.
    """
    wanted = normalize(quant.id)
    for name, size_gb in model.gguf_file_gb.items():
        if normalize(name) == wanted:
            return round(size_gb * GB), f"published GGUF file size ({size_gb:g} GB)"
    size = model.params_b * 1e9 * quant.bits_per_weight / 8
    return round(size), (
        f"{model.params_b:g}B parameters x {quant.bits_per_weight:g} bits per weight / 8"
    )


def kv_cache_bytes(model: Model, context: int, kv_type: str = "f16") -> int:
    """KV cache bytes: 2 x layers x kv_heads x head_dim x tokens x bytes per element.

    Sliding-window layers hold min(context, window) tokens. Exact integer arithmetic.
    """
    num, den = KV_TYPES[kv_type]
    window_layers = 0
    if model.sliding_window and model.sliding_window_layers:
        window_layers = min(model.sliding_window_layers, model.layers)
    window = min(context, model.sliding_window or context)
    tokens = (model.layers - window_layers) * context + window_layers * window
    elements = 2 * model.kv_heads * model.head_dim * tokens
    return elements * num // den


def compute_buffer_bytes(model: Model, context: int) -> int:
    """Ollama's llama graph estimate, 4 x n_ubatch x (1 + 4 x embd + context x (1 + heads))."""
    heads = model.attention_heads
    embd = heads * model.head_dim
    return 4 * N_UBATCH * (1 + 4 * embd + context * (1 + heads))


def _check(model: Model, context: int, kv_type: str, money: dict[str, float | None]) -> str:
    if isinstance(context, bool) or not isinstance(context, int) or context <= 0:
        raise InvalidInput(
            f"Context must be a whole number of tokens from 1 to {model.context:,} for "
            f"{model.id}, not {context}."
        )
    if context > model.context:
        raise InvalidInput(
            f"Context {context:,} is beyond {model.id}'s maximum of {model.context:,} tokens; "
            f"use 1 to {model.context:,}."
        )
    kv = str(kv_type).lower()
    if kv not in KV_TYPES:
        raise InvalidInput(f"Unknown KV cache type '{kv_type}'. Accepted: {', '.join(KV_TYPES)}.")
    for flag, value in money.items():
        if value is not None and (value < 0 or not math.isfinite(value)):
            raise InvalidInput(f"{flag} must be zero or more, not {value}.")
    if money.get("--api-usd-per-mtok") == 0:
        raise InvalidInput("--api-usd-per-mtok must be more than zero.")
    return kv


def estimate_cost(
    model: Model | str,
    *,
    quant: Quant | str = "Q4_K_M",
    context: int = 8192,
    hardware: Hardware | str | None = None,
    kv_type: str = "f16",
    usd_per_hour: float | None = None,
    usd_per_kwh: float = DEFAULT_USD_PER_KWH,
    api_usd_per_mtok: float | None = None,
    catalog: Catalog,
) -> CostEstimate:
    """Memory, fit, decode speed, money and energy for one model on (optionally) one machine.

    Args:
        model: a catalog name or a `Model` (e.g. `Model.custom(...)`).
        quant: a llama.cpp quantization name or a `Quant`.
        context: tokens of context to hold in the KV cache.
        hardware: a catalog name, a `Hardware`, or None for memory only.
        kv_type: KV cache element type: f16, q8_0 or q4_0.
        usd_per_hour: your own hourly price; wins over the catalog's.
        usd_per_kwh: electricity price for owned hardware (default $0.15).
        api_usd_per_mtok: an API's price per 1M output tokens, for the break-even volume.
        catalog: the loaded catalogs, used to resolve names.

    Raises:
        InvalidInput: a bad number, an unknown quantization or KV type, a context beyond the
            model's maximum. The message names the accepted values.
        NotFound: an unknown model or hardware name; the message lists the closest ids.
    """
    mdl = catalog.model(model) if isinstance(model, str) else model
    qnt = catalog.quant(quant) if isinstance(quant, str) else quant
    hw = catalog.hardware_named(hardware) if isinstance(hardware, str) else hardware
    money = {
        "--usd-per-hour": usd_per_hour,
        "--usd-per-kwh": usd_per_kwh,
        "--api-usd-per-mtok": api_usd_per_mtok,
    }
    kv = _check(mdl, context, kv_type, money)

    w_bytes, w_basis = weights_bytes(mdl, qnt)
    est = CostEstimate(
        model=mdl,
        quant=qnt,
        context=context,
        kv_type=kv,
        hardware=hw,
        weights_bytes=w_bytes,
        weights_basis=w_basis,
        kv_cache_bytes=kv_cache_bytes(mdl, context, kv),
        compute_buffer_bytes=compute_buffer_bytes(mdl, context),
        runtime_bytes=RUNTIME_ALLOWANCE_BYTES,
        usd_per_kwh=usd_per_kwh,
        api_usd_per_mtok=api_usd_per_mtok,
    )
    est.assumptions = _memory_assumptions(est)
    if hw is not None:
        _place(est, hw)
        _speed(est, hw)
    _money(est, hw, usd_per_hour)
    return est


def _memory_assumptions(est: CostEstimate) -> list[str]:
    m = est.model
    num, den = KV_TYPES[est.kv_type]
    items = [
        f"Weights: {est.weights_basis}.",
        f"KV cache: 2 x {m.layers} layers x {m.kv_heads} KV heads x {m.head_dim} head dim x "
        f"context x {num / den:g} bytes ({est.kv_type}).",
    ]
    if m.sliding_window and m.sliding_window_layers:
        items.append(
            f"{m.sliding_window_layers} sliding-window layers hold at most "
            f"{m.sliding_window:,} tokens each."
        )
    items.append(
        "Overhead: 0.5 GB runtime allowance + compute buffer 4 x 512 x (1 + 4 x embd + "
        "context x (1 + heads)) (Ollama's formula; matches llama.cpp without flash attention, "
        "an upper bound with it)."
    )
    return items


def _place(est: CostEstimate, hw: Hardware) -> None:
    fraction = USABLE_FRACTION.get(hw.kind, 0.95)
    usable = int(hw.memory_gb * GIB * fraction)
    est.usable_bytes = usable
    est.fits = est.total_bytes <= usable
    est.runnable = est.fits
    margin = {
        "gpu": "a 5% safety margin of GPU memory kept free",
        "apple": "about 75% of unified memory usable by the GPU (macOS default)",
        "cpu": "15% of system memory left for the operating system",
    }.get(hw.kind, "a 5% safety margin")
    est.assumptions.append(
        f"Fit: total <= {hw.memory_gb:g} GiB x {fraction:g} ({margin}); memory sizes read as GiB."
    )
    if hw.kind == "gpu":
        est.gpu_layers = est.model.layers
        if not est.fits:
            _offload(est, usable)


def _offload(est: CostEstimate, usable: int) -> None:
    layers = est.model.layers
    per_layer = (est.weights_bytes + est.kv_cache_bytes) / layers
    room = usable - est.overhead_bytes
    on_gpu = max(0, min(layers - 1, int(room // per_layer))) if room > 0 else 0
    in_ram = (layers - on_gpu) * per_layer
    ram_usable = SYSTEM_RAM_GIB * GIB * USABLE_FRACTION["cpu"]
    est.gpu_layers = on_gpu
    est.offloaded = True
    est.runnable = in_ram <= ram_usable
    est.assumptions.append(
        f"Does not fit in GPU memory: {on_gpu} of {layers} layers on the GPU, the rest in "
        f"system memory (assumed {SYSTEM_RAM_GIB} GiB of dual-channel DDR4-3200 at "
        f"{SYSTEM_RAM_BANDWIDTH_GBPS:g} GB/s)."
    )
    if not est.runnable:
        est.assumptions.append(
            f"The offloaded part ({in_ram / GIB:.1f} GiB) exceeds the assumed system memory."
        )


def bytes_read_per_token(est: CostEstimate) -> float:
    """Active weights plus the whole KV cache at the given context."""
    m = est.model
    return est.weights_bytes * (m.active_b / m.params_b) + est.kv_cache_bytes


def _speed(est: CostEstimate, hw: Hardware) -> None:
    if not est.runnable:
        est.assumptions.append("No speed: the model does not fit.")
        return
    read = bytes_read_per_token(est)
    m = est.model
    gpu_share = (est.gpu_layers / m.layers) if est.offloaded and est.gpu_layers is not None else 1
    seconds_at_full_efficiency = gpu_share * read / (hw.bandwidth_gbps * GB)
    if est.offloaded:
        seconds_at_full_efficiency += (1 - gpu_share) * read / (SYSTEM_RAM_BANDWIDTH_GBPS * GB)
    est.tokens_per_second = EFFICIENCY / seconds_at_full_efficiency
    low = min(
        EFFICIENCY_LOW / seconds_at_full_efficiency,
        max(FAST_TPS, EFFICIENCY_FLOOR / seconds_at_full_efficiency),
    )
    est.tokens_per_second_range = (low, EFFICIENCY_HIGH / seconds_at_full_efficiency)
    moe = (
        f" (mixture-of-experts: {m.active_b:g}B of {m.params_b:g}B parameters read per token)"
        if m.is_moe
        else ""
    )
    est.assumptions.append(
        f"Decode speed: {EFFICIENCY:g} x {hw.bandwidth_gbps:g} GB/s / {read / GB:.2f} GB read "
        f"per token{moe}, range at efficiency {EFFICIENCY_LOW:g} to {EFFICIENCY_HIGH:g} "
        f"(low end down to {EFFICIENCY_FLOOR:g} above {FAST_TPS:g} tokens/s, where fixed "
        "per-token costs weigh more); "
        "single stream, batch 1"
        + (
            f"; the {m.layers - (est.gpu_layers or 0)} offloaded layers are read at "
            f"{SYSTEM_RAM_BANDWIDTH_GBPS:g} GB/s."
            if est.offloaded
            else "."
        )
    )
    est.assumptions.append("Prompt processing (prefill) is compute-bound and not estimated.")


def _money(est: CostEstimate, hw: Hardware | None, usd_per_hour: float | None) -> None:
    power = hw.power_w if hw else None
    electricity = (power / 1000 * est.usd_per_kwh) if power else None
    if usd_per_hour is not None:
        est.usd_per_hour, est.cost_basis = usd_per_hour, "given"
        est.assumptions.append(f"$/hour: ${usd_per_hour:g} as given (electricity included).")
    elif hw and hw.usd_per_hour is not None:
        est.usd_per_hour, est.cost_basis = hw.usd_per_hour, "rental"
        est.assumptions.append(
            f"$/hour: typical rental price ${hw.usd_per_hour:g}"
            + (f" (as of {hw.price_as_of})" if hw.price_as_of else "")
            + ", electricity included."
        )
    elif hw and hw.price_usd is not None:
        amortized = hw.price_usd / LIFE_HOURS
        est.usd_per_hour = amortized + (electricity or 0.0)
        est.cost_basis = "purchase"
        est.assumptions.append(
            f"$/hour: purchase price ${hw.price_usd:,.0f} over {LIFE_YEARS} years running "
            f"around the clock (${amortized:.4f}/h)"
            + (
                f" + {power:g} W x ${est.usd_per_kwh:g}/kWh (${electricity:.4f}/h)"
                if electricity is not None
                else " (power draw unknown, electricity not counted)"
            )
            + "."
        )
    elif electricity is not None:
        est.usd_per_hour, est.cost_basis = electricity, "electricity"
        est.assumptions.append(
            f"$/hour: electricity only, {power:g} W x ${est.usd_per_kwh:g}/kWh (no price known)."
        )
    tps = est.tokens_per_second
    if tps:
        if est.usd_per_hour is not None:
            est.usd_per_million_tokens = est.usd_per_hour * 1e6 / (tps * 3600)
        if power:
            est.joules_per_token = power / tps
            est.wh_per_million_tokens = power * 1e6 / (tps * 3600)
            est.assumptions.append(
                f"Energy: {power:g} W board power drawn the whole time (real draw is often lower)."
            )
    if est.api_usd_per_mtok and est.usd_per_hour is not None:
        monthly = est.usd_per_hour * HOURS_PER_MONTH
        est.break_even_million_tokens_per_month = monthly / est.api_usd_per_mtok
        if tps:
            capacity = tps * 3600 * HOURS_PER_MONTH / 1e6
            est.break_even_reachable = est.break_even_million_tokens_per_month <= capacity
        est.assumptions.append(
            f"Break-even: ${est.usd_per_hour:.4f}/h x {HOURS_PER_MONTH} h a month / "
            f"${est.api_usd_per_mtok:g} per 1M API tokens."
        )


# --- fit ------------------------------------------------------------------------------------


def fit_ladder(catalog: Catalog) -> list[Quant]:
    """The quantizations `fit` tries, most bits first (see FIT_LADDER)."""
    by_key = {normalize(q.id): q for q in catalog.quants}
    ladder = [by_key[normalize(name)] for name in FIT_LADDER if normalize(name) in by_key]
    if not ladder:
        ladder = [q for q in catalog.quants if FIT_MIN_BITS <= q.bits_per_weight <= FIT_MAX_BITS]
    return sorted(ladder, key=lambda q: -q.bits_per_weight)


def fit_models(
    catalog: Catalog, hardware: Hardware | str, *, context: int = 8192
) -> list[FitResult]:
    """Every catalog model that fits entirely in the hardware's memory, best first.

    Each model gets the first quantization of the ladder F16, Q8_0, Q6_K, Q5_K_M, Q4_K_M,
    IQ4_XS, Q3_K_M, Q2_K that fits at `context` tokens; models whose maximum context is
    shorter are skipped. Order: about 4 bits per weight or more (>= 4.4) first, then more
    parameters, then faster.

    Raises:
        InvalidInput: context is not a positive whole number.
        NotFound: unknown hardware name.
    """
    hw = catalog.hardware_named(hardware) if isinstance(hardware, str) else hardware
    if isinstance(context, bool) or not isinstance(context, int) or context <= 0:
        raise InvalidInput(f"Context must be a whole number of tokens, 1 or more, not {context}.")
    ladder = fit_ladder(catalog)
    results: list[FitResult] = []
    for model in catalog.models:
        if model.context < context:
            continue
        for quant in ladder:
            est = estimate_cost(model, quant=quant, context=context, hardware=hw, catalog=catalog)
            if est.fits:
                results.append(FitResult(est))
                break
    results.sort(
        key=lambda r: (
            r.quant.bits_per_weight >= GOOD_BITS,
            r.model.params_b,
            r.tokens_per_second or 0.0,
        ),
        reverse=True,
    )
    return results


# --- text ------------------------------------------------------------------------------------

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
    lines = [
        f"**{safe(m.name)}** `{est.quant.id}`, {est.context:,} tokens of context, "
        f"KV cache `{est.kv_type}`",
        f"Weights {size(est.weights_bytes)} + KV cache {size(est.kv_cache_bytes)} + "
        f"overhead {size(est.overhead_bytes)} = **{size(est.total_bytes)}**",
    ]
    hw = est.hardware
    if hw is not None and est.usable_bytes is not None:
        where = f"{safe(hw.name)} ({hw.memory_gb:g} GiB, {est.usable_bytes / GIB:.1f} GiB usable)"
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
