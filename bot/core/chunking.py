"""Heading-aware chunking of knowledge documents.

Each chunk carries title, heading path, file, sources, area and tags, and its text starts with
"<title> — <heading>" so that it stands alone when retrieved by itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from bot.core.documents import Document

_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]


@dataclass(frozen=True)
class DocChunk:
    id: str
    text: str
    metadata: dict[str, str | int]


def _heading_path(meta: dict[str, str]) -> str:
    return " › ".join(meta[key] for key in ("h1", "h2", "h3") if meta.get(key))


def chunk_document(doc: Document, *, chunk_size: int = 1400, overlap: int = 150) -> list[DocChunk]:
    """Split one document into chunks at its headings, then by size where a section is long."""
    sections = MarkdownHeaderTextSplitter(_HEADERS, strip_headers=True).split_text(doc.body)
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=overlap,
        separators=["\n\n", "\n", ". ", " ", ""],
    )
    chunks: list[DocChunk] = []
    for section in sections:
        heading = _heading_path(section.metadata) or "Overview"
        content = section.page_content.strip()
        if not content:
            continue
        for piece in splitter.split_text(content):
            prefix = f"{doc.title} — {heading}"
            text = f"{prefix}\n\n{piece.strip()}"
            n = len(chunks)
            digest = hashlib.sha1(f"{doc.path}|{n}|{text}".encode()).hexdigest()[:12]
            chunks.append(
                DocChunk(
                    id=f"{doc.path}#{n}-{digest}",
                    text=text,
                    metadata={
                        "file": doc.path,
                        "title": doc.title,
                        "heading": heading,
                        "area": doc.area,
                        "tags": ", ".join(doc.tags),
                        "sources": "\n".join(doc.sources),
                        "source": doc.sources[0],
                        "sha256": doc.sha256,
                        "position": n,
                    },
                )
            )
    return chunks
