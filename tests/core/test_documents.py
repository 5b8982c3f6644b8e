from __future__ import annotations

from pathlib import Path

from bot.core.chunking import chunk_document
from bot.core.documents import load_documents

GOOD = """---
title: Good doc
area: models
tags: [a, b]
reviewed: 2026-11-24
sources: [https://example.org/x]
---
## First heading

Some text about Llama.

### A sub heading

More text.
"""


def _write(root: Path, name: str, data: str | bytes) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")


def test_malformed_files_are_reported_with_path_and_reason_and_skipped(tmp_path: Path) -> None:
    _write(tmp_path, "models/good.md", GOOD)
    _write(tmp_path, "models/bad-yaml.md", "---\ntitle: [unclosed\n---\n## H\ntext\n")
    _write(tmp_path, "models/missing.md", "---\ntitle: T\narea: models\n---\n## H\ntext\n")
    _write(tmp_path, "models/empty.md", GOOD.split("## First")[0])
    _write(tmp_path, "models/latin1.md", GOOD.replace("Llama", "Llamà").encode("latin-1"))
    _write(tmp_path, "models/nofm.md", "## Just a heading\ntext\n")
    _write(tmp_path, "models/area.md", GOOD.replace("area: models", "area: cooking"))
    result = load_documents(tmp_path)
    assert [d.path for d in result.documents] == ["models/good.md"]
    reasons = {s.path: s.reason for s in result.skipped}
    assert "bad YAML" in reasons["models/bad-yaml.md"]
    assert "reviewed" in reasons["models/missing.md"] and "sources" in reasons["models/missing.md"]
    assert "no body" in reasons["models/empty.md"]
    assert "not UTF-8" in reasons["models/latin1.md"]
    assert "front matter" in reasons["models/nofm.md"]
    assert "cooking" in reasons["models/area.md"]


def test_chunks_carry_metadata_and_start_with_title_and_heading(tmp_path: Path) -> None:
    _write(tmp_path, "models/good.md", GOOD)
    doc = load_documents(tmp_path).documents[0]
    chunks = chunk_document(doc)
    assert len(chunks) == 2
    first, second = chunks
    assert first.text.startswith("Good doc — First heading\n\nSome text about Llama.")
    assert second.metadata["heading"] == "First heading › A sub heading"
    for c in chunks:
        assert c.metadata["file"] == "models/good.md"
        assert c.metadata["area"] == "models"
        assert c.metadata["tags"] == "a, b"
        assert c.metadata["source"] == "https://example.org/x"
        assert c.metadata["title"] == "Good doc"


def test_long_sections_are_split_and_each_piece_keeps_its_heading(tmp_path: Path) -> None:
    body = " ".join(f"Sentence number {i} about quantization." for i in range(200))
    _write(tmp_path, "costs/long.md", GOOD.replace("Some text about Llama.", body))
    doc = load_documents(tmp_path).documents[0]
    chunks = chunk_document(doc, chunk_size=500, overlap=50)
    assert len(chunks) > 5
    assert all(c.text.startswith("Good doc — First heading") for c in chunks[:-1])
    assert all(len(c.text) < 600 for c in chunks)
