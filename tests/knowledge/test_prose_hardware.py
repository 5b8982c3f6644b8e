"""Prose figures for catalog hardware must agree with knowledge/data/hardware.yaml.

The knowledge pages state memory sizes ("the RTX 4090 has 24 GB") and memory bandwidth
("M3 Ultra (819 GB/s)") in prose, and the cost calculator reads the same figures from
hardware.yaml. When the two drift apart the bot contradicts itself. This module scans every
knowledge/**/*.md page for such figures and compares them with the catalog.

The extractor is deliberately conservative, because a false alarm is worse than a miss here:

* a figure counts only when it is attached to the name in the same clause: right after the name
  in parentheses ("M3 Ultra (819 GB/s)"), after a linking word ("has", "with", "at", ":",
  "'s"), as a comma/"and" list of specifications that starts there ("has 24 GB of GDDR6X,
  1,008 GB/s of bandwidth and ..."), or a memory size written as part of the name ("a 128 GB
  M4 Max", "RTX 3060 12 GB");
* linking words and specification lists are only followed in sentences that name exactly one
  catalog machine and no machine the catalog lacks (an "RTX 4070 Ti", an "M2 Pro"). In a sentence
  comparing several machines only the positional forms count: a parenthesis right after a name
  and a size written as part of it ("an M3 Max (400 GB/s) and an M3 Ultra (819 GB/s)");
* a figure followed by words such as "model", "file", "context", "in total", "measured" or
  "usable" is about a model, a group of cards or a measurement, not the machine's specification,
  and is ignored; so are figures after a count ("8 NVIDIA A100", "two 3090s").

A figure agrees when ANY catalog entry with the same chip name has it (Apple chips and several
GPUs come in more than one configuration): memory must equal one of the sizes, bandwidth must be
within 2 % of one of the bandwidths. Sourced configurations the catalog has no entry for (a
32 GB M1 Max, a 24 GB M5) are listed in OTHER_CONFIGURATIONS. CPU entries (DDR4/DDR5 system
memory) are generic memory set-ups rather than named machines and are not checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

KB_DIR = Path(__file__).resolve().parents[2] / "knowledge"
HARDWARE_YAML = KB_DIR / "data" / "hardware.yaml"

BANDWIDTH_TOLERANCE = 0.02  # relative; "about 300 GB/s", 68 vs 68.25 GB/s

# ----------------------------------------------------------------------------- catalog names

_VENDOR_RE = re.compile(
    r"^(?:NVIDIA|AMD|Intel|Apple)\s+(?:GeForce\s+|Radeon\s+|Instinct\s+|Tesla\s+)?"
)
# words that turn one product into another when they follow a name ("RTX 4070" -> "RTX 4070 Ti")
_VARIANT_WORDS = {
    "ti",
    "super",
    "xt",
    "xtx",
    "gre",
    "laptop",
    "mobile",
    "max",
    "max+",
    "pro",
    "ultra",
    "nvl",
}
# things that look like a machine name even when the catalog lacks them
_GENERIC_MACHINE_RE = re.compile(
    r"(?<![A-Za-z0-9\-])(?:"
    r"(?:RTX|GTX|RX)[\s-]?\d{3,4}(?:\s?(?:Ti|Super|XTX|XT|GRE))?"
    r"|M[1-9](?:\s(?:Pro|Max|Ultra))?"
    r"|MI\d{3}X?"
    r"|[ABHLTP]\d{1,3}[A-Z]?"
    r"|GB\d{2,3}"
    r"|R\d{4}"
    r")(?![A-Za-z0-9])"
)


def chip_name(entry_name: str) -> str:
    """The chip a catalog entry is one version of: "NVIDIA GeForce RTX 4090 24 GB" -> "RTX 4090".

    Entries with the same chip name are one product in several memory or form-factor versions
    (A100 40/80 GB, H100 SXM/PCIe, M3 Ultra 96/512 GB, M4 Max 36/64/128 GB, ...).
    """
    s = re.sub(r"\([^)]*\)", " ", entry_name)
    s = s.split(",")[0]
    s = _VENDOR_RE.sub("", s.strip())
    s = re.sub(r"\b\d+(?:\.\d+)?\s*GB\b", " ", s)
    s = re.sub(r"\b(?:SXM\d?|PCIe)\b", " ", s)
    return " ".join(s.split())


@dataclass
class Chip:
    name: str
    ids: list[str] = field(default_factory=list)
    memory_gb: set[float] = field(default_factory=set)
    bandwidth_gbps: set[float] = field(default_factory=set)

    def memory_agrees(self, value: float) -> bool:
        return any(abs(value - m) < 1e-6 for m in self.memory_gb)

    def bandwidth_agrees(self, value: float) -> bool:
        return any(abs(value - b) <= BANDWIDTH_TOLERANCE * b for b in self.bandwidth_gbps)


@dataclass
class NamePattern:
    regex: re.Pattern[str]
    chip: str
    text: str  # the alias or name it was built from


def _alias_is_usable(alias: str, chip: Chip) -> bool:
    """Aliases that carry a memory size ("m3 ultra 512gb", "a100-40g", "m4 max 128") are left out:
    the plain chip name still matches, and the size that follows is then checked as a figure."""
    a = alias.lower()
    if re.search(r"(?<![a-z0-9])\d+\s*gb?\b", a):
        return False
    last = re.search(r"\s(\d+)$", a)
    return not (last and float(last.group(1)) in chip.memory_gb)


def _pattern_for(alias: str) -> re.Pattern[str]:
    tokens = [t for t in re.split(r"[\s\-]+", alias.strip()) if t]
    body = r"[\s\-]?".join(re.escape(t) for t in tokens)
    compact = "".join(tokens)
    # bare model numbers ("4090", "two 3090s"): not part of a larger number, a price or a range
    prefix = r"(?<![\d.,$/\-])" if compact.isdigit() else r"(?<![A-Za-z0-9])"
    end = r"(?![A-Za-z0-9])"
    suffix = r"(?:s" + end + r")?" + end if compact[-1].isdigit() else end  # plural: "3090s"
    # short names ("M4", "L4", "T4", "B60") must be written in capitals, as product names are
    flags = 0 if len(compact) <= 3 else re.IGNORECASE
    if flags == 0:
        body = body.upper()
    return re.compile(prefix + body + suffix, flags)


@dataclass
class Catalog:
    chips: dict[str, Chip]
    patterns: list[NamePattern]


def build_catalog(entries: list[dict]) -> Catalog:
    chips: dict[str, Chip] = {}
    for e in entries:
        if e.get("kind") == "cpu":
            continue
        name = chip_name(e["name"])
        chip = chips.setdefault(name, Chip(name))
        chip.ids.append(e["id"])
        chip.memory_gb.add(float(e["memory_gb"]))
        chip.bandwidth_gbps.add(float(e["bandwidth_gbps"]))
    patterns: list[NamePattern] = []
    seen: set[tuple[str, str]] = set()
    for e in entries:
        if e.get("kind") == "cpu":
            continue
        name = chip_name(e["name"])
        chip = chips[name]
        for alias in [name, *e.get("aliases", [])]:
            key = (" ".join(re.split(r"[\s\-]+", alias.lower())), name)
            if key in seen or not _alias_is_usable(alias, chip):
                continue
            seen.add(key)
            patterns.append(NamePattern(_pattern_for(alias), name, alias))
    return Catalog(chips, patterns)


# Configurations that are sold (and that the pages mention) but have no entry of their own in
# hardware.yaml, which keeps one or two common configurations per Apple chip. Each needs a source.
OTHER_CONFIGURATIONS: dict[str, dict[str, set[float]]] = {
    # XiongjieDai/GPU-Benchmarks-on-LLM-Inference README: "M1 Max 24-Core GPU 32GB",
    # "M1 7-Core GPU 8GB", "M3 Max 40-Core GPU 48GB" test machines
    "M1 Max": {"memory_gb": {32}},
    "M1": {"memory_gb": {8}},
    # the same README (48 GB); hardware.yaml's apple-m3-max-64gb comment: the 30-core-GPU M3 Max
    # comes with 36 GB and 300 GB/s
    "M3 Max": {"memory_gb": {36, 48}, "bandwidth_gbps": {300}},
    # hardware.yaml apple-m5-16gb comment (Ars Technica copy): M5 with 16, 24 or 32 GB
    "M5": {"memory_gb": {24}},
}


def load_catalog() -> Catalog:
    data = yaml.safe_load(HARDWARE_YAML.read_text(encoding="utf-8"))
    catalog = build_catalog(data["hardware"])
    for name, extra in OTHER_CONFIGURATIONS.items():
        chip = catalog.chips[name]
        chip.memory_gb |= {float(m) for m in extra.get("memory_gb", set())}
        chip.bandwidth_gbps |= {float(b) for b in extra.get("bandwidth_gbps", set())}
    return catalog


# ----------------------------------------------------------------------------- name matching


@dataclass
class NameHit:
    start: int
    end: int
    chip: str | None  # None: a machine the catalog does not have


def find_names(sentence: str, catalog: Catalog) -> list[NameHit]:
    """Catalog names in a sentence, longest match first, plus look-alike names the catalog lacks."""
    candidates: list[tuple[int, int, str]] = []
    for p in catalog.patterns:
        for m in p.regex.finditer(sentence):
            candidates.append((m.start(), m.end(), p.chip))
    candidates.sort(key=lambda c: (-(c[1] - c[0]), c[0]))
    taken: list[NameHit] = []
    for start, end, chip in candidates:
        if any(start < h.end and h.start < end for h in taken):
            continue
        # "RTX 4070" followed by "Ti" is a different card (one the catalog may not have)
        nxt = re.match(r"[\s\-]?([A-Za-z+]+)", sentence[end:])
        if nxt and nxt.group(1).lower() in _VARIANT_WORDS:
            taken.append(NameHit(start, end + nxt.end(), None))
        else:
            taken.append(NameHit(start, end, chip))
    for m in _GENERIC_MACHINE_RE.finditer(sentence):
        if not any(m.start() < h.end and h.start < m.end() for h in taken):
            taken.append(NameHit(m.start(), m.end(), None))
    return sorted(taken, key=lambda h: h.start)


# ----------------------------------------------------------------------------- figure extraction

_NUM = r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_FIGURE_RE = re.compile(_NUM + r"\s?(GB/s|TB/s|GB(?![/A-Za-z]))")
_QUALIFIER = (
    r"(?:(?:about|around|roughly|approximately|nearly|almost|only|just|up\s+to|over|some)\s+|~\s*)?"
)
_PART_START_RE = re.compile(r"\s*" + _QUALIFIER + r"(?=\$?\d)")
# linking words between a name and its first specification
_LINK_RE = re.compile(
    r"(?:['\u2019]s)?"
    r"(?:\s*[:\u2014\u2013]\s*|\s+-\s+"
    r"|\s+(?:(?:memory\s+)?bandwidth\s+(?:is|of)|(?:vram|memory)\s+is"
    r"|has|have|had|offers|provides|gives|brings|comes\s+with|ships\s+with|with|at|pairs)\s+"
    r"|(?<=s)\s+)",  # the possessive alone: "the RTX 3060's 360 GB/s"
    re.IGNORECASE,
)
_VENDOR_WORDS = r"(?:(?:NVIDIA|GeForce|AMD|Radeon|Intel|Apple|Instinct|Tesla)\s+)*"
# a memory size written right before the name: "a 128 GB M4 Max", "the 24 GB RTX 4090"
_BEFORE_RE = re.compile(_NUM + r"\s?GB(?:\s|-)" + _VENDOR_WORDS + r"$")
# a size right after the name that belongs to it: "RTX 3060 12 GB has ...", "RTX 4060 Ti 16GB"
# a core count after the name: "M3 Max 40-core (400 GB/s)", "M1 Max 32-core GPU"
# or the Mac it sits in: "an M3 Ultra Mac Studio (819 GB/s)"
_CORES_RE = re.compile(
    r"(?:\s+\d+[\-\u2011 ]core(?:\s+GPU)?"
    r"|\s+(?:Mac\s+Studio|Mac\s+mini|Mac\s+Pro|MacBook\s+(?:Pro|Air)))+",
    re.IGNORECASE,
)
_INLINE_SIZE_RE = re.compile(r"[\s\-]?" + _NUM + r"\s?GB(?![/A-Za-z])")
# a count before the name: several cards, whose figures may be totals
_COUNT_BEFORE_RE = re.compile(
    r"(?:\b\d+|\b(?:two|three|four|six|eight|dual|quad|multiple|several))\s*(?:x|\u00d7)?\s*"
    + _VENDOR_WORDS
    + r"$",
    re.IGNORECASE,
)
# words after a figure that show it is about a model, a file or a context, not the machine
_NOT_A_SPEC = re.compile(
    r"\b(?:models?|weights?|files?|context|cache|kv|free|left|spare|needed|needs?|used|use|for|per|"
    r"tokens?|each|download|checkpoint|quant\w*|q\d\w*|fp\d+|f16|bf16|int\d|"
    # a measured or summed figure is not the spec: "about 215 GB/s measured", "320 GB in total"
    r"measured|measures|in\s+practice|effective|total|combined|together|aggregate|"
    # what software can use or reports, not the card's size: "T4 (about 15 GB usable)"
    r"usable|available|visible|reported|reports|allocatable)\b",
    re.IGNORECASE,
)


@dataclass
class Figure:
    kind: str  # "memory" or "bandwidth"
    value: float  # GB or GB/s
    text: str  # as written


def _number(s: str) -> float:
    return float(s.replace(",", ""))


def _split_parts(text: str) -> list[str]:
    """Split a specification list at commas, semicolons and "and", outside parentheses."""
    parts, depth, buf, i = [], 0, [], 0
    while i < len(text):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                break  # the end of the enclosing parenthesis
            depth -= 1
        elif depth == 0 and (ch in ",;" or text.startswith(" and ", i)):
            # "1,008": a comma inside a number is not a separator
            in_number = 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()
            if ch == "," and in_number:
                buf.append(ch)
                i += 1
                continue
            parts.append("".join(buf))
            buf = []
            i += 5 if text.startswith(" and ", i) else 1
            continue
        elif depth == 0 and ch in ".!?" and (i + 1 == len(text) or text[i + 1] == " "):
            break
        buf.append(ch)
        i += 1
    parts.append("".join(buf))
    return parts


def _figures_in_list(text: str) -> list[Figure]:
    """Figures at the start of each part of a specification list; stops at the first part that
    does not start with a number (a new clause)."""
    out: list[Figure] = []
    for part in _split_parts(text):
        start = _PART_START_RE.match(part)
        if not start:
            break
        rest = part[start.end() :]
        m = _FIGURE_RE.match(rest)
        if not m:
            continue  # another specification: "192-bit", "170 W", "$599"
        trailing = rest[m.end() :]
        trailing = trailing.split("(")[0]
        if _NOT_A_SPEC.search(trailing):
            continue
        out.append(_make_figure(m))
        # "up to 128 GB at 614 GB/s": a bandwidth joined to the size by "at"
        at = re.match(r"\s+at\s+" + _QUALIFIER + r"(?=\d)", trailing)
        bandwidth = _FIGURE_RE.match(trailing, at.end()) if at else None
        if bandwidth and bandwidth.group(2) in ("GB/s", "TB/s"):
            out.append(_make_figure(bandwidth))
    return out


def _closing_paren(text: str, start: int) -> int | None:
    """Index just after the ")" closing a parenthesis opened before start."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            if depth == 0:
                return i + 1
            depth -= 1
    return None


