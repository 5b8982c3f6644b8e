"""The model, hardware and quantization catalogs (`knowledge/data/*.yaml`) and tolerant lookup.

Names are matched after normalisation: lower case, with spaces, dots, colons, hyphens,
underscores and slashes removed, so "Llama 3.1 8B", "llama3.1:8b" and "llama-3.1-8b" are the
same key. A name that is a unique part of one entry's key ("3060") resolves to that entry. An
unknown name raises :class:`UnknownName` (a :class:`NotFound` and an :class:`InvalidInput`)
whose message lists the five closest ids.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from bot.core.errors import InvalidInput, ModelDeskError, NotFound

log = logging.getLogger(__name__)

_STRIP = re.compile(r"[\s.:\-_/]+")


class UnknownName(NotFound, InvalidInput):
    """A model, hardware or quantization name that is not in the catalog."""


def normalize(name: str) -> str:
    """The lookup key of a name: lower case without spaces, dots, colons, hyphens or slashes."""
    return _STRIP.sub("", str(name).lower())


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
            "license": self.license,
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
_E = TypeVar("_E", Model, Hardware, Quant)


def _keys(entry: Model | Hardware | Quant) -> list[str]:
    names = [entry.id, getattr(entry, "name", entry.id), *getattr(entry, "aliases", ())]
    seen: list[str] = []
    for name in names:
        key = normalize(name)
        if key and key not in seen:
            seen.append(key)
    return seen


def _resolve(kind: str, name: str, entries: Sequence[_E]) -> _E:
    query = normalize(name)
    if not query:
        raise UnknownName(
            f"Give a {kind} name, for example {entries[0].id}."
            if entries
            else f"Give a {kind} name."
        )
    for entry in entries:
        if query in _keys(entry):
            return entry
    # A unique part of one entry's key: "3060" -> rtx-3060-12gb.
    hits = [e for e in entries if any(query in k for k in _keys(e))]
    if len(hits) == 1:
        return hits[0]
    # "3090" matches rtx-3090 and rtx-3090-ti: the entry whose key every other match extends
    # wins. "llama 3.1" (8b, 70b, 405b) stays ambiguous.
    for hit in hits:
        for key in (k for k in _keys(hit) if query in k):
            others = [e for e in hits if e is not hit]
            if all(any(key in k and k != key for k in _keys(e)) for e in others):
                return hit
    closest = _closest(query, entries, 5)
    msg = f"Unknown {kind} '{name}'. Closest ids: {', '.join(closest)}."
    raise UnknownName(msg)


def _score(query: str, entry: Model | Hardware | Quant) -> float:
    """Lower is better: exact 0, prefix 1, substring 2, fuzzy 3..4, no match 9."""
    best = 9.0
    for key in _keys(entry):
        if key == query:
            return 0.0
        if key.startswith(query):
            best = min(best, 1.0 + (len(key) - len(query)) / 1000)
        elif query in key:
            best = min(best, 2.0 + (len(key) - len(query)) / 1000)
        else:
            ratio = difflib.SequenceMatcher(None, query, key).ratio()
            if ratio >= 0.5:
                best = min(best, 4.0 - ratio)
    return best


def _closest(query: str, entries: Sequence[_E], limit: int) -> list[str]:
    def key(entry: _E) -> tuple[float, str]:
        ratio = max(difflib.SequenceMatcher(None, query, k).ratio() for k in _keys(entry))
        sub = any(query in k or k in query for k in _keys(entry))
        return (-(ratio + (0.5 if sub else 0.0)), entry.id)

    return [entry.id for entry in sorted(entries, key=key)[:limit]]


def _suggest(text: str, entries: Sequence[_E], limit: int) -> list[_E]:
    query = normalize(text)
    if not query:
        return list(entries[:limit])
    scored = [(_score(query, entry), index, entry) for index, entry in enumerate(entries)]
    ranked = sorted((s for s in scored if s[0] < 9.0), key=lambda s: (s[0], s[1]))
    return [entry for _, _, entry in ranked[:limit]]


class Catalog:
    """The three catalogs, loaded once; every lookup goes through here."""

    def __init__(
        self,
        models: Iterable[Model] = (),
        hardware: Iterable[Hardware] = (),
        quants: Iterable[Quant] = (),
    ) -> None:
        self.models: list[Model] = list(models)
        self.hardware: list[Hardware] = list(hardware)
        self.quants: list[Quant] = list(quants)

    @classmethod
    def load(cls, data_dir: Path) -> Catalog:
        """Read `models.yaml`, `hardware.yaml` and `quants.yaml` from a folder.

        Args:
            data_dir: the catalog folder, normally `settings.knowledge_dir / "data"`.

        Raises:
            ModelDeskError: a file is missing or malformed; the message names it and the problem.
        """
        data_dir = Path(data_dir)
        models = [_model(row, where) for row, where in _rows(data_dir / "models.yaml", "models")]
        hardware = [
            _hardware(row, where) for row, where in _rows(data_dir / "hardware.yaml", "hardware")
        ]
        quants = [_quant(row, where) for row, where in _rows(data_dir / "quants.yaml", "quants")]
        for label, entries in (("models", models), ("hardware", hardware), ("quants", quants)):
            ids = [e.id for e in entries]
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ModelDeskError(
                    f"{data_dir / (label + '.yaml')}: duplicate id {', '.join(dupes)}."
                )
        log.debug(
            "catalog: %d models, %d hardware, %d quants", len(models), len(hardware), len(quants)
        )
        return cls(models, hardware, quants)

    def model(self, name: str) -> Model:
        """The model called `name` (id, name or alias, tolerantly matched).

        Raises:
            UnknownName: no such model; the message lists the five closest ids.
        """
        return _resolve("model", name, self.models)

    def hardware_named(self, name: str) -> Hardware:
        """The hardware called `name` (id, name or alias, tolerantly matched).

        Raises:
            UnknownName: no such hardware; the message lists the five closest ids.
        """
        return _resolve("hardware", name, self.hardware)

    def quant(self, name: str) -> Quant:
        """The quantization called `name` ("Q4_K_M", "q4_k_m", "q4km").

        Raises:
            UnknownName: no such quantization; the message lists every accepted id.
        """
        query = normalize(name)
        for quant in self.quants:
            if normalize(quant.id) == query:
                return quant
        accepted = ", ".join(q.id for q in self.quants)
        raise UnknownName(f"Unknown quantization '{name}'. Accepted: {accepted}.")

    def suggest_models(self, text: str, limit: int = 25) -> list[Model]:
        """Models for autocomplete: exact, then prefix, then substring, then fuzzy matches."""
        return _suggest(text, self.models, limit)

    def suggest_hardware(self, text: str, limit: int = 25) -> list[Hardware]:
        """Hardware for autocomplete: exact, then prefix, then substring, then fuzzy matches."""
        return _suggest(text, self.hardware, limit)


# --- YAML parsing -------------------------------------------------------------------------


def _rows(path: Path, top: str) -> list[tuple[dict[str, Any], str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelDeskError(f"{path}: the catalog file is missing.") from None
    except OSError as exc:
        raise ModelDeskError(f"{path}: cannot be read ({exc.strerror}).") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ModelDeskError(f"{path}: not valid YAML{where}.") from None
    if not isinstance(data, dict) or not isinstance(data.get(top), list):
        raise ModelDeskError(f"{path}: expected a top-level '{top}:' list.")
    rows = []
    for index, row in enumerate(data[top]):
        if not isinstance(row, dict):
            raise ModelDeskError(f"{path}: entry {index + 1} is not a mapping.")
        label = row.get("id", f"entry {index + 1}")
        rows.append((row, f"{path}: {label}"))
    return rows


def _req(row: dict[str, Any], key: str, where: str, kind: type, positive: bool = True) -> Any:
    if row.get(key) is None:
        raise ModelDeskError(f"{where}: missing '{key}'.")
    return _num(row[key], key, where, kind, positive)


def _opt(row: dict[str, Any], key: str, where: str, kind: type) -> Any:
    value = row.get(key)
    return None if value is None else _num(value, key, where, kind, positive=True)


def _num(value: Any, key: str, where: str, kind: type, positive: bool) -> Any:
    if isinstance(value, bool):
        raise ModelDeskError(f"{where}: '{key}' must be a number, not {value!r}.")
    if kind is str:
        return str(value)
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ModelDeskError(f"{where}: '{key}' must be a number, not {value!r}.") from None
    if kind is int and number != float(value):
        raise ModelDeskError(f"{where}: '{key}' must be a whole number, not {value!r}.")
    if positive and number <= 0:
        raise ModelDeskError(f"{where}: '{key}' must be positive, not {value!r}.")
    return number


def _strs(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return (str(value),)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _model(row: dict[str, Any], where: str) -> Model:
    model_id = _req(row, "id", where, str)
    params = _req(row, "params_b", where, float)
    active = _opt(row, "active_params_b", where, float)
    if active is not None and active > params:
        raise ModelDeskError(
            f"{where}: 'active_params_b' ({active}) exceeds 'params_b' ({params})."
        )
    sizes = row.get("gguf_file_gb") or {}
    if not isinstance(sizes, dict):
        raise ModelDeskError(f"{where}: 'gguf_file_gb' must map quantization to GB.")
    files = {str(q): _num(v, f"gguf_file_gb.{q}", where, float, True) for q, v in sizes.items()}
    return Model(
        id=model_id,
        name=str(row.get("name") or model_id),
        aliases=_strs(row.get("aliases")),
        maker=_text(row.get("maker")),
        params_b=params,
        active_params_b=active,
        layers=_req(row, "layers", where, int),
        heads=_opt(row, "heads", where, int),
        kv_heads=_req(row, "kv_heads", where, int),
        head_dim=_req(row, "head_dim", where, int),
        context=_req(row, "context", where, int),
        sliding_window=_opt(row, "sliding_window", where, int),
        sliding_window_layers=_opt(row, "sliding_window_layers", where, int),
        license=_text(row.get("license")),
        released=_text(row.get("released")),
        gguf_file_gb=files,
        sources=_strs(row.get("sources")),
    )


def _hardware(row: dict[str, Any], where: str) -> Hardware:
    kind = str(row.get("kind", "")).lower()
    if kind not in KINDS:
        raise ModelDeskError(f"{where}: 'kind' must be one of {', '.join(KINDS)}, not {kind!r}.")
    hw_id = _req(row, "id", where, str)
    return Hardware(
        id=hw_id,
        name=str(row.get("name") or hw_id),
        aliases=_strs(row.get("aliases")),
        kind=kind,
        memory_gb=_req(row, "memory_gb", where, float),
        bandwidth_gbps=_req(row, "bandwidth_gbps", where, float),
        power_w=_opt(row, "power_w", where, float),
        usd_per_hour=_opt(row, "usd_per_hour", where, float),
        price_usd=_opt(row, "price_usd", where, float),
        price_as_of=_text(row.get("price_as_of")),
        sources=_strs(row.get("sources")),
    )


def _quant(row: dict[str, Any], where: str) -> Quant:
    return Quant(
        id=_req(row, "id", where, str),
        bits_per_weight=_req(row, "bits_per_weight", where, float),
        note=_text(row.get("note")),
        sources=_strs(row.get("sources")),
    )
