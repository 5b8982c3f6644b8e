"""What the calculator returns: `CostEstimate` (one model, one machine) and `FitResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core.catalog import Hardware, Model, Quant

GB = 1_000_000_000
GIB = 1 << 30
MIB = 1 << 20
SYSTEM_RAM_GIB = 64  # system memory assumed for offloaded layers unless given
DEFAULT_USD_PER_KWH = 0.15
# Bytes per KV element as (numerator, denominator), exact: llama.cpp blocks of 32 values.
KV_TYPES: dict[str, tuple[int, int]] = {"f16": (2, 1), "q8_0": (34, 32), "q4_0": (18, 32)}


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
    state_bytes: int = 0
    parallel: int = 1
    gpus: int = 1
    ram_gb: float = SYSTEM_RAM_GIB
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
        """Weights + KV cache + recurrent state + overhead."""
        return self.weights_bytes + self.kv_cache_bytes + self.state_bytes + self.overhead_bytes

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
            "state_bytes": self.state_bytes,
            "parallel": self.parallel,
            "kv_cache_bytes_per_sequence": self.kv_cache_bytes // max(1, self.parallel),
            "gpus": self.gpus,
            "ram_gb": self.ram_gb,
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


def layer_summary(m: Model, kv_type: str) -> str:
    """The KV cache formula for a model, kind by kind, in words."""
    num, den = KV_TYPES[kv_type]
    parts = []
    for g in m.layer_groups:
        heads = f"{g.kv_heads or m.kv_heads} KV heads x {g.head_dim or m.head_dim} head dim"
        if g.kind == "full":
            parts.append(f"{g.layers} full-attention layers x 2 x {heads} x context")
        elif g.kind == "sliding":
            parts.append(f"{g.layers} sliding-window layers x 2 x {heads} x min(context, "
                         f"{g.window:,})")
        elif g.kind == "chunked":
            parts.append(f"{g.layers} chunked-attention layers x 2 x {heads} x min(context, "
                         f"{g.chunk:,})")
        elif g.kind == "mla":
            parts.append(f"{g.layers} latent-attention (MLA) layers x ({g.kv_lora_rank} + "
                         f"{g.rope_dim}) x context")
        elif g.kind in ("linear", "ssm"):
            label = "linear-attention" if g.kind == "linear" else "Mamba-2"
            parts.append(f"{g.layers} {label} layers with no KV cache")
        else:
            parts.append(f"{g.layers} layers with no cache")
    return "; ".join(parts) + f"; x {num / den:g} bytes ({kv_type})"
