"""Every curated document loads, has its front matter, and stands within the format's limits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.chunking import chunk_document
from bot.core.documents import load_documents

ROOT = Path(__file__).resolve().parents[2] / "knowledge"
LOADED = load_documents(ROOT)
FLOORS = {"models": 20, "costs": 12, "security": 12, "practice": 6}


def test_no_document_is_skipped() -> None:
    assert LOADED.skipped == [], [f"{s.path}: {s.reason}" for s in LOADED.skipped]


@pytest.mark.parametrize(("area", "floor"), FLOORS.items())
def test_each_area_has_its_floor_of_documents(area: str, floor: int) -> None:
    docs = [d for d in LOADED.documents if d.area == area]
    assert len(docs) >= floor
    assert all(d.path.startswith(f"{area}/") for d in docs)


@pytest.mark.parametrize("doc", LOADED.documents, ids=lambda d: d.path)
def test_document_is_well_formed(doc) -> None:
    words = len(re.findall(r"\w+", doc.body))
    assert 300 <= words <= 1600, f"{doc.path}: {words} words"
    assert doc.sources and all(len(s) > 8 for s in doc.sources)
    assert doc.reviewed >= "2024-01-01"
    sections = re.split(r"^## ", doc.body, flags=re.M)[1:]
    assert len(sections) >= 2, f"{doc.path}: fewer than two ## sections"
    for section in sections:
        heading, _, text = section.partition("\n")
        assert text.strip(), f"{doc.path}: section {heading!r} is empty"
    chunks = chunk_document(doc)
    assert all(c.text.startswith(doc.title) for c in chunks)
