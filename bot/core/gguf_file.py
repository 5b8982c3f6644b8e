"""Read a GGUF file's header (metadata and tensor shapes) and describe the model it holds.

Only the header is read, never the weights, so this is fast for any file size. The format is
llama.cpp's GGUF v2/v3 (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): magic,
version, tensor count, metadata count, then typed key/value pairs and tensor descriptions.
"""

from __future__ import annotations

import dataclasses
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from bot.core.catalog import LayerGroup, Model
from bot.core.errors import InvalidInput

_SCALARS: dict[int, str] = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f",
                            7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
MAX_ITEMS = 10_000_000  # a corrupt header must not make us allocate without end


class GGUFHeader:
    """The metadata and tensor element counts of one GGUF file."""

    def __init__(self, path: Path, metadata: dict[str, Any], tensor_elements: int,
                 file_bytes: int) -> None:
        self.path = path
        self.metadata = metadata
        self.tensor_elements = tensor_elements
        self.file_bytes = file_bytes

    def get(self, key: str, default: Any = None) -> Any:
        """An architecture key without its prefix ("block_count"), or a full key."""
        arch = self.metadata.get("general.architecture", "")
        return self.metadata.get(f"{arch}.{key}", self.metadata.get(key, default))


def _read(fh: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = fh.read(size)
    if len(data) != size:
        raise InvalidInput("The GGUF file ends inside its header; it is truncated.")
    return struct.unpack(fmt, data)[0]


def _string(fh: BinaryIO) -> str:
    length = _read(fh, "<Q")
    if length > MAX_ITEMS:
        raise InvalidInput("The GGUF header is corrupt (a string is too long).")
    return bytes(fh.read(length)).decode("utf-8", "replace")


def _value(fh: BinaryIO, kind: int) -> Any:
    if kind in _SCALARS:
        return _read(fh, _SCALARS[kind])
    if kind == _STRING:
        return _string(fh)
    if kind == _ARRAY:
        item_kind, count = _read(fh, "<I"), _read(fh, "<Q")
        if count > MAX_ITEMS:
            raise InvalidInput("The GGUF header is corrupt (an array is too long).")
        return [_value(fh, item_kind) for _ in range(count)]
    raise InvalidInput(f"The GGUF header has an unknown value type {kind}.")


def read_header(path: str | Path) -> GGUFHeader:
    """Read a GGUF file's metadata and count its parameters.

    Raises:
        InvalidInput: the file is missing, unreadable, not GGUF, or its header is corrupt.
    """
    file = Path(path).expanduser()
    try:
        fh = file.open("rb")
    except OSError as exc:
        raise InvalidInput(f"Cannot read {file}: {exc.strerror or exc}.") from None
    with fh:
        if fh.read(4) != b"GGUF":
            raise InvalidInput(f"{file.name} is not a GGUF file.")
        version = _read(fh, "<I")
        if version not in (2, 3):
            msg = f"{file.name} is GGUF version {version}; versions 2 and 3 are read."
            raise InvalidInput(msg)
        tensors, kvs = _read(fh, "<Q"), _read(fh, "<Q")
        if tensors > MAX_ITEMS or kvs > MAX_ITEMS:
            raise InvalidInput("The GGUF header is corrupt (impossible counts).")
        metadata = {}
        for _ in range(kvs):
            key = _string(fh)
            metadata[key] = _value(fh, _read(fh, "<I"))
        elements = 0
        for _ in range(tensors):
            _string(fh)
            dims = [_read(fh, "<Q") for _ in range(_read(fh, "<I"))]
            _read(fh, "<I")  # type
            _read(fh, "<Q")  # offset
            count = 1
            for d in dims:
                count *= d
            elements += count
    return GGUFHeader(file, metadata, elements, os.path.getsize(file))


def _per_layer(value: Any, layers: int) -> list[int]:
    if isinstance(value, list):
        return [int(v) for v in value[:layers]] + [0] * max(0, layers - len(value))
    return [int(value or 0)] * layers


def _groups(h: GGUFHeader, layers: int, kv_per_layer: list[int], head_dim: int
            ) -> list[LayerGroup]:
    """Per-layer attention kinds the header declares: recurrent, latent, sliding or full."""
    window = int(h.get("attention.sliding_window", 0) or 0)
    pattern = h.get("attention.sliding_window_pattern")
    interval = int(h.get("full_attention_interval", 0) or 0)
    ssm_inner = int(h.get("ssm.inner_size", 0) or 0)
    lora = int(h.get("attention.kv_lora_rank", 0) or 0)
    kinds: list[str] = []
    for i in range(layers):
        if interval and (i + 1) % interval:
            kinds.append("linear")
        elif kv_per_layer[i] == 0:
            kinds.append("ssm" if ssm_inner else "none")
        elif lora:
            kinds.append("mla")
        elif window and isinstance(pattern, list) and i < len(pattern):
            kinds.append("sliding" if pattern[i] else "full")
        elif window and isinstance(pattern, int) and pattern > 1:
            kinds.append("full" if (i + 1) % pattern == 0 else "sliding")
        else:
            kinds.append("full")
    state = {"d_inner": ssm_inner or None,
             "d_state": int(h.get("ssm.state_size", 0) or 0) or None,
             "n_groups": int(h.get("ssm.group_count", 0) or 0) or None,
             "conv_kernel": int(h.get("ssm.conv_kernel", 0) or 0) or None}
    out: list[LayerGroup] = []
    for kind in dict.fromkeys(kinds):
        idx = [i for i, k in enumerate(kinds) if k == kind]
        heads = {kv_per_layer[i] for i in idx}
        extra: dict[str, Any] = {}
        if kind == "sliding":
            extra["window"] = window
        elif kind == "mla":
            extra = {"kv_lora_rank": lora, "rope_dim": int(h.get("rope.dimension_count", 0))}
        elif kind in ("linear", "ssm"):
            extra = dict(state)
        kv = max(heads) if kind in ("full", "sliding") and heads else None
        out.append(LayerGroup(kind, len(idx), kv_heads=kv,  # type: ignore[arg-type]
                              head_dim=head_dim if kv else None, **extra))
    return out


def model_from_gguf(path: str | Path, read: Callable[[str | Path], GGUFHeader] = read_header
                    ) -> tuple[Model, str]:
    """The model a GGUF file holds, sized from its own header, and its quantization label.

    The file's size is the weights' size; layers, heads and the attention layout come from the
    metadata, including hybrid (recurrent), latent (MLA) and sliding-window layouts.
    """
    h = read(path)
    layers = int(h.get("block_count", 0) or 0)
    heads_raw = h.get("attention.head_count", 0)
    heads = max(_per_layer(heads_raw, layers or 1)) if heads_raw else 0
    if not layers or not heads:
        raise InvalidInput(f"{h.path.name} has no block_count or head_count; it may not be a "
                           "language model.")
    kv_per_layer = _per_layer(h.get("attention.head_count_kv", heads), layers)
    head_dim = int(h.get("attention.key_length", 0) or 0) or int(
        h.get("embedding_length", 0) or 0) // heads
    groups = _groups(h, layers, kv_per_layer, head_dim)
    kv_heads = max([k for k in kv_per_layer if k] or [1])
    params_b = h.tensor_elements / 1e9
    experts, used = int(h.get("expert_count", 0) or 0), int(h.get("expert_used_count", 0) or 0)
    name = str(h.metadata.get("general.name") or h.path.stem)
    model = Model(
        id="gguf", name=f"{name} ({h.path.name})", params_b=round(params_b, 4),
        layers=layers, heads=heads,
        kv_heads=kv_heads, head_dim=head_dim,
        context=int(h.get("context_length", 0) or 0) or 4096,
        attention=tuple(groups), gguf_file_gb={"file": h.file_bytes / 1e9},
        sources=(str(h.path),), custom_entry=True,
        license=h.metadata.get("general.license"),
    )
    if experts and used:
        # The header does not say how many parameters are active per token: decode speed is
        # then estimated as if all were read (a lower bound for mixture-of-experts files).
        model = dataclasses.replace(model, name=f"{model.name}, {used} of {experts} experts")
    return model, "file"
