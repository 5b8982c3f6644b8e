"""Understanding a question about running a model: which models, which machine, how it is run,
and what the person wants to know. Pure text and catalog lookups; no language model.

The parser is deliberately conservative: a name is taken only when it matches a catalog key
exactly (after normalisation) or as the unique model of a family and size; a near miss becomes a
short question back ("Qwen3 32B or Qwen2.5 32B?"), never a guess.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Literal

from bot.core.catalog import Catalog, CloudInstance, Hardware, Model, normalize
from bot.core.question_numbers import read_context, read_numbers, read_quant
from bot.core.retrieval import looks_like_follow_up

Intent = Literal["fit", "memory", "speed", "money", "compare", "biggest", "needs", "cloud"]

MAX_GPUS = 64

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+\-]*")
_NUMWORDS = {"one": 1, "two": 2, "dual": 2, "twin": 2, "three": 3, "triple": 3, "four": 4,
             "quad": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "ten": 10, "sixteen": 16}
# "8 x A100", "dual 3090", and with each card's memory between: "8*24G A10g", "2x 24GB 3090".
_COUNT_BEFORE = re.compile(
    r"(?<![\w.])(-?\d{1,6}|one|two|dual|twin|three|triple|four|quad|five|six|seven|eight|ten|"
    r"sixteen)\s*(?:(?:x|×|\*)\s*\d{1,3}\s*(?:gb|g|gib)\s+|(?:x|×|\*)?\s*)$", re.IGNORECASE)
_COUNT_AFTER = re.compile(r"^\s*(?:x|×|\*)\s*(\d{1,6})(?!\d)", re.IGNORECASE)
_BARE_SIZE = re.compile(r"(?<![\w.])(\d{1,4}(?:\.\d+)?)\s?b\b(?![\w/])", re.IGNORECASE)
_GPU_WORD = re.compile(r"(?<![\w.])(-?\d[\d,]{0,9})\s+gpus?\b", re.IGNORECASE)
# A question about why something happens, how to set something, or an error it pasted: the
# knowledge base answers it, and the calculator's verdict only follows. A GitHub issue title's
# tag ("[Usage]: why ...") does not hide the why. An explicit fit or memory question stays the
# calculator's.
_EXPLAIN = re.compile(
    r"(^|[.?!]\s+|^\[\w+\]:?\s*)why\b|\bwhy (is|does|do|doesn'?t|isn'?t|would|did|are|can'?t)\b|"
    r"\bhow (can|do|should) i (set|configure|make|change|enable|disable|turn|fix|stop|keep|"
    r"get|use|tell)\b|"
    r"\b(no|any) effect\b|\bdoes ?n[o']?t (seem to )?(work|have|take)\b|\btraceback\b|"
    r"\w+error:|\bexception\b|\bcrash(es|ed)?\b", re.IGNORECASE)
_FIGURES_ASKED = re.compile(
    r"\b(fits?|enough|can i run|could i run|will it run|would it run|how much (v?ram|memory)|"
    r"how many (gb|gpus)|what gpu|which gpu|biggest|largest|how fast|cost)\b", re.IGNORECASE)
# Intents whose answer depends on the model's size: a family without one gets a question back.
_SIZED_INTENTS = ("fit", "memory", "speed", "money", "needs", "cloud")
_FOLLOW = re.compile(r"\b(it|this model|that model|this one|that one|the model)\b", re.IGNORECASE)

_INTENTS: list[tuple[Intent, re.Pattern[str]]] = [
    ("compare", re.compile(r"\b(vs\.?|versus|compare[ds]?|comparison|better|or)\b", re.I)),
    ("cloud", re.compile(r"\b(which|what|cheapest|best)\s+(cloud\s+)?(instance|vm|machine "
                         r"type|aws|gcp|azure)\b|\brent(ing)?\b|\bcloud\b", re.I)),
    ("needs", re.compile(r"\b(what|which|how many)\s+(gpus?|cards?|hardware|vram|machine)\b.*"
                         r"\b(need|require|take)|\bneed(ed)?\s+to\s+run\b|\bminimum\b", re.I)),
    ("biggest", re.compile(r"\b(biggest|largest|best|strongest|what|which)\s+(\w+\s+)?"
                           r"(model|llm|models|llms)\b.*\b(run|fit|use)\b", re.I)),
    ("money", re.compile(r"\b(cost|price|cheap|cheaper|expensive|\$|usd|dollars?|per hour|"
                         r"kwh|electricity|bill|per million|break[- ]even|per month)\b", re.I)),
    ("speed", re.compile(r"\b(how fast|speed|tokens?/s|tok/s|t/s|tps|tokens per second|slow|"
                         r"faster|throughput)\b", re.I)),
    ("memory", re.compile(r"\b(how much|how many gb|vram|memory|ram)\b.*\b(need|use|take|"
                          r"require)|\bmemory (usage|footprint)\b|\bkv[ -]?cache\b", re.I)),
    ("fit", re.compile(r"\b(fit|fits|run|runs|running|load|enough|possible|work|handle)\b",
                       re.I)),
]


@dataclass
class Understanding:
    """What a question names and asks, as far as the catalog can tell."""

    models: list[Model] = field(default_factory=list)
    hardware: Hardware | None = None
    gpus: int = 1
    cloud: CloudInstance | None = None
    vram_gb: float | None = None  # "my 8gb laptop gpu": a memory size without a named card
    card_name: str | None = None  # a card the catalog does not list ("RTX 2060" of "RTX 2060 8GB")
    ram_gb: float | None = None
    cpu_only: bool = False
    quant: str | None = None
    quant_note: str | None = None
    context: int | None = None
    users: int | None = None
    usd_per_hour: float | None = None
    usd_per_kwh: float | None = None
    power_w: float | None = None
    bare_size_b: float | None = None
    intent: Intent | None = None
    ambiguous: list[list[str]] = field(default_factory=list)  # candidate ids per unclear name
    problems: list[str] = field(default_factory=list)  # absurd input, one sentence each
    from_subject: bool = False
    explains: bool = False  # asks why / how to / pastes an error, not for the figures
    family_only: bool = False  # the ambiguity is a family named without a size ("gemma 4")
    same_size: list[str] = field(default_factory=list)  # other models the figures hold for

    @property
    def names_machine(self) -> bool:
        return bool(self.hardware or self.cloud or self.vram_gb or self.cpu_only or self.ram_gb)

    @property
    def actionable(self) -> bool:
        """Enough to answer with the calculator (or a short question back)."""
        if self.problems and (self.models or self.names_machine or self.intent):
            return True
        if self.ambiguous:
            return True
        if (self.models or self.bare_size_b) and (self.names_machine or self.intent in (
                "memory", "needs", "cloud", "compare", "fit", "speed", "money")):
            return True
        return bool(self.names_machine and self.intent in ("biggest", "fit"))


def _keys(catalog: Catalog) -> tuple[dict[str, Model], dict[str, Hardware],
                                     dict[str, CloudInstance]]:
    models: dict[str, Model] = {}
    for m in catalog.models:
        for name in (m.id, m.name, *m.aliases):
            models.setdefault(normalize(name), m)
    hardware: dict[str, Hardware] = {}
    for h in catalog.hardware:
        for name in (h.id, h.name, *h.aliases):
            hardware.setdefault(normalize(name), h)
    clouds: dict[str, CloudInstance] = {}
    for c in catalog.clouds:
        for name in (c.id, c.name, *c.aliases):
            clouds.setdefault(normalize(name), c)
    return models, hardware, clouds


_CACHE: dict[int, tuple[dict[str, Model], dict[str, Hardware], dict[str, CloudInstance]]] = {}


def _index(catalog: Catalog) -> tuple[dict[str, Model], dict[str, Hardware],
                                      dict[str, CloudInstance]]:
    key = id(catalog)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = _keys(catalog)
    return _CACHE[key]


def _spans(tokens: list[re.Match[str]], longest: int = 4) -> list[tuple[int, int, str]]:
    """Every run of 1..longest tokens: (start token, end token, normalized text), longest
    first."""
    out = []
    for size in range(longest, 0, -1):
        for i in range(len(tokens) - size + 1):
            text = " ".join(t.group(0) for t in tokens[i: i + size])
            out.append((i, i + size, normalize(text.rstrip(".,?!:;+)]/"))))
    return out


def _family_candidates(span: str, catalog: Catalog) -> list[Model]:
    """Models a loose "family size" name could mean: "qwen 32b" -> Qwen3 32B, Qwen2.5 32B."""
    m = re.match(r"^([a-z][a-z\-]*?)(\d+(?:\.\d+)?)??(\d+(?:\.\d+)?b)$", span)
    if not m:
        return []
    family, version, size = m.group(1), m.group(2) or "", m.group(3)
    size_key = normalize(size)
    out = []
    for model in catalog.models:
        key = normalize(model.id)
        if not key.startswith(family) or not key.endswith(size_key):
            continue
        middle = key[len(family): len(key) - len(size_key)]
        if version and not middle.startswith(normalize(version)):
            continue
        if any(ch.isalpha() for ch in middle.lstrip("0123456789")):
            continue  # "qwen3-coder-30b" is not what "qwen 30b" names
        out.append(model)
    return out


# What people append to a model's name: instruct/chat builds, file formats, quantizations.
_SUFFIX = re.compile(
    r"(?:[-_.:](?:instruct|chat|it|hf|gguf|awq|gptq|fp8|fp16|bf16|int4|int8|nvfp4|mlx|qat|"
    r"base|v\d+(?:\.\d+)?|\d{4}|q\d(?:_[0-9a-z]+)*|(?:\d+)?bit|latest|gradient\S*|it-qat))+$",
    re.IGNORECASE)


def _stripped_lookup(tokens: list[re.Match[str]], start: int, end: int,
                     models: dict[str, Model]) -> Model | None:
    """A catalog model under an org prefix, a build suffix or an Ollama tag:
    "meta-llama/Meta-Llama-3.1-405B-Instruct-FP8", "gemma3:12b-it-qat", "Llama3-70B-Instruct"."""
    text = " ".join(t.group(0) for t in tokens[start:end]).rstrip(".,?!:;)]")
    text = text.split("/")[-1]
    for candidate in (text, re.sub(r"^meta[-_]", "", text, flags=re.IGNORECASE)):
        stripped = _SUFFIX.sub("", candidate)
        for form in (stripped, candidate.split("-")[0] if ":" in candidate else stripped):
            model = models.get(normalize(form))
            if model is not None:
                return model
    return None


def _same_size(models: list[Model]) -> bool:
    """Models a calculator cannot tell apart: same layers, KV heads and head size, parameters
    within 3 % (the only difference between them is the context they accept)."""
    first = models[0]
    return all(m.layers == first.layers and m.kv_heads == first.kv_heads
               and m.head_dim == first.head_dim and m.layer_groups == first.layer_groups
               and abs(m.params_b - first.params_b) <= 0.03 * first.params_b
               and abs(m.active_b - first.active_b) <= 0.03 * first.active_b for m in models)


def _find_models(text: str, catalog: Catalog, u: Understanding) -> list[tuple[int, int]]:
    models, _, _ = _index(catalog)
    tokens = list(_TOKEN.finditer(text))
    taken: list[tuple[int, int]] = []
    found: list[Model] = []
    for start, end, key in _spans(tokens):
        if any(s < end and start < e for s, e in taken) or len(key) < 3:
            continue
        model = models.get(key) or _stripped_lookup(tokens, start, end, models)
        if model is None and re.search(r"\d", key) and re.search(r"[a-z]", key):
            candidates = _family_candidates(key, catalog)
            if len(candidates) > 1 and _same_size(candidates):
                # "llama 8b": Llama 3 8B and 3.1 8B need the same memory, so the figures hold
                # for both: compute with the newest and name the others (not a guess).
                newest = max(candidates, key=lambda m: str(m.released or ""))
                u.same_size.extend(m.name for m in candidates if m is not newest)
                candidates = [newest]
            if len(candidates) == 1:
                model = candidates[0]
            elif len(candidates) > 1:
                u.ambiguous.append([c.id for c in candidates[:3]])
                taken.append((start, end))
                continue
        if model is not None:
            taken.append((start, end))
            if model not in found:
                found.append(model)
    if not found and not u.ambiguous:
        _find_family(tokens, catalog, u, taken, found)
    u.models = found
    return [(tokens[s].start(), tokens[e - 1].end()) for s, e in taken]


_SIZE_PART = re.compile(r"^(?:a|e)?\d+(?:\.\d+)?[bm]$")
_FAMILIES: dict[int, dict[str, list[Model]]] = {}


def _families(catalog: Catalog) -> dict[str, list[Model]]:
    """Models by family and version without the size: "gemma4" -> Gemma 4 31B, 26B A4B, ..."""
    key = id(catalog)
    if key not in _FAMILIES:
        _FAMILIES.clear()
        out: dict[str, list[Model]] = {}
        for model in catalog.models:
            parts = model.id.lower().split("-")
            sized = [i for i, p in enumerate(parts) if _SIZE_PART.match(p)]
            if sized and sized[0] > 0 and re.search(r"\d", "".join(parts[:sized[0]])):
                out.setdefault(normalize("".join(parts[:sized[0]])), []).append(model)
        _FAMILIES[key] = out
    return _FAMILIES[key]


def _find_family(tokens: list[re.Match[str]], catalog: Catalog, u: Understanding,
                 taken: list[tuple[int, int]], found: list[Model]) -> None:
    """A family and version without a size ("gemma 4", "qwen3.5"): one model, or a question
    back with the newest three."""
    families = _families(catalog)
    for start, end, key in _spans(tokens, longest=2):
        members = families.get(key)
        if not members:
            continue
        taken.append((start, end))
        if len(members) == 1:
            found.append(members[0])
            return
        newest = sorted(members, key=lambda m: (str(m.released or ""), m.params_b),
                        reverse=True)
        u.ambiguous.append([m.id for m in newest[:3]])
        u.family_only = True
        return


def _unique_part(key: str, names: dict[str, Hardware]) -> Hardware | None:
    """The one machine whose names contain `key` ("m5max" -> Apple M5 Max), or None."""
    hits = {id(h): h for name, h in names.items() if key in name}
    if len(hits) == 1:
        return next(iter(hits.values()))
    # "3090" is in rtx-3090 and rtx-3090-ti: the entry every other match extends wins.
    shortest = [h for name, h in names.items() if name.endswith(key) and len(name) - len(key) <= 3]
    unique = {id(h): h for h in shortest}
    return next(iter(unique.values())) if len(unique) == 1 else None


def _gpu_count(text: str, start: int, end: int) -> int:
    before = _COUNT_BEFORE.search(text[:start])
    if before:
        word = before.group(1).lower()
        return _NUMWORDS.get(word) or int(word)
    after = _COUNT_AFTER.match(text[end:])
    if after:
        return int(after.group(1))
    return 1


# Machines people name without a number.
_NAMED_MACHINES = {"dgxspark": "dgxspark", "spark": "dgxspark", "strixhalo": "strixhalo",
                   "framework desktop": "strixhalo", "frameworkdesktop": "strixhalo"}
_MEMORY = re.compile(r"(\d{1,4})\s*(?:gb|g|gib)\b", re.IGNORECASE)


def _with_memory(hw: Hardware, text: str, catalog: Catalog) -> Hardware:
    """The catalog entry of the same chip with the memory the question states ("M4 Max 48GB",
    "M3 Ultra ... 512GB"); an unlisted configuration keeps the chip's bandwidth."""
    sizes = {float(m.group(1)) for m in _MEMORY.finditer(text)}
    if hw.kind == "cpu" or not sizes or hw.memory_gb in sizes:
        return hw
    chip = re.sub(r"\s*[,(].*$|\s+\d+\s*GB.*$", "", hw.name)
    same = [h for h in catalog.hardware if h.name.startswith(chip) and h.kind == hw.kind]
    for h in same:
        if h.memory_gb in sizes:
            return h
    if hw.kind == "apple":  # Macs come in many memory sizes: keep the chip, use the size given
        size = max(s for s in sizes if s >= 8) if any(s >= 8 for s in sizes) else None
        if size and size <= 1024:
            return dataclasses.replace(hw, id=f"{hw.id}-as-{size:g}gb", memory_gb=size,
                                       name=f"{chip} {size:g} GB", custom_entry=True)
    return hw