def _make_figure(m: re.Match[str]) -> Figure:
    value = _number(m.group(1))
    unit = m.group(2)
    if unit == "TB/s":
        return Figure("bandwidth", value * 1000, m.group(0))
    if unit == "GB/s":
        return Figure("bandwidth", value, m.group(0))
    return Figure("memory", value, m.group(0))


def extract_figures(sentence: str, catalog: Catalog) -> list[tuple[str, Figure]]:
    """(chip, figure) pairs for the figures attached to catalog names in a sentence.

    A sentence naming exactly one catalog machine (and no machine the catalog lacks) gets the
    full treatment. A sentence naming several machines only yields the figures whose attachment
    is positional and cannot belong to another name: a size written as part of the name
    ("RTX 3060 12 GB", "a 128 GB M4 Max") or a parenthesis right after it ("M3 Ultra (819 GB/s)").
    """
    hits = find_names(sentence, catalog)
    chips = {h.chip for h in hits}
    if not chips:
        return []
    single = len(chips) == 1 and None not in chips
    out: list[tuple[str, Figure]] = []
    for hit in hits:
        if hit.chip is None:
            continue
        figures: list[Figure] = []
        pos = hit.end
        cores = _CORES_RE.match(sentence, pos)
        if cores:
            pos = cores.end()
        inline = _INLINE_SIZE_RE.match(sentence, pos)
        if inline:
            figures.append(Figure("memory", _number(inline.group(1)), inline.group(0).strip()))
            pos = inline.end()
        # "8 NVIDIA A100", "two 3090s": later figures may be for the whole set
        several = _COUNT_BEFORE_RE.search(sentence[: hit.start]) or sentence[
            hit.start : hit.end
        ].endswith("s")
        if not several:
            before = _BEFORE_RE.search(sentence[: hit.start])
            if before:
                figures.append(Figure("memory", _number(before.group(1)), before.group(0).strip()))
            paren = re.compile(r"(?:['\u2019]s)?\s*\(").match(sentence, pos)
            close = _closing_paren(sentence, paren.end()) if paren else None
            if paren:
                in_paren = _figures_in_list(sentence[paren.end() :])
                figures += in_paren
                if not in_paren and close is not None:
                    pos = close  # "M5 Pro (announced March 3, 2026): up to 64 GB at 307 GB/s"
            if single and (not paren or pos == close):
                link = _LINK_RE.match(sentence, pos)
                if link and link.end() > pos:
                    figures += _figures_in_list(sentence[link.end() :])
        out += [(hit.chip, f) for f in figures]
    return out


