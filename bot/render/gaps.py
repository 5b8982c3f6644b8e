"""Text for the curators' to-do list (`modeldesk gaps`, `/kb gaps`), terminal and Discord alike."""

from __future__ import annotations

from bot.core.feedback import REASONS
from bot.core.gaps import NOT_COVERED, VOTED_DOWN, Gap
from bot.render.estimates import safe

EXAMPLE_CHARS = 160
NOTE_CHARS = 120


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _why(gap: Gap) -> str:
    why = gap.why
    parts = [f"{why[NOT_COVERED]} not covered"] if why[NOT_COVERED] else []
    if why[VOTED_DOWN]:
        parts.append(f"{why[VOTED_DOWN]} voted down")
    if gap.reasons:
        parts.append("reasons: " + ", ".join(f"{REASONS.get(r, r).lower()} {n}"
                                             for r, n in gap.reasons.items()))
    return "; ".join(parts)


def format_gap(number: int, gap: Gap) -> str:
    """One group: its count, why, an example question, the nearest page and a note."""
    asked = "1 question" if gap.count == 1 else f"{gap.count} questions"
    lines = [f"{number}. **{asked}** ({_why(gap)})",
             f"   e.g. \"{safe(_cut(gap.example, EXAMPLE_CHARS))}\""]
    if gap.nearest_title:
        lines.append(f"   Nearest page: {safe(gap.nearest_title)} (`{gap.nearest_file}`, "
                     f"similarity {gap.nearest_score:.2f})")
    else:
        lines.append("   Nearest page: none")
    if gap.notes:
        lines.append(f"   Note: \"{safe(_cut(gap.notes[-1], NOTE_CHARS))}\"")
    return "\n".join(lines)


def format_gaps(gaps: list[Gap], days: int | None, limit: int = 10,
                max_chars: int | None = None) -> str:
    """The to-do list, biggest gap first; at most `limit` groups and `max_chars` characters."""
    span = f"the last {days} days" if days else "all recorded answers"
    if not gaps:
        return (f"No gaps in {span}: no question was answered \"not covered\" or voted down.")
    total = sum(g.count for g in gaps)
    head = (f"**Knowledge gaps in {span}**: {len(gaps)} group{'s' if len(gaps) != 1 else ''} "
            f"from {total} question{'s' if total != 1 else ''}, biggest first.")
    text = head
    for i, gap in enumerate(gaps[:limit], 1):
        block = "\n" + format_gap(i, gap)
        if max_chars is not None and len(text) + len(block) > max_chars - 40:
            text += f"\n…and {len(gaps) - i + 1} more (`modeldesk gaps` lists them all)."
            return text
        text += block
    if len(gaps) > limit:
        text += f"\n…and {len(gaps) - limit} more (`modeldesk gaps` lists them all)."
    return text