# A partial machine name worth a substring search: a model number ("4090", "a100") or an Apple
# chip ("m3ultra"); "gpu8" from "GPU: 8" is not one.
_PARTIAL_NAME = re.compile(r"^(?=.*[a-z])(?:.*\d{3}|m\d[a-z]{3})", re.IGNORECASE)

_HW_PREFIXES = ("", "rtx", "nvidia", "geforce rtx", "apple", "amd", "radeon", "rx", "intel arc",
                "arc", "nvidia tesla")


def _find_machine(text: str, catalog: Catalog, u: Understanding,
                  skip: list[tuple[int, int]]) -> None:
    _, hardware, clouds = _index(catalog)
    tokens = [t for t in _TOKEN.finditer(text)
              if not any(s <= t.start() < e for s, e in skip)]
    for _, _, key in _spans(tokens, longest=2):  # instances first: "ml.p5.48xlarge (8xH100)"
        cloud = clouds.get(key) or clouds.get(re.sub(r"^ml", "", key))
        if cloud is not None:
            u.cloud = cloud
            return
    for start, end, key in _spans(tokens):
        inner = re.match(r"^(\d{1,3})x(.+)$", key)  # "8xh100" written as one word
        if inner and re.search(r"[a-z]", inner.group(2)):
            key = inner.group(2)
        if not re.search(r"\d", key) and key not in clouds and key not in _NAMED_MACHINES:
            continue
        key = _NAMED_MACHINES.get(key, key)
        if key in clouds:
            u.cloud = clouds[key]
            return
        if re.fullmatch(r"\d+", key) and re.match(r"\s*(k\b|tokens|ctx|context|b\b|gb|w\b)",
                                                  text[tokens[end - 1].end():], re.I):
            continue  # "4096 tokens", "8192 context": a number, not a card
        hw = None
        singular = key[:-1] if key.endswith("s") and re.search(r"\d", key[:-1]) else key
        unit_less = re.sub(r"^([a-z]+\d{2,4})(?:gb|g)$", r"\1", singular)  # "A100GB"
        for form in dict.fromkeys((key, singular, unit_less)):
            for prefix in _HW_PREFIXES:
                hw = hardware.get(normalize(prefix) + form)
                if hw is not None:
                    break
            if hw is not None:
                break
        if hw is None and _PARTIAL_NAME.search(singular):
            hw = _unique_part(singular, hardware)
        if hw is not None:
            u.hardware = _with_memory(hw, text, catalog)
            u.gpus = int(inner.group(1)) if inner else _gpu_count(
                text, tokens[start].start(), tokens[end - 1].end())
            return


