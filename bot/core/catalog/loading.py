"""Loading `knowledge/data/*.yaml` through pydantic v2 schemas.

The schemas are the one statement of what a catalog entry may hold; `modeldesk catalog schema`
prints them as JSON Schema. Errors name the file, the entry id and the field in one line:
``models.yaml: llama-3.1-8b: missing 'kv_heads'.``
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.core.catalog.data import KINDS, CloudInstance, Hardware, LayerGroup, Model, Quant
from bot.core.catalog.lookup import Catalog
from bot.core.errors import ModelDeskError

log = logging.getLogger(__name__)

# libyaml's safe loader reads the catalogs about ten times faster than the pure-Python one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PosInt = Annotated[int, Field(gt=0, strict=True)]
PosFloat = Annotated[float, Field(gt=0)]
Month = Annotated[str, Field(pattern=r"^\d{4}-\d{2}$")]

# Fields each layer kind needs (the rest must be absent or are ignored).
_KIND_NEEDS: dict[str, tuple[str, ...]] = {
    "full": (), "none": (), "sliding": ("window",), "chunked": ("chunk",),
    "mla": ("kv_lora_rank", "rope_dim"),
    "linear": ("d_inner", "d_state", "n_groups", "conv_kernel"),
    "ssm": ("d_inner", "d_state", "n_groups", "conv_kernel"),
}


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LayerGroupSchema(_Entry):
    """Some layers of one kind: full, sliding (window), chunked (chunk), mla (kv_lora_rank,
    rope_dim), linear / ssm (d_inner, d_state, n_groups, conv_kernel), none."""

    kind: Literal["full", "sliding", "chunked", "mla", "linear", "ssm", "none"]
    layers: PosInt
    kv_heads: PosInt | None = None
    head_dim: PosInt | None = None
    window: PosInt | None = None
    chunk: PosInt | None = None
    kv_lora_rank: PosInt | None = None
    rope_dim: PosInt | None = None
    d_inner: PosInt | None = None
    d_state: PosInt | None = None
    n_groups: PosInt | None = None
    conv_kernel: PosInt | None = None

    @model_validator(mode="after")
    def _needs(self) -> LayerGroupSchema:
        missing = [f for f in _KIND_NEEDS[self.kind] if getattr(self, f) is None]
        if missing:
            raise ValueError(f"{self.kind} layers need {', '.join(missing)}")
        return self


class ModelSchema(_Entry):
    """One open model (models.yaml)."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")]
    name: str
    aliases: list[str] = []
    maker: str | None = None
    params_b: PosFloat
    active_params_b: PosFloat | None = None
    layers: PosInt
    heads: PosInt | None = None
    kv_heads: PosInt
    head_dim: PosInt
    context: PosInt
    sliding_window: PosInt | None = None
    sliding_window_layers: PosInt | None = None
    attention: list[LayerGroupSchema] | None = None
    license: str | None = None
    released: Month | None = None
    gguf_file_gb: dict[str, PosFloat] = {}
    sources: list[str] = []

    @model_validator(mode="after")
    def _consistent(self) -> ModelSchema:
        if self.active_params_b is not None and self.active_params_b > self.params_b:
            raise ValueError(f"active_params_b ({self.active_params_b}) exceeds params_b "
                             f"({self.params_b})")
        if self.attention is not None:
            total = sum(g.layers for g in self.attention)
            if total != self.layers:
                raise ValueError(f"attention layers add up to {total}, not layers "
                                 f"({self.layers})")
        return self


class HardwareSchema(_Entry):
    """One GPU, Apple machine or CPU box (hardware.yaml)."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")]
    name: str
    aliases: list[str] = []
    kind: Literal["gpu", "apple", "cpu"]
    memory_gb: PosFloat
    bandwidth_gbps: PosFloat
    power_w: PosFloat | None = None
    usd_per_hour: PosFloat | None = None
    price_usd: PosFloat | None = None
    price_as_of: Month | None = None
    sources: list[str] = []


class QuantSchema(_Entry):
    """One llama.cpp quantization type (quants.yaml)."""

    id: str
    bits_per_weight: Annotated[float, Field(ge=1, le=33)]
    note: str | None = None
    sources: list[str] = []


class CloudSchema(BaseModel):
    """One cloud or notebook instance (clouds.yaml); extra descriptive fields are allowed."""

    model_config = ConfigDict(extra="allow")
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._\-]*$")]
    name: str
    provider: str
    aliases: list[str] = []
    gpu: str
    gpu_count: PosInt | None = None
    memory_gb_per_gpu: PosFloat
    usd_per_hour: Annotated[float, Field(ge=0)] | None = None
    price_as_of: Month | None = None
    region: str | None = None
    sources: list[str] = []


SCHEMAS: dict[str, tuple[str, type[BaseModel]]] = {
    "models.yaml": ("models", ModelSchema),
    "hardware.yaml": ("hardware", HardwareSchema),
    "quants.yaml": ("quants", QuantSchema),
    "clouds.yaml": ("instances", CloudSchema),
}
OPTIONAL_FILES = ("clouds.yaml",)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of every catalog file, keyed by file name."""
    out: dict[str, Any] = {}
    for file, (top, schema) in SCHEMAS.items():
        item = schema.model_json_schema()
        defs = item.pop("$defs", {})  # references point at the document's root
        out[file] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": [top],
            "properties": {top: {"type": "array", "items": item}},
            **({"$defs": defs} if defs else {}),
        }
    return out


