"""The public eval set keeps its contract and every answerable question has its evidence."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bot.core.chunking import chunk_document
from bot.core.documents import load_documents
from bot.core.evaluation import groups_match, load_questions

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = load_questions(ROOT / "eval" / "questions.jsonl")
CHUNKS = [c.text for d in load_documents(ROOT / "knowledge").documents for c in chunk_document(d)]


def test_size_and_spread() -> None:
    assert len(QUESTIONS) >= 80
    assert sum(not q.answerable for q in QUESTIONS) >= 10
    areas = Counter(q.id.split("-")[0] for q in QUESTIONS if q.answerable)
    assert {"models", "costs", "security", "practice"} <= set(areas)
    assert min(areas[a] for a in ("models", "costs", "security", "practice")) >= 10
    assert len({q.id for q in QUESTIONS}) == len(QUESTIONS)


def test_every_answerable_question_has_a_chunk_with_its_evidence_and_answer() -> None:
    missing = []
    for q in QUESTIONS:
        if not q.answerable:
            assert q.evidence == [] and q.answer == []
            continue
        holders = [c for c in CHUNKS if groups_match(q.evidence, c)]
        if not holders or not any(groups_match(q.answer, c) for c in holders):
            missing.append(q.id)
    assert missing == []
