"""Text at the boundary: cleaning what people type, and keeping mention markup inert."""

from __future__ import annotations

import re
import unicodedata

_MENTION = re.compile(r"@(everyone|here)\b|<@[!&]?\d+>|<#\d+>|<@&?\w*>", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def clean_text(text: object, *, keep_lines: bool = False) -> str:
    """Text safe for every layer below: no lone surrogates (which a chat client's JSON decoding
    can produce and the tokenizer rejects), no control or invisible formatting characters,
    compatibility forms folded (full-width letters), whitespace collapsed."""
    raw = str(text or "")
    raw = raw.encode("utf-16", "surrogatepass").decode("utf-16", "replace")  # pairs -> chars
    raw = "".join(ch for ch in raw if not 0xD800 <= ord(ch) <= 0xDFFF and ch != "\ufffd")
    raw = unicodedata.normalize("NFKC", raw)
    if keep_lines:
        lines = [" ".join(_CONTROL.sub(" ", line).split()) for line in raw.split("\n")]
        return "\n".join(lines).strip()
    raw = _CONTROL.sub(" ", raw)
    return " ".join(raw.split())


def has_mention_markup(text: str) -> bool:
    return bool(_MENTION.search(text))


def neutralize_mentions(text: str) -> str:
    """Make mention markup inert (a zero-width space after the @ or <)."""
    def fix(m: re.Match[str]) -> str:
        s = m.group(0)
        return s[0] + "\u200b" + s[1:]

    return _MENTION.sub(fix, text)