@dataclass
class Disagreement:
    chip: str
    figure: Figure
    catalog: str

    def describe(self) -> str:
        return f"{self.chip}: prose {self.figure.text!r}, catalog {self.catalog}"


def check_sentence(sentence: str, catalog: Catalog) -> tuple[int, list[Disagreement]]:
    """(how many figures were checked, the ones that disagree with the catalog)."""
    pairs = extract_figures(sentence, catalog)
    bad: list[Disagreement] = []
    for chip_key, f in pairs:
        chip = catalog.chips[chip_key]
        if f.kind == "memory" and not chip.memory_agrees(f.value):
            sizes = ", ".join(f"{m:g} GB" for m in sorted(chip.memory_gb))
            bad.append(Disagreement(chip_key, f, f"{sizes} ({', '.join(chip.ids)})"))
        elif f.kind == "bandwidth" and not chip.bandwidth_agrees(f.value):
            bws = ", ".join(f"{b:g} GB/s" for b in sorted(chip.bandwidth_gbps))
            bad.append(Disagreement(chip_key, f, f"{bws} ({', '.join(chip.ids)})"))
    return len(pairs), bad


# ----------------------------------------------------------------------------- markdown sentences


def iter_sentences(markdown: str) -> list[str]:
    """Prose sentences of a knowledge page: no front matter, code blocks or markup; wrapped lines
    joined; list items, headings and table rows kept apart."""
    text = markdown
    if text.startswith("---"):
        end = text.find("\n---", 3)
        text = text[end + 4 :] if end != -1 else ""
    text = re.sub(r"```.*?```", "\n", text, flags=re.DOTALL)
    blocks: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        new_block = (
            not stripped
            or stripped.startswith("#")
            or stripped.startswith("|")
            or re.match(r"^(?:[-*+]|\d+[.)])\s", stripped) is not None
        )
        if new_block and current:
            blocks.append(" ".join(current))
            current = []
        if stripped:
            current.append(stripped)
        if stripped.startswith("#") or stripped.startswith("|"):
            blocks.append(" ".join(current))
            current = []
    if current:
        blocks.append(" ".join(current))
    sentences: list[str] = []
    for block in blocks:
        block = re.sub(r"^(?:#+|[-*+]|\d+[.)])\s+", "", block)
        block = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", block)
        block = block.replace("`", "").replace("**", "").replace("__", "")
        for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9(\"\u201c])", block):
            if s.strip():
                sentences.append(s.strip())
    return sentences


