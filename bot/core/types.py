"""Plain data shared by the core and every adapter (CLI, console, chat)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

_REPO_REF = re.compile(r"^([\w.-]+)/([\w.-]+)\s*:\s*(\S+)$")


def source_link(source: str) -> str:
    """A source as a link: URLs as they are, "owner/repo : path" as its GitHub address."""
    m = _REPO_REF.match(source.strip())
    if m and not source.startswith("http"):
        owner, repo, path = m.groups()
        return f"https://github.com/{owner}/{repo}/blob/HEAD/{path.lstrip('/')}"
    return source.strip()

# generated: model-written, grounded; extractive: quoted; unknown: not covered; computed: the
# calculator's figures; clarify: a short question back or a one-line reason (ambiguous, absurd).
AnswerMode = Literal["generated", "extractive", "unknown", "computed", "clarify"]


@dataclass(frozen=True)
class Chunk:
    """One retrieved passage with its score (higher is better) and where it came from."""

    id: str
    text: str
    score: float
    title: str
    heading: str
    file: str
    area: str
    sources: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        """The document's first source as a link, or its file when it names none."""
        return source_link(self.sources[0]) if self.sources else self.file


@dataclass(frozen=True)
class Citation:
    """A numbered source as shown under an answer."""

    number: int
    title: str
    heading: str
    file: str
    url: str


@dataclass
class Answer:
    """What every adapter formats. Nothing else reaches a user."""

    question: str
    text: str
    mode: AnswerMode
    citations: list[Citation] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # retrieve_ms, first_token_ms, total_ms
    model: str = ""
    closest_topics: list[str] = field(default_factory=list)
    # The calculator's estimate behind a computed answer (a CostEstimate), for charts and JSON.
    estimate: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)
                               if f.name != "estimate"}
        out["citations"] = [asdict(c) for c in self.citations]
        out["timings"], out["closest_topics"] = dict(self.timings), list(self.closest_topics)
        if self.estimate is not None:
            out["computed"] = self.estimate.to_dict()
        return out