def _rows(path: Path, top: str) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelDeskError(f"{path}: the catalog file is missing.") from None
    except OSError as exc:
        raise ModelDeskError(f"{path}: cannot be read ({exc.strerror}).") from None
    try:
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, C or Python
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ModelDeskError(f"{path}: not valid YAML{where}.") from None
    if not isinstance(data, dict) or not isinstance(data.get(top), list):
        raise ModelDeskError(f"{path}: expected a top-level '{top}:' list.")
    rows = data[top]
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ModelDeskError(f"{path}: entry {index + 1} is not a mapping.")
    return list(rows)


def _say(error: ValidationError) -> str:
    """The first problem of a validation error as a short phrase naming the field."""
    first = error.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "entry"
    kind = first["type"]
    if kind == "missing":
        return f"missing '{field}'"
    if kind in ("int_type", "float_type", "int_parsing", "float_parsing", "int_from_float"):
        return f"'{field}' must be a number, not {first.get('input')!r}"
    if kind == "extra_forbidden":
        return f"unknown field '{field}'"
    return f"'{field}': {first['msg']}" if field != "entry" else first["msg"]


def _parse(path: Path, schema: type[BaseModel], rows: list[dict[str, Any]]) -> list[Any]:
    out = []
    for index, row in enumerate(rows):
        # YAML reads 2024-07 as text but 2024-07-01 as a date: months stay text.
        for key in ("released", "price_as_of"):
            if key in row and row[key] is not None and not isinstance(row[key], str):
                row = {**row, key: str(row[key])}
        try:
            out.append(schema.model_validate(row))
        except ValidationError as exc:
            label = row.get("id", f"entry {index + 1}")
            raise ModelDeskError(f"{path}: {label}: {_say(exc)}.") from None
    return out


def _model(m: ModelSchema) -> Model:
    groups = tuple(LayerGroup(**g.model_dump()) for g in m.attention or ())
    return Model(
        id=m.id, name=m.name, aliases=tuple(m.aliases), maker=m.maker, params_b=m.params_b,
        active_params_b=m.active_params_b, layers=m.layers, heads=m.heads, kv_heads=m.kv_heads,
        head_dim=m.head_dim, context=m.context, sliding_window=m.sliding_window,
        sliding_window_layers=m.sliding_window_layers, attention=groups, license=m.license,
        released=m.released, gguf_file_gb=dict(m.gguf_file_gb), sources=tuple(m.sources),
    )


def _hardware(h: HardwareSchema) -> Hardware:
    return Hardware(
        id=h.id, name=h.name, aliases=tuple(h.aliases), kind=h.kind, memory_gb=h.memory_gb,
        bandwidth_gbps=h.bandwidth_gbps, power_w=h.power_w, usd_per_hour=h.usd_per_hour,
        price_usd=h.price_usd, price_as_of=h.price_as_of, sources=tuple(h.sources),
    )


def load_catalog(data_dir: Path) -> Catalog:
    """Read and validate the three catalog files of a folder."""
    parsed: dict[str, list[Any]] = {}
    for file, (top, schema) in SCHEMAS.items():
        path = data_dir / file
        if file in OPTIONAL_FILES and not path.exists():
            parsed[file] = []
            continue
        entries = _parse(path, schema, _rows(path, top))
        ids = [e.id for e in entries]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ModelDeskError(f"{path}: duplicate id {', '.join(dupes)}.")
        parsed[file] = entries
    models = [_model(m) for m in parsed["models.yaml"]]
    hardware = [_hardware(h) for h in parsed["hardware.yaml"]]
    quants = [Quant(id=q.id, bits_per_weight=q.bits_per_weight, note=q.note,
                    sources=tuple(q.sources)) for q in parsed["quants.yaml"]]
    hardware_ids = {h.id for h in hardware}
    clouds = []
    for c in parsed["clouds.yaml"]:
        if c.gpu not in hardware_ids:
            raise ModelDeskError(f"{data_dir / 'clouds.yaml'}: {c.id}: 'gpu' {c.gpu!r} is not a "
                                 "hardware id.")
        clouds.append(CloudInstance(
            id=c.id, name=c.name, provider=c.provider, gpu=c.gpu, gpu_count=c.gpu_count,
            memory_gb_per_gpu=c.memory_gb_per_gpu, usd_per_hour=c.usd_per_hour,
            price_as_of=c.price_as_of, region=c.region, aliases=tuple(c.aliases),
            sources=tuple(c.sources)))
    log.debug("catalog: %d models, %d hardware, %d quants, %d instances", len(models),
              len(hardware), len(quants), len(clouds))
    assert all(h.kind in KINDS for h in hardware)
    return Catalog(models, hardware, quants, clouds)
