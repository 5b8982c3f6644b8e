"""The catalog's plain data: models (with their attention layout), hardware, quantizations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from bot.core.errors import InvalidInput

LayerKind = Literal["full", "sliding", "chunked", "mla", "linear", "ssm", "none"]
# Kinds whose cache grows with the context, and kinds with a fixed recurrent state.
KV_KINDS = ("full", "sliding", "chunked", "mla")
STATE_KINDS = ("linear", "ssm")


@dataclass(frozen=True)
class LayerGroup:
    """Some of a model's layers, all with the same kind of token mixing.

    - full: attends to the whole context (kv_heads x head_dim for K and for V, per token);
    - sliding / chunked: holds at most `window` / `chunk` tokens;
    - mla: multi-head latent attention, one latent of kv_lora_rank + rope_dim per token;
    - linear (Gated DeltaNet) / ssm (Mamba-2): a fixed recurrent state per sequence,
      d_state x d_inner + (conv_kernel - 1) x (d_inner + 2 x n_groups x d_state) values in f32,
      as llama.cpp sizes it;
    - none: no cache at all (MLP-only blocks).
    `kv_heads` / `head_dim` of None mean the model's own.
    """

    kind: LayerKind
    layers: int
    kv_heads: int | None = None
    head_dim: int | None = None
    window: int | None = None
    chunk: int | None = None
    kv_lora_rank: int | None = None
    rope_dim: int | None = None
    d_inner: int | None = None
    d_state: int | None = None
    n_groups: int | None = None
    conv_kernel: int | None = None

    def state_values(self) -> int:
        """Recurrent-state values per layer per sequence (linear and ssm kinds)."""
        if self.kind not in STATE_KINDS:
            return 0
        d_inner, d_state = self.d_inner or 0, self.d_state or 0
        conv = ((self.conv_kernel or 1) - 1) * (d_inner + 2 * (self.n_groups or 0) * d_state)
        return d_state * d_inner + conv

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Model:
    """One open model's architecture numbers, as the cost engine needs them."""

    id: str
    name: str
    params_b: float
    layers: int
    kv_heads: int
    head_dim: int
    context: int
    heads: int | None = None
    active_params_b: float | None = None
    aliases: tuple[str, ...] = ()
    maker: str | None = None
    sliding_window: int | None = None
    sliding_window_layers: int | None = None
    attention: tuple[LayerGroup, ...] = ()
    license: str | None = None
    released: str | None = None
    gguf_file_gb: dict[str, float] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    custom_entry: bool = False

    @property
    def active_b(self) -> float:
        """Parameters used per token, billions (total parameters for a dense model)."""
        return self.active_params_b if self.active_params_b else self.params_b

    @property
    def layer_groups(self) -> tuple[LayerGroup, ...]:
        """The model's layers by attention kind; the legacy sliding-window fields, or one group
        of full attention, when the catalog gives no `attention` list."""
        if self.attention:
            return self.attention
        groups: list[LayerGroup] = []
        swa = min(self.sliding_window_layers or 0, self.layers) if self.sliding_window else 0
        if swa:
            groups.append(LayerGroup("sliding", swa, window=self.sliding_window))
        if self.layers - swa:
            groups.append(LayerGroup("full", self.layers - swa))
        return tuple(groups)

    @property
    def attention_heads(self) -> int:
        """Query heads; falls back to the KV heads when the catalog does not say."""
        return self.heads or self.kv_heads

    @property
    def is_moe(self) -> bool:
        """True for a mixture-of-experts model (fewer active than total parameters)."""
        return self.active_b < self.params_b

    @classmethod
    def custom(
        cls,
        params_b: float,
        layers: int,
        kv_heads: int,
        head_dim: int,
        context: int = 131072,
        active_params_b: float | None = None,
        heads: int | None = None,
        name: str | None = None,
    ) -> Model:
        """A model described by its numbers instead of a catalog entry.

        Args:
            params_b: total parameters, billions.
            layers: transformer blocks.
            kv_heads: key/value heads (the attention heads when there is no grouped-query
                attention).
            head_dim: dimension of one attention head.
            context: the longest context the model accepts, tokens.
            active_params_b: parameters used per token (mixture-of-experts); None = all.
            heads: query heads, used for the compute-buffer estimate; None = kv_heads.
            name: a display name.

        Raises:
            InvalidInput: a number is not positive.
        """
        numbers = {
            "--params": params_b,
            "--layers": layers,
            "--kv-heads": kv_heads,
            "--head-dim": head_dim,
            "--context": context,
        }
        for flag, value in numbers.items():
            if value is None or value <= 0:
                raise InvalidInput(f"{flag} must be a positive number, not {value}.")
        if active_params_b is not None and not 0 < active_params_b <= params_b:
            raise InvalidInput(
                f"--active-params must be between 0 and --params ({params_b:g}), "
                f"not {active_params_b:g}."
            )
        label = name or f"custom {params_b:g}B"
        return cls(
            id="custom",
            name=label,
            params_b=float(params_b),
            active_params_b=float(active_params_b) if active_params_b else None,
            layers=int(layers),
            kv_heads=int(kv_heads),
            heads=int(heads) if heads else None,
            head_dim=int(head_dim),
            context=int(context),
            custom_entry=True,
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields a JSON reader needs."""
        return {
            "id": self.id,
            "name": self.name,
            "params_b": self.params_b,
            "active_params_b": self.active_b,
            "layers": self.layers,
            "heads": self.heads,
            "kv_heads": self.kv_heads,
            "head_dim": self.head_dim,
            "context": self.context,
            "sliding_window": self.sliding_window,
            "sliding_window_layers": self.sliding_window_layers,
            "attention": [g.to_dict() for g in self.layer_groups],
            "license": self.license,
            "released": self.released,
            "custom": self.custom_entry,
        }


@dataclass(frozen=True)
class Hardware:
    """A GPU, Apple machine or CPU box: memory, bandwidth, power and price."""

    id: str
    name: str
    kind: str
    memory_gb: float
    bandwidth_gbps: float
    power_w: float | None = None
    usd_per_hour: float | None = None
    price_usd: float | None = None
    price_as_of: str | None = None
    aliases: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    custom_entry: bool = False

    @classmethod
    def custom(
        cls,
        memory_gb: float,
        bandwidth_gbps: float,
        power_w: float | None = None,
        kind: str = "gpu",
        usd_per_hour: float | None = None,
        price_usd: float | None = None,
        name: str | None = None,
    ) -> Hardware:
        """Hardware described by its numbers instead of a catalog entry.

        Args:
            memory_gb: memory usable for the model (VRAM, unified or system memory).
            bandwidth_gbps: memory bandwidth, GB/s (10^9 bytes per second).
            power_w: board or system power while generating, watts.
            kind: "gpu", "apple" or "cpu".
            usd_per_hour: rental price, if rented.
            price_usd: purchase price, if bought.
            name: a display name.

        Raises:
            InvalidInput: a number is not positive or the kind is unknown.
        """
        for flag, value in (("--memory-gb", memory_gb), ("--bandwidth-gbps", bandwidth_gbps)):
            if value is None or value <= 0:
                raise InvalidInput(f"{flag} must be a positive number, not {value}.")
        if power_w is not None and power_w <= 0:
            raise InvalidInput(f"--power-w must be a positive number, not {power_w}.")
        if kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, not {kind!r}.")
        return cls(
            id="custom",
            name=name or f"custom {memory_gb:g} GB at {bandwidth_gbps:g} GB/s",
            kind=kind,
            memory_gb=float(memory_gb),
            bandwidth_gbps=float(bandwidth_gbps),
            power_w=float(power_w) if power_w else None,
            usd_per_hour=usd_per_hour,
            price_usd=price_usd,
            custom_entry=True,
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields a JSON reader needs."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "memory_gb": self.memory_gb,
            "bandwidth_gbps": self.bandwidth_gbps,
            "power_w": self.power_w,
            "usd_per_hour": self.usd_per_hour,
            "price_usd": self.price_usd,
            "price_as_of": self.price_as_of,
            "custom": self.custom_entry,
        }


@dataclass(frozen=True)
class Quant:
    """A llama.cpp quantization type and its effective bits per weight."""

    id: str
    bits_per_weight: float
    note: str | None = None
    sources: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The fields a JSON reader needs."""
        return {"id": self.id, "bits_per_weight": self.bits_per_weight, "note": self.note}


KINDS = ("gpu", "apple", "cpu")


@dataclass(frozen=True)
class CloudInstance:
    """A rentable cloud or notebook instance: which GPUs, how many, and the on-demand price."""

    id: str
    name: str
    provider: str
    gpu: str  # a hardware id
    gpu_count: int | None
    memory_gb_per_gpu: float
    usd_per_hour: float | None = None
    price_as_of: str | None = None
    region: str | None = None
    aliases: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