Finding = tuple[str, str, Disagreement]  # file, sentence, disagreement


def scan_knowledge(kb_dir: Path, catalog: Catalog) -> tuple[int, list[Finding]]:
    checked = 0
    found: list[Finding] = []
    for path in sorted(kb_dir.rglob("*.md")):
        rel = str(path.relative_to(kb_dir))
        for sentence in iter_sentences(path.read_text(encoding="utf-8")):
            n, bad = check_sentence(sentence, catalog)
            checked += n
            found += [(rel, sentence, d) for d in bad]
    return checked, found


# ----------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_knowledge_prose_agrees_with_hardware_catalog(catalog: Catalog) -> None:
    checked, found = scan_knowledge(KB_DIR, catalog)
    # the scan must actually see figures, or a broken extractor would pass silently
    assert checked >= 20, f"only {checked} hardware figures found in the knowledge pages"
    report = "\n\n".join(
        f"{rel}\n  sentence: {sentence}\n  {d.describe()}" for rel, sentence, d in found
    )
    assert not found, (
        f"{len(found)} prose figure(s) disagree with knowledge/data/hardware.yaml:\n\n{report}"
    )


def test_chip_names_are_derived_from_catalog_names() -> None:
    assert chip_name("NVIDIA GeForce RTX 4090 24 GB") == "RTX 4090"
    assert chip_name("Apple M3 Ultra, 96 GB unified memory (Mac Studio 2025 base)") == "M3 Ultra"
    m4_max_36 = "Apple M4 Max (32-core GPU), 36 GB unified memory (Mac Studio 2025 base)"
    assert chip_name(m4_max_36) == "M4 Max"
    assert chip_name("AMD Instinct MI300X 192 GB") == "MI300X"
    assert chip_name("NVIDIA A100 80 GB PCIe") == "A100"
    assert chip_name("NVIDIA H100 NVL 94 GB (PCIe)") == "H100 NVL"
    assert chip_name("AMD Radeon RX 7900 XTX 24 GB") == "RX 7900 XTX"


