"""SQLite record of answers given and the 👍/👎 votes they received.

Blocking (sqlite3): adapters call it from a worker thread. One short-lived connection per call
keeps it safe to use from any thread.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.core.errors import NotFound
from bot.core.types import Answer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    mode TEXT NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    sources TEXT NOT NULL DEFAULT '[]',
    timings TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS votes (
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    voter TEXT NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    voted_at TEXT NOT NULL,
    PRIMARY KEY (answer_id, voter)
);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _voter_key(voter_id: int | str) -> str:
    # Votes are counted once per person without keeping who voted.
    return hashlib.sha256(f"modeldesk:{voter_id}".encode()).hexdigest()[:16]


class FeedbackStore:
    """Answers and votes in one SQLite file (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._init_lock = threading.Lock()
        self._ready = False

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._init_lock:
            if not self._ready:
                self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            conn.row_factory = sqlite3.Row
            if not self._ready:
                conn.executescript(_SCHEMA)
                self._ready = True
            with conn:
                yield conn
        finally:
            conn.close()

    def record_answer(self, answer: Answer, channel: str = "") -> int:
        """Store an answer that was shown to someone; returns its id for the vote buttons."""
        sources = [
            {"number": c.number, "title": c.title, "heading": c.heading, "file": c.file,
             "url": c.url}
            for c in answer.citations
        ]
        with self._connect() as conn:
            cur = conn.execute(
                "INSERT INTO answers (created_at, channel, question, mode, model, sources, timings)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (_now(), channel, answer.question, answer.mode, answer.model,
                 json.dumps(sources), json.dumps(answer.timings)),
            )
            return int(cur.lastrowid or 0)

    def record_vote(self, answer_id: int, voter_id: int | str, vote: int) -> None:
        """Store or change one person's vote (+1 or -1) on an answer.

        Raises:
            NotFound: the answer id is unknown (for example the database was reset).
        """
        if vote not in (-1, 1):
            raise ValueError(f"vote must be 1 or -1, not {vote!r}")
        with self._connect() as conn:
            if conn.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                raise NotFound("That answer is no longer on record, so the vote was not kept.")
            conn.execute(
                "INSERT INTO votes (answer_id, voter, vote, voted_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(answer_id, voter) DO UPDATE SET vote = excluded.vote,"
                " voted_at = excluded.voted_at",
                (answer_id, _voter_key(voter_id), vote, _now()),
            )

    def rows(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Every answer that received a vote, newest first, with its tally."""
        sql = (
            "SELECT a.*, SUM(v.vote = 1) AS up, SUM(v.vote = -1) AS down"
            " FROM answers a JOIN votes v ON v.answer_id = a.id"
            " GROUP BY a.id ORDER BY a.id DESC"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self._connect() as conn:
            result = []
            for row in conn.execute(sql):
                item = dict(row)
                item["sources"] = json.loads(item["sources"])
                item["timings"] = json.loads(item["timings"])
                result.append(item)
            return result

    def summary(self) -> dict[str, Any]:
        """Totals: answers recorded, votes up and down, per answer mode."""
        with self._connect() as conn:
            answers = conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
            up, down = conn.execute(
                "SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) FROM votes"
            ).fetchone()
            by_mode = {
                row["mode"]: {"up": row["up"], "down": row["down"]}
                for row in conn.execute(
                    "SELECT a.mode AS mode, SUM(v.vote = 1) AS up, SUM(v.vote = -1) AS down"
                    " FROM votes v JOIN answers a ON a.id = v.answer_id GROUP BY a.mode"
                )
            }
        return {"answers": answers, "up": up, "down": down, "by_mode": by_mode}
