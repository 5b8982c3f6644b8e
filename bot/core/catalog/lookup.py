"""Tolerant name lookup over the loaded catalogs.

Names are matched after normalisation: lower case, with spaces, dots, colons, hyphens,
underscores and slashes removed, so "Llama 3.1 8B", "llama3.1:8b" and "llama-3.1-8b" are the
same key. A name that is a unique part of one entry's key ("3060") resolves to that entry. An
unknown name raises :class:`UnknownName` (a :class:`NotFound` and an :class:`InvalidInput`)
whose message lists the five closest ids.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from bot.core.catalog.data import CloudInstance, Hardware, Model, Quant
from bot.core.errors import InvalidInput, NotFound

_STRIP = re.compile(r"[\s.:\-_/]+")
_E = TypeVar("_E", Model, Hardware, Quant, CloudInstance)


class UnknownName(NotFound, InvalidInput):
    """A model, hardware or quantization name that is not in the catalog."""


def normalize(name: str) -> str:
    """The lookup key of a name: lower case without spaces, dots, colons, hyphens or slashes."""
    return _STRIP.sub("", str(name).lower())


def _keys(entry: Model | Hardware | Quant | CloudInstance) -> list[str]:
    names = [entry.id] if isinstance(entry, Quant) else [entry.id, entry.name, *entry.aliases]
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
    shown = name if len(name) <= 60 else name[:57] + "..."
    msg = f"Unknown {kind} '{shown}'. Closest ids: {', '.join(closest)}."
    raise UnknownName(msg)


def _score(query: str, entry: Model | Hardware | Quant | CloudInstance) -> float:
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
        clouds: Iterable[CloudInstance] = (),
    ) -> None:
        self.models: list[Model] = list(models)
        self.hardware: list[Hardware] = list(hardware)
        self.quants: list[Quant] = list(quants)
        self.clouds: list[CloudInstance] = list(clouds)

    @classmethod
    def load(cls, data_dir: Path) -> Catalog:
        """Read `models.yaml`, `hardware.yaml` and `quants.yaml` from a folder.

        Raises:
            ModelDeskError: a file is missing or malformed; the message names the file, the
                entry id and the field in one line.
        """
        from bot.core.catalog.loading import load_catalog

        return load_catalog(Path(data_dir))

    def model(self, name: str) -> Model:
        """The model called `name` (id, name or alias, tolerantly matched).

        Raises:
            UnknownName: no such model; the message lists the five closest ids.
        """
        return _resolve("model", name, self.models)

    def cloud_named(self, name: str) -> CloudInstance:
        """The cloud or notebook instance called `name` ("g5.2xlarge", "colab t4")."""
        return _resolve("cloud instance", name, self.clouds)

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
        shown = name if len(name) <= 40 else name[:37] + "..."
        raise UnknownName(f"Unknown quantization '{shown}'. Accepted: {accepted}.")

    def suggest_models(self, text: str, limit: int = 25) -> list[Model]:
        """Models for autocomplete: exact, then prefix, then substring, then fuzzy matches."""
        return _suggest(text, self.models, limit)

    def suggest_hardware(self, text: str, limit: int = 25) -> list[Hardware]:
        """Hardware for autocomplete: exact, then prefix, then substring, then fuzzy matches."""
        return _suggest(text, self.hardware, limit)