def test_every_catalog_entry_is_recognised_in_a_spec_sentence(catalog: Catalog) -> None:
    """Each chip's own name, in a plain sentence, yields its catalog figures and they agree."""
    for chip in catalog.chips.values():
        mem, bw = max(chip.memory_gb), max(chip.bandwidth_gbps)
        sentence = f"The {chip.name} has {mem:g} GB of memory and {bw:g} GB/s of bandwidth."
        n, bad = check_sentence(sentence, catalog)
        assert n == 2 and not bad, (chip.name, sentence, n, bad)
        wrong_bw = f"{bw * 1.1:.0f} GB/s"
        wrong = f"The {chip.name} has {mem + 3:g} GB of memory and {wrong_bw} of bandwidth."
        n, bad = check_sentence(wrong, catalog)
        assert n == 2 and len(bad) == 2, (chip.name, wrong, n, bad)


@pytest.mark.parametrize(
    "sentence",
    [
        "The RTX 4090 has 24 GB of GDDR6X, 1,008 GB/s of bandwidth and a 450 W board power.",
        "Apple's top chip, the M3 Ultra (819 GB/s, 96 GB to 512 GB), is fast.",
        "A 128 GB M4 Max holds a 70B model at Q8_0.",
        "The 36 GB base Mac Studio M4 Max has 410 GB/s.",  # another configuration of the same chip
        "NVIDIA H100: about 3.35 TB/s.",
        "- NVIDIA L4: 24 GB GDDR6, about 300 GB/s, 72 W.",
        "Its bandwidth is lower than the RTX 3060's 360 GB/s.",
        "M5 Max (same dates): up to 128 GB at 614 GB/s, up to 40 GPU cores.",
        "M3 Max 40-core (400 GB/s), Llama 3 8B Q4_K_M: 48.97 tokens/s.",
        "Or an M3 Ultra Mac Studio (819 GB/s, 96 GB to 512 GB), or an M4 Max (546 GB/s).",
        "The Framework Desktop: 128 GB, 256 GB/s in theory and about 215 GB/s measured.",
        # a configuration listed in OTHER_CONFIGURATIONS
        "About 70 % of memory is usable on a 32 GB M1 Max.",
    ],
)
def test_agreeing_sentences_pass(sentence: str, catalog: Catalog) -> None:
    n, bad = check_sentence(sentence, catalog)
    assert n >= 1, f"no figure extracted from {sentence!r}"
    assert not bad, [d.describe() for d in bad]


