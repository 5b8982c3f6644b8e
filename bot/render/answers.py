"""Answers as terminal text: the streamed text, a mode line and the numbered sources."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.types import Answer, Chunk

MODE_LABEL = {
    "generated": "answer written by the local model, checked against the sources",
    "extractive": "quoted from the sources",
    "unknown": "not covered by the knowledge base",
    "computed": "computed by the ModelDesk calculator from its catalogs",
}


def format_sources(answer: Answer) -> str:
    """One line per numbered source."""
    return "\n".join(f"  [{c.number}] {c.title} — {c.heading}  <{c.url}>"
                     for c in answer.citations)


def answer_footer(answer: Answer) -> str:
    """The mode line, then the sources (or the closest topics of a "not covered" answer)."""
    out = (f"\n\n({MODE_LABEL.get(answer.mode, answer.mode)}; "
           f"{answer.timings.get('total_ms', 0):.0f} ms, {answer.model})\n")
    if answer.citations:
        out += "Sources:\n" + format_sources(answer) + "\n"
    return out


class StreamPrinter:
    """Writes verified text as it arrives, then the final answer's remainder and its footer."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self.shown = ""

    def preview(self, early: Answer) -> None:
        """The best evidence and its sources, at once, while the model writes."""
        self.write(f"{early.text}\n(sources found; writing the checked answer…)\n\n")

    def partial(self, text: str) -> None:
        if text.startswith(self.shown):
            self.write(text[len(self.shown):])
            self.shown = text

    def finish(self, answer: Answer) -> None:
        if answer.text.startswith(self.shown):
            self.write(answer.text[len(self.shown):])
        else:  # the streamed text did not survive the check: show the final answer instead
            self.write("\n\n[replaced by the checked answer]\n" + answer.text)
        self.write(answer_footer(answer))


def format_passages(chunks: list[Chunk], width: int = 280) -> str:
    """Search results: rank, title, heading, score, the start of the passage and its source."""
    lines = []
    for n, c in enumerate(chunks, 1):
        body = c.text.split("\n\n", 1)[-1].strip().replace("\n", " ")
        lines.append(f"[{n}] {c.title} — {c.heading} (score {c.score:.2f})")
        lines.append(f"    {body[:width]}{'…' if len(body) > width else ''}\n    <{c.source}>")
    return "\n".join(lines)
