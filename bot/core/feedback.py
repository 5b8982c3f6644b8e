"""SQLite record of answers given, the 👍/👎 votes they received and why, members' saved
hardware and the channels a guild asked ModelDesk to answer in.

Blocking (sqlite3): adapters call it from a worker thread. One short-lived connection per call
keeps it safe to use from any thread. Every SQL statement of the project lives in this module,
so moving the store to another database touches this file only.
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
CREATE TABLE IF NOT EXISTS saved_hardware (
    user_id TEXT PRIMARY KEY,
    hardware TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS answer_channels (
    guild_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    PRIMARY KEY (guild_id, channel_id)
);
"""
# Columns added after the first release: (table, column, declaration). An existing file gets
# them in place with ALTER TABLE, so its rows stay.
_ADDED_COLUMNS = (
    ("votes", "reason", "TEXT"),
    ("votes", "note", "TEXT"),
)
# Why a 👎: the choices of the "What was wrong?" form, in the order shown.
REASONS = {
    "wrong": "Wrong",
    "outdated": "Outdated",
    "unanswered": "Did not answer my question",
    "other": "Other",
}
MAX_NOTE_CHARS = 300


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _voter_key(voter_id: int | str) -> str:
    # Votes are counted once per person without keeping who voted.
    return hashlib.sha256(f"modeldesk:{voter_id}".encode()).hexdigest()[:16]


def _upgrade(conn: sqlite3.Connection) -> None:
    """Add the columns a file from an older release lacks (its rows are kept)."""
    for table, column, declaration in _ADDED_COLUMNS:
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
    conn.commit()


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
                _upgrade(conn)
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

    # -- why an answer was voted down --------------------------------------------------------
    def record_reason(self, answer_id: int, voter_id: int | str, reason: str,
                      note: str = "") -> None:
        """Keep why someone voted an answer down (it counts as their 👎).

        Raises:
            ValueError: `reason` is not one of REASONS.
            NotFound: the answer id is unknown.
        """
        if reason not in REASONS:
            raise ValueError(f"reason must be one of {sorted(REASONS)}, not {reason!r}")
        with self._connect() as conn:
            if conn.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                raise NotFound("That answer is no longer on record, so the note was not kept.")
            conn.execute(
                "INSERT INTO votes (answer_id, voter, vote, voted_at, reason, note)"
                " VALUES (?, ?, -1, ?, ?, ?)"
                " ON CONFLICT(answer_id, voter) DO UPDATE SET vote = -1,"
                " voted_at = excluded.voted_at, reason = excluded.reason, note = excluded.note",
                (answer_id, _voter_key(voter_id), _now(), reason, note[:MAX_NOTE_CHARS]),
            )

    def gap_candidates(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Answers a curator should look at: "not covered" ones and those voted down, oldest
        first, each with its 👎 count and the reasons and notes given.

        Args:
            since: only answers recorded at or after this moment (UTC); None means all.
        """
        after = since.astimezone(UTC).isoformat(timespec="seconds") if since else ""
        sql = (
            "SELECT a.id, a.created_at, a.question, a.mode,"
            " COALESCE(SUM(v.vote = -1), 0) AS down"
            " FROM answers a LEFT JOIN votes v ON v.answer_id = a.id"
            " WHERE a.created_at >= ?"
            " GROUP BY a.id HAVING a.mode = 'unknown' OR down > 0 ORDER BY a.id"
        )
        with self._connect() as conn:
            rows = [dict(row) for row in conn.execute(sql, (after,))]
            for row in rows:
                notes = conn.execute(
                    "SELECT reason, note FROM votes WHERE answer_id = ? AND vote = -1"
                    " AND reason IS NOT NULL ORDER BY voted_at", (row["id"],)).fetchall()
                row["reasons"] = [n["reason"] for n in notes]
                row["notes"] = [n["note"] for n in notes if n["note"]]
        return rows

    # -- members' saved hardware -----------------------------------------------------------
    def save_hardware(self, user_id: int | str, hardware: str) -> None:
        """Keep one member's machine: only their id and the text they typed."""
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO saved_hardware (user_id, hardware) VALUES (?, ?)"
                " ON CONFLICT(user_id) DO UPDATE SET hardware = excluded.hardware",
                (str(user_id), hardware),
            )

    def saved_hardware(self, user_id: int | str) -> str | None:
        """The machine a member saved, or None."""
        with self._connect() as conn:
            row = conn.execute("SELECT hardware FROM saved_hardware WHERE user_id = ?",
                               (str(user_id),)).fetchone()
        return None if row is None else str(row["hardware"])

    def clear_hardware(self, user_id: int | str) -> bool:
        """Forget a member's machine; True when there was one."""
        with self._connect() as conn:
            cur = conn.execute("DELETE FROM saved_hardware WHERE user_id = ?", (str(user_id),))
            return cur.rowcount > 0

    # -- channels a guild answers in -------------------------------------------------------
    def set_answer_channel(self, guild_id: int | str, channel_id: int | str,
                           enabled: bool) -> None:
        """Turn answering every question in one channel on or off for a guild."""
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO answer_channels (guild_id, channel_id, enabled) VALUES (?, ?, ?)"
                " ON CONFLICT(guild_id, channel_id) DO UPDATE SET enabled = excluded.enabled",
                (str(guild_id), str(channel_id), int(enabled)),
            )

    def answer_channels(self) -> dict[int, bool]:
        """Every channel some guild turned on (True) or off (False), by channel id."""
        with self._connect() as conn:
            return {int(row["channel_id"]): bool(row["enabled"])
                    for row in conn.execute("SELECT channel_id, enabled FROM answer_channels")}
