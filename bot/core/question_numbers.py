"""The numbers in a question about running a model: quantization, context, users, prices,
power, memory sizes. Each reader fills the `Understanding` and notes absurd values as one-line
problems instead of guessing."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.understand import Understanding

MAX_CONTEXT = 10_000_000

_QUANT_NAME = re.compile(r"(?<![A-Za-z0-9])(I?Q[1-8]_(?:[0-9A-Z]+)(?:_[0-9A-Z]+)?|Q[1-8]K[SML]|"
                         r"F16|BF16|F32|MXFP4)(?![A-Za-z0-9])", re.IGNORECASE)
_BITS = re.compile(r"(?<![A-Za-z0-9.])(-?\d{1,2})[\s-]?bits?\b|\bint(4|8)\b|"
                   r"(?<![A-Za-z0-9])q(2|3|4|5|6|8)(?![0-9_])|(\d)q\b", re.IGNORECASE)
_FP = re.compile(r"(?<![A-Za-z0-9])(fp16|bf16|f16|16[\s-]?bit|half precision|fp8|awq|gptq|"
                 r"nvfp4|nf4|qat)(?![A-Za-z0-9])", re.IGNORECASE)
# bitsandbytes named without a bit count: its 8-bit mode (TGI's `--quantize bitsandbytes`).
_BNB = re.compile(r"\b(bitsandbytes|bnb)\b", re.IGNORECASE)
_CONTEXT = re.compile(
    r"(?<![\w.$~])(-?\d[\d,]*(?:\.\d+)?)\s*(k|m)?\s*(?:tokens?\s+(?:of\s+)?)?"
    r"(?:context|ctx|token context|context window|tokens? of context)\b|"
    r"\b(?:context|ctx)(?:\s+(?:length|window|size|of))?\s*(?:of|=|:|to)?\s*"
    r"(-?\d[\d,]*(?:\.\d+)?)\s*(k|m)?\b|(?<![\w.$~])(\d[\d,]*)\s*(k)?\s+tokens\b"
    r"(?!\s*(?:/|per\b|a\s+sec|each\s+sec|every\s+sec|ps\b))",
    re.IGNORECASE)
_USERS = re.compile(r"\b(\d{1,5})\s+(?:concurrent\s+|simultaneous\s+|parallel\s+)?"
                    r"(?:users|people|requests|sessions|streams|clients)\b", re.IGNORECASE)
_MONEY_HOUR = re.compile(r"\$\s?(-?\d+(?:\.\d+)?)\s*(?:/|per|an|a)\s*(?:hr|hour|h)\b",
                         re.IGNORECASE)
_MONEY_KWH = re.compile(r"\$\s?(-?\d+(?:\.\d+)?)\s*(?:/|per|a)\s*kwh\b", re.IGNORECASE)
_WATTS = re.compile(r"(?<![\w.])(\d{2,5})\s?w(?:atts?)?\b", re.IGNORECASE)
_RAM = re.compile(r"(-?\d{1,5})\s*(gb|gib|g)\s*(?:of\s+)?(?:system\s+|ddr\d\s+|cpu\s+)?"
                  r"(?:ram|memory|system memory|ddr\d?)\b", re.IGNORECASE)
# A memory size that describes a card ("8gb laptop gpu", "GPU has 4GB", "8*24G gpus"), not one a
# model uses ("145GB VRAM usage", "takes 20 GB of VRAM").
_VRAM = re.compile(
    r"(?<!\buses )(?<!\btakes )(?<!\bneeds )(?<!\bup to )"
    r"(-?\d{1,4}(?:\.\d+)?)\s*(gb|gib|g)\s*(?:of\s+)?(?:vram|gpus?|graphics cards?|cards?|"
    r"laptop gpu|video memory)\b(?!\s+(?:usage|used|use|consumption)\b)|"
    r"(?:gpu|card|vram)\s+(?:has|with|of)\s+(-?\d{1,4})\s*(gb|gib|g)\b",
    re.IGNORECASE)
_VRAM_COUNT = re.compile(r"(?<![\w.])(\d{1,3})\s*(?:x|×|\*)\s*$", re.IGNORECASE)
# A card the catalog does not list, with its memory: "RTX 2060 8GB", "GTX 1080 Ti 11 GB".
_UNLISTED_CARD = re.compile(
    r"\b((?:rtx|gtx|rx|arc|quadro|tesla)\s?-?[a-z]?\d{3,4}(?:\s?(?:ti|super|xtx|xt|m))?)"
    r"\s*(?:with\s+|\(|,\s*)?(\d{1,3})\s*(?:gb|gib|g)\b", re.IGNORECASE)
_CPU_ONLY = re.compile(r"\b(cpu[\s-]only|no gpu|without (?:a )?gpu|on (?:the |my )?cpu|"
                       r"just (?:the )?cpu|cpu inference)\b", re.IGNORECASE)


def read_quant(text: str, u: Understanding) -> None:
    """The quantization a question names: "Q4_K_M", "4-bit", "q8", "fp16", "AWQ", "QAT"."""
    named = _QUANT_NAME.search(text)
    if named:
        quant = named.group(1).upper()
        compact = re.fullmatch(r"Q(\d)K([SML])", quant)
        u.quant = f"Q{compact.group(1)}_K_{compact.group(2)}" if compact else (
            quant)
        return
    fp = _FP.search(text)
    if fp:
        word = fp.group(1).lower()
        if word == "qat":
            u.quant, u.quant_note = "Q4_0", "a QAT build sized as Q4_0, the format it ships in"
        elif word in ("awq", "gptq", "nvfp4", "nf4"):
            u.quant, u.quant_note = "Q4_K_M", f"{fp.group(1)} sized as a 4-bit GGUF (Q4_K_M)"
        elif word == "fp8":
            u.quant, u.quant_note = "Q8_0", "FP8 sized as an 8-bit GGUF (Q8_0)"
        else:
            u.quant = "F16"
        return
    bits = _BITS.search(text)
    if bits:
        n = int(next(g for g in bits.groups() if g))
        table = {2: "Q2_K", 3: "Q3_K_M", 4: "Q4_K_M", 5: "Q5_K_M", 6: "Q6_K", 8: "Q8_0",
                 16: "F16"}
        if n in table:
            u.quant = table[n]
        elif n <= 1 or n > 32 or n < 0:
            u.problems.append(f"{n}-bit weights do not exist; pick 2 to 16 bits.")
        return
    if _BNB.search(text):
        u.quant, u.quant_note = "Q8_0", "bitsandbytes' 8-bit mode sized as an 8-bit GGUF (Q8_0)"


def _number(value: str, scale: str | None) -> float:
    number = float(value.replace(",", ""))
    return number * {"k": 1024 if number < 1000 else 1000, "m": 1_000_000}.get(
        (scale or "").lower(), 1)


# "N tokens" with no word for context counts as one only from this size, and never after a word
# for output ("generate 48 tokens", "max_tokens 512").
MIN_BARE_CONTEXT = 1024
_OUTPUT_TOKENS = re.compile(r"\b(generat\w*|output|outputs|produc\w*|writ\w*|max_tokens|"
                            r"max_new_tokens|n_predict|reply|answer)\W+(?:\w+\W+)?$", re.I)


_THROUGHPUT = re.compile(r"\btokens?\s*(?:/\s*s|per\s+sec)|\b(?:tok/s|t/s|tps)\b", re.I)


def read_context(text: str, u: Understanding) -> None:
    """The context a question names: "64k context", "120K", "context of 8192", "20k tokens"."""
    m = _CONTEXT.search(text)
    if not m:
        return
    value, scale = (m.group(1), m.group(2)) if m.group(1) else (
        (m.group(3), m.group(4)) if m.group(3) else (m.group(5), m.group(6)))
    if m.group(5) and (_OUTPUT_TOKENS.search(text[:m.start()]) or _THROUGHPUT.search(text) or (
            not scale and float(value.replace(",", "")) < MIN_BARE_CONTEXT)):
        # "generate 48 tokens", "300 tokens": an output length, not a context; beside a speed
        # ("2000 tokens per second ... the page states 6552 tokens") a bare count is a speed too
        return
    number = _number(value, scale)
    base = float(value.replace(",", ""))
    if (scale or "").lower() == "k":
        # "64k context" means 65,536 tokens (a power of two); "20k" and "125k" mean thousands.
        number = base * (1024 if base in (4, 8, 16, 32, 64, 128, 256, 512, 1024) else 1000)
    elif (scale or "").lower() == "m":
        number = base * (1 << 20 if base in (1, 2, 4, 8) else 1_000_000)
    if number <= 0:
        u.problems.append(f"A context of {value} tokens is not possible; use 1 token or more.")
    elif number > MAX_CONTEXT:
        u.problems.append(f"A context of {int(number):,} tokens is beyond any model in the "
                          "catalog.")
    else:
        u.context = int(number)


def read_numbers(text: str, u: Understanding) -> None:
    """Users, prices, power, system RAM, a bare GPU memory size and "CPU only"."""
    users = _USERS.search(text)
    if users:
        u.users = int(users.group(1))
    for pattern, attr in ((_MONEY_HOUR, "usd_per_hour"), (_MONEY_KWH, "usd_per_kwh")):
        hit = pattern.search(text)
        if hit:
            value = float(hit.group(1))
            if value < 0:
                u.problems.append(f"A price of ${value:g} is not possible; prices are 0 or more.")
            else:
                setattr(u, attr, value)
    watts = _WATTS.search(text)
    if watts:
        u.power_w = float(watts.group(1))
    ram = _RAM.search(text)
    if ram:
        value = float(ram.group(1))
        if value <= 0:
            u.problems.append(f"{ram.group(1)} GB of RAM is not possible; give the memory size.")
        else:
            u.ram_gb = value
    vram = _VRAM.search(text)
    if vram and u.hardware is None:
        value = float(vram.group(1) or vram.group(3))
        if value <= 0:
            u.problems.append(f"{value:g} GB of GPU memory is not possible.")
        elif value <= 1024:
            u.vram_gb = value
            count = _VRAM_COUNT.search(text[:vram.start()])
            if count and u.gpus == 1:
                u.gpus = int(count.group(1))
    card = _UNLISTED_CARD.search(text)
    if card and u.hardware is None and u.cloud is None and u.vram_gb is None:
        value = float(card.group(2))
        if 0 < value <= 1024:
            u.vram_gb = value
            u.card_name = " ".join(card.group(1).upper().replace("-", " ").split())
    u.cpu_only = bool(_CPU_ONLY.search(text))
