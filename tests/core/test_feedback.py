"""Feedback votes are kept with the question, mode, sources and timings, once per person."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.errors import NotFound
from bot.core.feedback import FeedbackStore
from bot.core.types import Answer, Citation


def _answer(question: str = "Which model fits 8 GB?", mode: str = "generated") -> Answer:
    return Answer(
        question=question, text="Llama 3.1 8B at Q4_K_M [1].", mode=mode,  # type: ignore[arg-type]
        citations=[Citation(1, "Llama 3", "Sizes", "models/llama.md", "https://x.org/l")],
        timings={"retrieve_ms": 12.0, "total_ms": 2100.0}, model="SmolLM2",
    )


def test_votes_are_stored_with_the_answer_and_counted_once_per_person(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "sub" / "feedback.sqlite3")
    first = store.record_answer(_answer(), channel="slash")
    second = store.record_answer(_answer("What is GGUF?", mode="extractive"))
    store.record_vote(first, 111, 1)
    store.record_vote(first, 222, 1)
    store.record_vote(first, 111, -1)  # changed their mind: still one vote
    store.record_vote(second, 111, -1)

    summary = store.summary()
    assert summary["answers"] == 2
    assert (summary["up"], summary["down"]) == (1, 2)
    assert summary["by_mode"] == {"generated": {"up": 1, "down": 1},
                                  "extractive": {"up": 0, "down": 1}}

    rows = {row["question"]: row for row in store.rows()}
    llama = rows["Which model fits 8 GB?"]
    assert (llama["up"], llama["down"], llama["mode"]) == (1, 1, "generated")
    assert llama["sources"][0]["title"] == "Llama 3"
    assert llama["timings"]["total_ms"] == 2100.0
    assert "111" not in json.dumps(rows)  # who voted is not kept


def test_a_vote_for_an_unknown_answer_is_refused(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    with pytest.raises(NotFound):
        store.record_vote(42, 1, 1)
    with pytest.raises(ValueError):
        store.record_vote(store.record_answer(_answer()), 1, 5)
