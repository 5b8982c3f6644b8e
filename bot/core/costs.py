"""Memory, fit, speed, money and energy for running an open model: a pure calculator.

Every number comes from these formulas and the catalogs, never from a language model. Bytes
are used internally; output labels GB (10^9 bytes) and GiB (2^30 bytes) explicitly.

Formulas (each one is also listed in `CostEstimate.assumptions`):

- **Weights** = the published GGUF file size when the catalog has it for that quantization
  (decimal GB x 10^9), else parameters x effective bits per weight / 8 bytes (the effective
  bits from llama.cpp's quantize README, not the nominal 4 or 8).
- **KV cache**, per layer kind (the catalog's `attention` list), times `parallel` sequences:
  full attention 2 (K and V) x kv_heads x head_dim x context; sliding-window and chunked
  layers the same over min(context, window or chunk) tokens; multi-head latent attention
  (DeepSeek V3, Kimi K2) one latent of kv_lora_rank + rope_dim values per token; all x bytes
  per element, f16 = 2, q8_0 = 34/32 and q4_0 = 18/32 (llama.cpp block sizes). Llama-3.1-8B
  at 8,192 tokens in f16 is exactly 1,024 MiB, as llama.cpp logs it; DeepSeek V3 at 163,840
  tokens is 10,980 MiB.
- **Recurrent state** (Gated DeltaNet and Mamba-2 layers of hybrid models): fixed per
  sequence, d_state x d_inner + (conv_kernel - 1) x (d_inner + 2 x n_groups x d_state) f32
  values per layer, as llama.cpp's `llama_memory_recurrent` sizes it; it does not grow with
  the context and the KV cache type does not apply to it.
- **Overhead** = a runtime allowance of 0.5 GB (CUDA context, buffers; the figure llmfit and
  CanIRunThisLLM use) + a compute buffer by Ollama's graph formula for llama-type models,
  4 x n_ubatch x (1 + 4 x embd + context x (1 + heads)) with n_ubatch = 512 and
  embd = heads x head_dim. That formula gives 560 MiB for Llama-3.1-8B at 8,192 tokens, which
  is what llama.cpp logs without flash attention. llama.cpp enables flash attention by default
  since PR #15434 (2025), which needs less, so at long contexts this is an upper bound.
  (Sources: https://github.com/ollama/ollama/blob/main/fs/ggml/ggml.go GraphSize;
  https://github.com/ggml-org/llama.cpp/pull/15434.)
- **Fit**: total <= usable memory. A GPU keeps a 5 % safety margin (display, driver,
  fragmentation); Apple unified memory lets the GPU use about 75 % by default; a CPU box
  leaves 15 % for the operating system. Memory sizes are read as binary units: a "24 GB" card
  holds 24 GiB.
- **Fit list** (`fit`): each model at the first quantization of F16, Q8_0, Q6_K, Q5_K_M,
  Q4_K_M, IQ4_XS, Q3_K_M, Q2_K that fits entirely (the types people download; nothing below
  Q2_K, where quality collapses); about 4-bit or better first, then larger models, then faster.
- **Several GPUs** (`gpus`): a layer split over identical GPUs; memory adds up, each GPU
  carries its own runtime allowance, and decode speed stays bounded by one GPU's bandwidth
  (the GPUs work one after another on each token).
- **Partial offload** (GPU only): layers that fit after the overhead stay on the GPU, the rest
  go to system memory (`ram_gb`, default 64 GiB) of dual-channel DDR4-3200 at 51.2 GB/s.
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

from bot.core.catalog import Catalog, Hardware, Model, Quant, normalize
from bot.core.cost_types import (
    DEFAULT_USD_PER_KWH,
    GB,
    GIB,
    KV_TYPES,
    MIB,
    SYSTEM_RAM_GIB,
    CostEstimate,
    FitResult,
    layer_summary,
)
from bot.core.errors import InvalidInput
from bot.core.money import HOURS_PER_MONTH, LIFE_HOURS, add_money

log = logging.getLogger(__name__)


# Bytes per KV element as (numerator, denominator), exact: llama.cpp blocks of 32 values.
N_UBATCH = 512
RUNTIME_ALLOWANCE_BYTES = 500_000_000  # 0.5 GB, as llmfit and CanIRunThisLLM assume
USABLE_FRACTION = {"gpu": 0.95, "apple": 0.75, "cpu": 0.85}
SYSTEM_RAM_BANDWIDTH_GBPS = 51.2  # dual-channel DDR4-3200: 2 x 8 bytes x 3,200 MT/s
STATE_BYTES_PER_VALUE = 4  # llama.cpp keeps recurrent states in f32
MAX_PARALLEL = 256
MAX_GPUS = 64
MAX_RAM_GB = 16384
EFFICIENCY = 0.6
EFFICIENCY_LOW = 0.4
EFFICIENCY_HIGH = 0.9
# Fast small models hit fixed per-token costs (kernel launches, sampling): Llama-2-7B Q4_0 on
# an A100 80 GB measured 136 tokens/s, about 0.26 of the bandwidth bound. Above 100 tokens/s
# the low end of the range may fall to this efficiency (continuous, so still monotone).
EFFICIENCY_FLOOR = 0.25
FAST_TPS = 100.0
# The quantizations people download, best first (llmfit walks a similar ladder). Legacy
# Q4_0/Q4_1/Q5_0/Q5_1 are left out (K-quants of the same size are better), and so is
# everything below Q2_K, where quality collapses.
FIT_LADDER = ("F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "IQ4_XS", "Q3_K_M", "Q2_K")
FIT_MAX_BITS = 16.5  # without any ladder name in the catalog: 3 to 16 bits per weight
FIT_MIN_BITS = 3.0
GOOD_BITS = 4.4  # about 4-bit or better (IQ4_XS 4.46 and up) ranks first in `fit`


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


def kv_cache_elements(model: Model, context: int) -> int:
    """KV cache values for one sequence of `context` tokens, summed over the layer kinds."""
    elements = 0
    for g in model.layer_groups:
        kv_heads, head_dim = g.kv_heads or model.kv_heads, g.head_dim or model.head_dim
        if g.kind == "full":
            elements += 2 * g.layers * kv_heads * head_dim * context
        elif g.kind in ("sliding", "chunked"):
            span = min(context, g.window or g.chunk or context)
            elements += 2 * g.layers * kv_heads * head_dim * span
        elif g.kind == "mla":
            elements += g.layers * ((g.kv_lora_rank or 0) + (g.rope_dim or 0)) * context
    return elements


def kv_cache_bytes(model: Model, context: int, kv_type: str = "f16", parallel: int = 1) -> int:
    """KV cache bytes for `parallel` sequences of `context` tokens. Exact integer arithmetic."""
    num, den = KV_TYPES[kv_type]
    return parallel * kv_cache_elements(model, context) * num // den


def state_bytes(model: Model, parallel: int = 1) -> int:
    """Recurrent-state bytes (f32) of the linear-attention and SSM layers, per sequence x N."""
    values = sum(g.layers * g.state_values() for g in model.layer_groups)
    return parallel * values * STATE_BYTES_PER_VALUE


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
    parallel: int = 1,
    gpus: int = 1,
    ram_gb: float | None = None,
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
        parallel: sequences served at once (llama-server slots), each with `context` tokens.
        gpus: identical GPUs the layers are split over (GPU hardware only).
        ram_gb: system memory for offloaded layers, GiB (default 64).
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
    ram = float(SYSTEM_RAM_GIB if ram_gb is None else ram_gb)
    _check_scale(parallel, gpus, ram, hw)

    w_bytes, w_basis = weights_bytes(mdl, qnt)
    est = CostEstimate(
        model=mdl,
        quant=qnt,
        context=context,
        kv_type=kv,
        hardware=hw,
        weights_bytes=w_bytes,
        weights_basis=w_basis,
        kv_cache_bytes=kv_cache_bytes(mdl, context, kv, parallel),
        state_bytes=state_bytes(mdl, parallel),
        compute_buffer_bytes=compute_buffer_bytes(mdl, context),
        runtime_bytes=RUNTIME_ALLOWANCE_BYTES * gpus,
        parallel=parallel,
        gpus=gpus,
        ram_gb=ram,
        usd_per_kwh=usd_per_kwh,
        api_usd_per_mtok=api_usd_per_mtok,
    )
    est.assumptions = _memory_assumptions(est)
    if hw is not None:
        _place(est, hw)
        _speed(est, hw)
    add_money(est, hw, usd_per_hour)
    return est


def _check_scale(parallel: int, gpus: int, ram_gb: float, hw: Hardware | None) -> None:
    for flag, value, top in (("--parallel", parallel, MAX_PARALLEL), ("--gpus", gpus, MAX_GPUS)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise InvalidInput(f"{flag} must be a whole number from 1 to {top}, not {value}.")
    if not math.isfinite(ram_gb) or not 0 < ram_gb <= MAX_RAM_GB:
        raise InvalidInput(f"--ram-gb must be more than 0 and at most {MAX_RAM_GB:,}, "
                           f"not {ram_gb:g}.")
    if gpus > 1 and hw is not None and hw.kind != "gpu":
        raise InvalidInput(f"--gpus applies to GPUs; {hw.name} is not one.")


def _memory_assumptions(est: CostEstimate) -> list[str]:
    m = est.model
    items = [
        f"Weights: {est.weights_basis}.",
        f"KV cache: {layer_summary(m, est.kv_type)}"
        + (f", x {est.parallel} parallel sequences (llama-server -np {est.parallel} with "
           f"-c {est.parallel * est.context:,})" if est.parallel > 1 else "") + ".",
    ]
    if est.state_bytes:
        items.append(
            f"Recurrent state: {est.state_bytes / MIB:,.1f} MiB in f32 for "
            f"{est.parallel} sequence(s), fixed whatever the context; the KV cache type does "
            "not apply to it.")
    items.append(
        "Overhead: 0.5 GB runtime allowance + compute buffer 4 x 512 x (1 + 4 x embd + "
        "context x (1 + heads)) (Ollama's formula; matches llama.cpp without flash attention, "
        "an upper bound with it)."
    )
    return items


def _place(est: CostEstimate, hw: Hardware) -> None:
    fraction = USABLE_FRACTION.get(hw.kind, 0.95)
    usable = int(hw.memory_gb * GIB * fraction) * est.gpus
    est.usable_bytes = usable
    est.fits = est.total_bytes <= usable
    est.runnable = est.fits
    margin = {
        "gpu": "a 5% safety margin of GPU memory kept free",
        "apple": "about 75% of unified memory usable by the GPU (macOS default)",
        "cpu": "15% of system memory left for the operating system",
    }.get(hw.kind, "a 5% safety margin")
    count = f"{est.gpus} x " if est.gpus > 1 else ""
    est.assumptions.append(
        f"Fit: total <= {count}{hw.memory_gb:g} GiB x {fraction:g} ({margin}); memory sizes "
        "read as GiB."
    )
    if est.gpus > 1:
        est.assumptions.append(
            f"{est.gpus} GPUs split the layers (llama.cpp --split-mode layer), each with its own "
            "0.5 GB runtime allowance; decode speed stays bounded by one GPU's bandwidth, since "
            "the GPUs take turns on every token.")
    if hw.kind == "gpu":
        est.gpu_layers = est.model.layers
        if not est.fits:
            _offload(est, usable)


def _offload(est: CostEstimate, usable: int) -> None:
    layers = est.model.layers
    per_layer = (est.weights_bytes + est.kv_cache_bytes + est.state_bytes) / layers
    room = usable - est.overhead_bytes
    on_gpu = max(0, min(layers - 1, int(room // per_layer))) if room > 0 else 0
    in_ram = (layers - on_gpu) * per_layer
    ram_usable = est.ram_gb * GIB * USABLE_FRACTION["cpu"]
    est.gpu_layers = on_gpu
    est.offloaded = True
    est.runnable = in_ram <= ram_usable
    est.assumptions.append(
        f"Does not fit in GPU memory: {on_gpu} of {layers} layers on the GPU, the rest in "
        f"system memory ({est.ram_gb:g} GiB assumed, dual-channel DDR4-3200 at "
        f"{SYSTEM_RAM_BANDWIDTH_GBPS:g} GB/s)."
    )
    if not est.runnable:
        est.assumptions.append(
            f"The offloaded part ({in_ram / GIB:.1f} GiB) exceeds the assumed system memory."
        )


def bytes_read_per_token(est: CostEstimate) -> float:
    """Active weights plus one sequence's whole KV cache and recurrent state."""
    m = est.model
    per_sequence = (est.kv_cache_bytes + est.state_bytes) / max(1, est.parallel)
    return est.weights_bytes * (m.active_b / m.params_b) + per_sequence


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


__all__ = [
    "DEFAULT_USD_PER_KWH", "GB", "GIB", "HOURS_PER_MONTH", "LIFE_HOURS", "MIB", "SYSTEM_RAM_GIB",
    "CostEstimate", "FitResult", "estimate_cost",
]