@pytest.mark.parametrize(
    ("sentence", "wrong"),
    [
        ("The RTX 4090 has 20 GB of GDDR6X and 1,008 GB/s of bandwidth.", "20 GB"),
        ("The RTX 4090 has 24 GB of GDDR6X and 936 GB/s of bandwidth.", "936 GB/s"),
        ("By bandwidth it sits just below an M3 Ultra (700 GB/s).", "700 GB/s"),
        ("A 48 GB M4 Max is a good buy.", "48 GB"),
        ("The MI300X offers 128 GB of HBM3.", "128 GB"),
        ("M5 Pro (announced March 3, 2026): up to 64 GB at 370 GB/s.", "370 GB/s"),
        ("NVIDIA H100: about 2.5 TB/s.", "2.5 TB/s"),
        # several machines: the parenthesis right after each name still counts
        ("An M5 Max sits between an M3 Max (400 GB/s) and an M3 Ultra (800 GB/s).", "800 GB/s"),
    ],
)
def test_disagreeing_sentences_are_flagged(sentence: str, wrong: str, catalog: Catalog) -> None:
    _, bad = check_sentence(sentence, catalog)
    assert [d.figure.text for d in bad] == [wrong]


@pytest.mark.parametrize(
    "sentence",
    [
        # two machines in one sentence: which figure belongs to which is not attempted
        "The RTX 3090 (936 GB/s) is close to the RTX 4090 at 900 GB/s.",
        # a model size, not the card's memory
        "A 14 GB model runs on an RTX 4090 with 8 GB to spare.",
        "The RTX 4090 with a 20 GB model loaded still has room for context.",
        "On an RTX 4090, 20 GB of weights leave little room.",
        "Two RTX 4090s (48 GB) hold a 70B model.",
        "p4d.24xlarge: 8 NVIDIA A100 40 GB (320 GB in total, NVLink).",
        "Google Colab GPUs: T4 (about 15 GB usable), L4, A100",
        # a card the catalog does not have, written like one it has
        "The RTX 4070 Ti has 12 GB and 504 GB/s.",
        "The M2 Pro has 32 GB at 200 GB/s.",
    ],
)
def test_unattached_or_ambiguous_figures_are_ignored(sentence: str, catalog: Catalog) -> None:
    assert check_sentence(sentence, catalog)[1] == []


def test_sentences_are_split_from_markdown() -> None:
    md = (
        "---\ntitle: x\nsources:\n  - https://example.org  # RTX 4090 20 GB/s\n---\n"
        "## RTX 4090\n\nThe RTX 4090 has 24 GB of\nGDDR6X. It is fast.\n\n"
        "- M3 Ultra: 819 GB/s\n- M4: 120 GB/s\n\n```\nRTX 4090 (1 GB/s)\n```\n"
    )
    assert iter_sentences(md) == [
        "RTX 4090",
        "The RTX 4090 has 24 GB of GDDR6X.",
        "It is fast.",
        "M3 Ultra: 819 GB/s",
        "M4: 120 GB/s",
    ]
