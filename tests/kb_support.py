"""Helpers several test modules share (not fixtures)."""

from __future__ import annotations

from pathlib import Path

FIXTURE_KB = Path(__file__).resolve().parent / "fixtures" / "knowledge"


def expected_chunks(kb: Path = FIXTURE_KB, chunk_size: int = 1400, overlap: int = 150) -> int:
    """How many chunks the chunker makes of a knowledge folder: what an index must then hold."""
    from bot.core.chunking import chunk_document
    from bot.core.documents import load_documents

    docs = load_documents(kb).documents
    return sum(len(chunk_document(d, chunk_size=chunk_size, overlap=overlap)) for d in docs)