def _intent(text: str, u: Understanding) -> None:
    for intent, pattern in _INTENTS:
        if not pattern.search(text):
            continue
        if intent == "compare" and len(u.models) < 2 and not re.search(
                r"\b(vs\.?|versus|compare)\b", text, re.I):
            continue
        if intent == "cloud" and not (u.cloud or re.search(r"\b(instance|rent|cloud)\b", text,
                                                           re.I)):
            continue
        u.intent = intent
        return


def understand(question: str, catalog: Catalog, subject: str | None = None) -> Understanding:
    """Read what a question names and asks.

    Args:
        question: the person's words.
        catalog: the loaded catalogs.
        subject: what the conversation is about (a thread's first question, a right-clicked
            message, `--about`); "it" and "this model" resolve to the model it names.
    """
    u = Understanding()
    text = " ".join(question.split())
    spans = _find_models(text, catalog, u)
    _find_machine(text, catalog, u, spans)
    read_quant(text, u)
    read_context(text, u)
    read_numbers(text, u)
    if not u.models and not u.ambiguous:
        sizes = [m for m in _BARE_SIZE.finditer(text)
                 if not any(s <= m.start() < e for s, e in spans)]
        if sizes:
            u.bare_size_b = float(sizes[0].group(1))
    if not u.models and not u.ambiguous and subject and (
            _FOLLOW.search(text) or (u.names_machine and looks_like_follow_up(text))):
        about = understand(subject, catalog)
        if about.models:
            u.models, u.from_subject = about.models, True
            u.ambiguous = []
    _intent(text, u)
    u.explains = bool(_EXPLAIN.search(text) and not _FIGURES_ASKED.search(text))
    if u.family_only and (u.explains or not (u.names_machine or u.intent in _SIZED_INTENTS)):
        u.ambiguous, u.family_only = [], False  # "is qwen3 good at code": not a sizing question
    if u.intent is None and u.models and u.names_machine:
        u.intent = "fit"
    bare_count = _GPU_WORD.search(text)
    if bare_count and u.hardware is None and u.cloud is None:
        u.gpus = int(bare_count.group(1).replace(",", ""))
    if u.gpus <= 0:
        u.problems.append("A machine needs at least one GPU.")
    elif u.gpus > MAX_GPUS:
        u.problems.append(f"{u.gpus:,} GPUs is beyond what the calculator models (up to "
                          f"{MAX_GPUS}); split the question per server.")
    return u
