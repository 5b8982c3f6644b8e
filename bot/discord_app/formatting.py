"""Turning core results into Discord text: mention-safe, under the length limit, honest."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.types import Answer, Citation

DISCORD_LIMIT = 2000
ZWSP = "\u200b"

_FENCE = re.compile(r"^\s*```")
# @everyone / @here, and <@id>, <@!id>, <@&role>, <#channel> markup.
_MASS = re.compile(r"@(everyone|here)", re.IGNORECASE)
_MARKUP = re.compile(r"<(@[!&]?|#)(\d*)>")
# A sentence ends at . ! ? followed by whitespace, or at a newline, or at the end.
_SENTENCE = re.compile(r".+?(?:[.!?](?=\s)|\n|$)\s*", re.DOTALL)

MODE_LINES = {
    "generated": "Answer written by {model} from the numbered sources.",
    "extractive": "Quoted from the numbered sources "
    "(the model's own wording could not be verified).",
    "unknown": "Not covered by the knowledge base.",
    "computed": "Computed by the ModelDesk calculator from its catalogs; no language model.",
    "clarify": "ModelDesk needs a detail before it can compute this.",
}
SOURCES_HEADER = "**Sources**"


def sanitize(text: str) -> str:
    """Neutralize mass mentions and user/role/channel markup so nothing can ping anyone.

    The zero-width space keeps the text readable while Discord no longer parses it.
    """
    text = _MASS.sub(lambda m: f"@{ZWSP}{m.group(1)}", text)
    return _MARKUP.sub(lambda m: f"<{m.group(1)}{ZWSP}{m.group(2)}>", text)


def _blocks(text: str) -> list[tuple[str, bool]]:
    """Split text into paragraphs and whole fenced code blocks: (block, is_code)."""
    blocks: list[tuple[str, bool]] = []
    current: list[str] = []
    in_code = False
    for line in text.splitlines(keepends=True):
        if in_code:
            current.append(line)
            if _FENCE.match(line):
                blocks.append(("".join(current), True))
                current, in_code = [], False
            continue
        if _FENCE.match(line):
            if current:
                blocks.append(("".join(current), False))
            current = [line]
            in_code = line.count("```") % 2 == 1  # "```x```" on one line opens and closes
            if not in_code:
                blocks.append(("".join(current), True))
                current = []
            continue
        current.append(line)
        if not line.strip():
            blocks.append(("".join(current), False))
            current = []
    if current:
        blocks.append(("".join(current), in_code))
    return blocks


def _hard_cut(text: str, limit: int) -> list[str]:
    parts = []
    while len(text) > limit:
        cut = text.rfind(" ", 0, limit)
        cut = cut + 1 if cut > limit // 2 else limit
        parts.append(text[:cut])
        text = text[cut:]
    parts.append(text)
    return parts


def _pack(pieces: Iterable[str], limit: int) -> list[str]:
    out: list[str] = []
    current = ""
    for piece in pieces:
        if len(current) + len(piece) <= limit:
            current += piece
            continue
        if current:
            out.append(current)
        if len(piece) <= limit:
            current = piece
        else:
            *full, current = _hard_cut(piece, limit)
            out.extend(full)
    if current:
        out.append(current)
    return out


def _split_code(block: str, limit: int) -> list[str]:
    """A code block longer than the limit: split by lines, closing and reopening the fence."""
    lines = block.splitlines(keepends=True)
    opener = lines[0] if lines[0].endswith("\n") else lines[0] + "\n"
    body = lines[1:-1] if len(lines) > 1 and _FENCE.match(lines[-1]) else lines[1:]
    closer = "```"
    room = limit - len(opener) - len(closer) - 1
    parts = _pack(body, room)
    return [opener + part.rstrip("\n") + "\n" + closer for part in parts] or [block[:limit]]


def split_message(text: str, limit: int = DISCORD_LIMIT) -> list[str]:
    """Split text into messages of at most `limit` characters.

    Cuts fall between paragraphs, else between sentences, else between words; never inside a
    fenced code block unless the block alone is longer than a message, in which case each part
    is closed and reopened so it still renders as code.

    Args:
        text: the full reply.
        limit: the longest message allowed.

    Returns:
        The messages in order, none empty.
    """
    pieces: list[str] = []
    for block, is_code in _blocks(text):
        if len(block) <= limit:
            pieces.append(block)
        elif is_code:
            pieces.extend(_split_code(block, limit))
        else:
            pieces.extend(_SENTENCE.findall(block))
    chunks = [chunk.strip("\n") for chunk in _pack(pieces, limit)]
    return [chunk for chunk in chunks if chunk.strip()] or ([text[:limit]] if text.strip() else [])


def _source_line(citation: Citation) -> str:
    label = citation.title
    if citation.heading and citation.heading != citation.title:
        label = f"{citation.title} — {citation.heading}"
    label = sanitize(label).replace("[", "(").replace("]", ")")
    if citation.url.startswith(("http://", "https://")):
        # <> around the link stops Discord from unfurling a preview for each source.
        return f"{citation.number}. [{label}](<{citation.url}>)"
    return f"{citation.number}. {label} (`{citation.file or citation.url}`)"


def format_sources(citations: list[Citation]) -> str:
    """The numbered source list shown under an answer."""
    if not citations:
        return ""
    return "\n".join([SOURCES_HEADER, *(_source_line(c) for c in citations)])


def mode_line(answer: Answer) -> str:
    """One small line that says honestly how the answer was produced."""
    template = MODE_LINES.get(answer.mode, MODE_LINES["unknown"])
    line = template.format(model=answer.model or "the model")
    total = answer.timings.get("total_ms")
    if total:
        line += f" · {total / 1000:.1f} s"
    return f"-# {sanitize(line)}"


def format_answer(answer: Answer) -> str:
    """The full reply for an answer: text, mode line, then sources or closest topics."""
    parts = [sanitize(answer.text.strip()) or "(no answer)", mode_line(answer)]
    if answer.mode == "unknown" and answer.closest_topics:
        topics = ", ".join(sanitize(t) for t in answer.closest_topics[:5])
        parts.append(f"Closest topics in the knowledge base: {topics}")
    sources = format_sources(answer.citations)
    if sources:
        parts.append(sources)
    return "\n\n".join(parts)


def answer_messages(answer: Answer, limit: int = DISCORD_LIMIT) -> list[str]:
    """The reply for an answer split into Discord messages (sources land in the last one)."""
    return split_message(format_answer(answer), limit)


def preview(partial: str, limit: int = DISCORD_LIMIT) -> str:
    """A streaming preview: the text so far with a typing marker, cut to fit one message."""
    marker = " ▌"
    text = sanitize(partial.strip())
    if len(text) + len(marker) > limit:
        text = text[: limit - len(marker) - 1] + "…"
    return text + marker


WRITING = "-# Writing the answer from these sources…"


def preview_with_sources(early: Answer, limit: int = DISCORD_LIMIT) -> str:
    """The first readable text: the best evidence quoted, its sources, and a note that the
    checked answer is on its way (it replaces this message)."""
    parts = [sanitize(early.text.strip()), WRITING]
    sources = format_sources(early.citations)
    if sources:
        parts.append(sources)
    return split_message("\n\n".join(p for p in parts if p), limit)[0]


def strip_reply_extras(content: str) -> str:
    """The answer text of one of our own messages, without mode line and sources (for history)."""
    for marker in ("\n\n-# ", f"\n\n{SOURCES_HEADER}"):
        cut = content.find(marker)
        if cut != -1:
            content = content[:cut]
    return content.replace(ZWSP, "").strip()
