"""Knowledge documents: `knowledge/**/*.md` with YAML front matter.

A malformed file is reported with its path and the reason and skipped; the rest load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import yaml

log = logging.getLogger(__name__)

REQUIRED_KEYS = ("title", "area", "reviewed", "sources")
AREAS = ("models", "costs", "security", "practice")


@dataclass(frozen=True)
class Document:
    """One knowledge file, parsed."""

    path: str  # relative to the knowledge folder, with forward slashes
    title: str
    area: str
    tags: tuple[str, ...]
    reviewed: str
    sources: tuple[str, ...]
    body: str
    sha256: str


@dataclass(frozen=True)
class Skipped:
    """A file that was not loaded, and why."""

    path: str
    reason: str


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _split_front_matter(text: str) -> tuple[str, str]:
    if not text.startswith("---"):
        raise ValueError("no YAML front matter (the file must start with a '---' line)")
    lines = text.split("\n")
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :])
    raise ValueError("front matter is not closed by a '---' line")


def parse_document(raw: bytes, rel_path: str) -> Document:
    """Parse one file's bytes into a Document.

    Raises:
        ValueError: with a reason a person can fix (the caller adds the path).
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start})") from None
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    head, body = _split_front_matter(text)
    try:
        meta = yaml.safe_load(head)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise ValueError(f"bad YAML in front matter{where}") from None
    if not isinstance(meta, dict):
        raise ValueError("front matter is not a mapping of keys to values")
    missing = [key for key in REQUIRED_KEYS if not meta.get(key)]
    if missing:
        raise ValueError(f"missing required front matter: {', '.join(missing)}")
    area = str(meta["area"]).strip()
    if area not in AREAS:
        raise ValueError(f"area {area!r} is not one of {', '.join(AREAS)}")
    sources = meta["sources"]
    if isinstance(sources, str):
        sources = [sources]
    if isinstance(sources, list):
        # An unquoted "owner/repo : path" reference parses as a one-key mapping.
        sources = [
            " : ".join(f"{k} : {v}" for k, v in s.items()) if isinstance(s, dict) else s
            for s in sources
        ]
    if not isinstance(sources, list) or not all(isinstance(s, str) and s.strip() for s in sources):
        raise ValueError("sources must be a list of URLs or references (strings)")
    reviewed = meta["reviewed"]
    if isinstance(reviewed, dt.date):
        reviewed = reviewed.isoformat()
    else:
        try:
            reviewed = dt.date.fromisoformat(str(reviewed)).isoformat()
        except ValueError:
            raise ValueError(f"reviewed {reviewed!r} is not an ISO date (YYYY-MM-DD)") from None
    tags = meta.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    if not body.strip():
        raise ValueError("the document has no body after the front matter")
    return Document(
        path=rel_path,
        title=str(meta["title"]).strip(),
        area=area,
        tags=tuple(str(t) for t in tags if str(t).strip()),
        reviewed=reviewed,
        sources=tuple(s.strip() for s in sources),
        body=body.strip() + "\n",
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def load_documents(root: Path) -> LoadResult:
    """Load every `*.md` below `root` (README.md files excepted), skipping malformed ones."""
    result = LoadResult()
    if not root.is_dir():
        return result
    for path in sorted(root.rglob("*.md")):
        if path.name.lower() == "readme.md" or any(p.startswith(".") for p in path.parts):
            continue
        rel = path.relative_to(root).as_posix()
        try:
            result.documents.append(parse_document(path.read_bytes(), rel))
        except (ValueError, OSError) as exc:
            log.warning("skipped %s: %s", rel, exc)
            result.skipped.append(Skipped(rel, str(exc)))
    return result
