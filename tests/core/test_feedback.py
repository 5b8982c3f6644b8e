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


OLD_SCHEMA = """
CREATE TABLE answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT '', question TEXT NOT NULL, mode TEXT NOT NULL,
    model TEXT NOT NULL DEFAULT '', sources TEXT NOT NULL DEFAULT '[]',
    timings TEXT NOT NULL DEFAULT '{}');
CREATE TABLE votes (
    answer_id INTEGER NOT NULL REFERENCES answers(id), voter TEXT NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)), voted_at TEXT NOT NULL,
    PRIMARY KEY (answer_id, voter));
INSERT INTO answers (created_at, question, mode) VALUES ('2026-11-01T10:00:00+00:00',
    'Is Q8_0 worth it?', 'generated');
INSERT INTO votes VALUES (1, 'someone', 1, '2026-11-01T10:01:00+00:00');
"""


def test_a_file_from_the_previous_release_keeps_its_rows_and_gains_the_new_parts(
    tmp_path: Path,
) -> None:
    import sqlite3

    path = tmp_path / "feedback.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_SCHEMA)
    store = FeedbackStore(path)
    assert store.summary()["answers"] == 1 and store.summary()["up"] == 1
    store.record_reason(1, 7, "outdated", "Q8_0 is not the newest advice")
    rows = store.gap_candidates()
    assert [(r["question"], r["down"], r["reasons"], r["notes"]) for r in rows] == [
        ("Is Q8_0 worth it?", 1, ["outdated"], ["Q8_0 is not the newest advice"])]
    assert FeedbackStore(path).summary()["answers"] == 1  # opening it again changes nothing


def test_a_reason_is_stored_as_the_persons_down_vote_and_gaps_pick_the_right_answers(
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime, timedelta

    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    good = store.record_answer(_answer("What is GGUF?"))
    unknown = store.record_answer(_answer("Does it know Whisper?", mode="unknown"))
    wrong = store.record_answer(_answer("Which model fits 8 GB?"))
    store.record_vote(good, 1, 1)
    store.record_vote(wrong, 1, 1)
    store.record_reason(wrong, 1, "wrong", "x" * 400)  # the same person changes their vote
    assert store.summary()["up"] == 1 and store.summary()["down"] == 1
    rows = store.gap_candidates()
    assert [r["question"] for r in rows] == ["Does it know Whisper?", "Which model fits 8 GB?"]
    assert rows[0]["id"] == unknown and rows[0]["down"] == 0
    assert rows[1]["reasons"] == ["wrong"] and len(rows[1]["notes"][0]) == 300
    assert store.gap_candidates(datetime.now(UTC) + timedelta(days=1)) == []
    with pytest.raises(ValueError):
        store.record_reason(wrong, 1, "rude")
    with pytest.raises(NotFound):
        store.record_reason(999, 1, "wrong")


def test_saved_hardware_keeps_only_the_id_and_the_text(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "feedback.sqlite3"
    store = FeedbackStore(path)
    assert store.saved_hardware(42) is None
    store.save_hardware(42, "rtx 4090")
    store.save_hardware(42, "2x rtx 3090, 64 GB RAM")
    assert store.saved_hardware(42) == "2x rtx 3090, 64 GB RAM"
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT * FROM saved_hardware").fetchall() == [
            ("42", "2x rtx 3090, 64 GB RAM")]
    assert store.clear_hardware(42) and not store.clear_hardware(42)
    assert store.saved_hardware(42) is None


def test_answer_channels_are_turned_on_and_off_per_guild(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.set_answer_channel(1, 10, True)
    store.set_answer_channel(1, 11, True)
    store.set_answer_channel(1, 11, False)
    assert store.answer_channels() == {10: True, 11: False}
