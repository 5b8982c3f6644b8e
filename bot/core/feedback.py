"""The record of answers given, the 👍/👎 votes they received and why, members' saved
hardware and the channels a guild asked ModelDesk to answer in, through SQLAlchemy 2.

SQLite under DATA_DIR by default; PostgreSQL (or any SQLAlchemy URL) when DATABASE_URL is set,
so several bot processes share one record. The schema is owned by the Alembic migrations in
`bot/migrations/`, applied on first use; a SQLite file from before migrations is recognised
and upgraded in place, its rows kept.

Blocking: adapters call it from a worker thread. The engine's pool makes it safe from any
thread; `pool_pre_ping` lets a restarted database server be used again without a restart here.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.core.errors import NotFound, StoreUnavailable
from bot.core.types import Answer

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
FIRST_REVISION = "0001"  # the tables a pre-migration SQLite file already has
# Several processes may start at once against one PostgreSQL: one migrates, the others wait.
_PG_MIGRATION_LOCK = 0x6D6F64656C  # "model"
STORE_DOWN = "The feedback store is unavailable right now; try again shortly."

metadata = sa.MetaData()
answers = sa.Table(
    "answers", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("mode", sa.Text, nullable=False),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("sources", sa.Text, nullable=False),
    sa.Column("timings", sa.Text, nullable=False),
)
votes = sa.Table(
    "votes", metadata,
    sa.Column("answer_id", sa.Integer, sa.ForeignKey("answers.id"), primary_key=True),
    sa.Column("voter", sa.Text, primary_key=True),
    sa.Column("vote", sa.Integer, nullable=False),
    sa.Column("voted_at", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
)
saved_hardware = sa.Table(
    "saved_hardware", metadata,
    sa.Column("user_id", sa.Text, primary_key=True),
    sa.Column("hardware", sa.Text, nullable=False),
)
answer_channels = sa.Table(
    "answer_channels", metadata,
    sa.Column("guild_id", sa.Text, primary_key=True),
    sa.Column("channel_id", sa.Text, primary_key=True),
    sa.Column("enabled", sa.Integer, nullable=False),
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


def database_url(target: str | Path) -> str:
    """A SQLAlchemy URL from a URL or a SQLite file path."""
    text = str(target)
    return text if "://" in text else f"sqlite:///{Path(text)}"


def _up(vote_column: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((vote_column == 1, 1), else_=0)), 0)


def _down(vote_column: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((vote_column == -1, 1), else_=0)), 0)


class FeedbackStore:
    """Answers and votes in one database (created or upgraded on first use)."""

    def __init__(self, target: str | Path) -> None:
        self.url = database_url(target)
        self.path = None if "://" in str(target) else Path(target)
        self._init_lock = threading.Lock()
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        """The engine, the schema brought to the newest revision first (once per store)."""
        with self._init_lock:
            if self._engine is None:
                if self.path is not None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                sqlite = self.url.startswith("sqlite")
                engine = sa.create_engine(
                    self.url, pool_pre_ping=not sqlite,
                    connect_args={"timeout": 10} if sqlite else {})
                try:
                    migrate(engine)
                except sa.exc.OperationalError as exc:
                    engine.dispose()
                    raise StoreUnavailable(STORE_DOWN) from exc
                self._engine = engine
            return self._engine

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        """One transaction; a database that went away mid-way is a sentence, not a trace."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            raise StoreUnavailable(STORE_DOWN) from exc

    def _require_answer(self, conn: Connection, answer_id: int, what: str) -> None:
        found = conn.execute(sa.select(answers.c.id).where(answers.c.id == answer_id))
        if found.first() is None:
            raise NotFound(f"That answer is no longer on record, so the {what} was not kept.")

    def record_answer(self, answer: Answer, channel: str = "") -> int:
        """Store an answer that was shown to someone; returns its id for the vote buttons."""
        sources = [
            {"number": c.number, "title": c.title, "heading": c.heading, "file": c.file,
             "url": c.url}
            for c in answer.citations
        ]
        values = {"created_at": _now(), "channel": channel, "question": answer.question,
                  "mode": answer.mode, "model": answer.model, "sources": json.dumps(sources),
                  "timings": json.dumps(answer.timings)}
        with self._begin() as conn:
            result = conn.execute(sa.insert(answers).values(**values))
            key = result.inserted_primary_key
            return int(key[0]) if key else 0

    def record_vote(self, answer_id: int, voter_id: int | str, vote: int) -> None:
        """Store or change one person's vote (+1 or -1) on an answer.

        Raises:
            NotFound: the answer id is unknown (for example the database was reset).
        """
        if vote not in (-1, 1):
            raise ValueError(f"vote must be 1 or -1, not {vote!r}")
        with self._begin() as conn:
            self._require_answer(conn, answer_id, "vote")
            conn.execute(_upsert(conn, votes, {
                "answer_id": answer_id, "voter": _voter_key(voter_id), "vote": vote,
                "voted_at": _now()}, keys=("answer_id", "voter"), update=("vote", "voted_at")))

    def rows(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Every answer that received a vote, newest first, with its tally."""
        query = (
            sa.select(*answers.c, _up(votes.c.vote).label("up"),
                      _down(votes.c.vote).label("down"))
            .join(votes, votes.c.answer_id == answers.c.id)
            .group_by(*answers.c).order_by(answers.c.id.desc())
        )
        if limit:
            query = query.limit(int(limit))
        with self._begin() as conn:
            result = []
            for row in conn.execute(query).mappings():
                item = dict(row)
                item["sources"] = json.loads(item["sources"])
                item["timings"] = json.loads(item["timings"])
                result.append(item)
            return result

    def summary(self) -> dict[str, Any]:
        """Totals: answers recorded, votes up and down, per answer mode."""
        with self._begin() as conn:
            count = conn.execute(sa.select(sa.func.count()).select_from(answers)).scalar_one()
            up, down = conn.execute(sa.select(_up(votes.c.vote), _down(votes.c.vote))).one()
            by_mode = {
                row.mode: {"up": int(row.up), "down": int(row.down)}
                for row in conn.execute(
                    sa.select(answers.c.mode, _up(votes.c.vote).label("up"),
                              _down(votes.c.vote).label("down"))
                    .join(answers, answers.c.id == votes.c.answer_id)
                    .group_by(answers.c.mode))
            }
        return {"answers": int(count), "up": int(up), "down": int(down), "by_mode": by_mode}

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
        with self._begin() as conn:
            self._require_answer(conn, answer_id, "note")
            conn.execute(_upsert(conn, votes, {
                "answer_id": answer_id, "voter": _voter_key(voter_id), "vote": -1,
                "voted_at": _now(), "reason": reason, "note": note[:MAX_NOTE_CHARS]},
                keys=("answer_id", "voter"), update=("vote", "voted_at", "reason", "note")))

    def gap_candidates(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Answers a curator should look at: "not covered" ones and those voted down, oldest
        first, each with its 👎 count and the reasons and notes given.

        Args:
            since: only answers recorded at or after this moment (UTC); None means all.
        """
        after = since.astimezone(UTC).isoformat(timespec="seconds") if since else ""
        down = _down(votes.c.vote)
        query = (
            sa.select(answers.c.id, answers.c.created_at, answers.c.question, answers.c.mode,
                      down.label("down"))
            .select_from(answers.outerjoin(votes, votes.c.answer_id == answers.c.id))
            .where(answers.c.created_at >= after)
            .group_by(answers.c.id, answers.c.created_at, answers.c.question, answers.c.mode)
            .having(sa.or_(answers.c.mode == "unknown", down > 0))
            .order_by(answers.c.id)
        )
        notes_query = (
            sa.select(votes.c.reason, votes.c.note)
            .where(votes.c.answer_id == sa.bindparam("answer_id"), votes.c.vote == -1,
                   votes.c.reason.is_not(None))
            .order_by(votes.c.voted_at)
        )
        with self._begin() as conn:
            rows = [dict(row) for row in conn.execute(query).mappings()]
            for row in rows:
                row["down"] = int(row["down"])
                notes = conn.execute(notes_query, {"answer_id": row["id"]}).all()
                row["reasons"] = [n.reason for n in notes]
                row["notes"] = [n.note for n in notes if n.note]
        return rows

    # -- members' saved hardware -----------------------------------------------------------
    def save_hardware(self, user_id: int | str, hardware: str) -> None:
        """Keep one member's machine: only their id and the text they typed."""
        with self._begin() as conn:
            conn.execute(_upsert(conn, saved_hardware,
                                 {"user_id": str(user_id), "hardware": hardware},
                                 keys=("user_id",), update=("hardware",)))

    def saved_hardware(self, user_id: int | str) -> str | None:
        """The machine a member saved, or None."""
        with self._begin() as conn:
            found = conn.execute(sa.select(saved_hardware.c.hardware)
                                 .where(saved_hardware.c.user_id == str(user_id))).first()
        return None if found is None else str(found.hardware)

    def clear_hardware(self, user_id: int | str) -> bool:
        """Forget a member's machine; True when there was one."""
        with self._begin() as conn:
            result = conn.execute(sa.delete(saved_hardware)
                                  .where(saved_hardware.c.user_id == str(user_id)))
            return result.rowcount > 0

    # -- channels a guild answers in -------------------------------------------------------
    def set_answer_channel(self, guild_id: int | str, channel_id: int | str,
                           enabled: bool) -> None:
        """Turn answering every question in one channel on or off for a guild."""
        with self._begin() as conn:
            conn.execute(_upsert(conn, answer_channels,
                                 {"guild_id": str(guild_id), "channel_id": str(channel_id),
                                  "enabled": int(enabled)},
                                 keys=("guild_id", "channel_id"), update=("enabled",)))

    def answer_channels(self) -> dict[int, bool]:
        """Every channel some guild turned on (True) or off (False), by channel id."""
        query = sa.select(answer_channels.c.channel_id, answer_channels.c.enabled)
        with self._begin() as conn:
            return {int(row.channel_id): bool(row.enabled) for row in conn.execute(query)}

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def _upsert(conn: Connection, table: sa.Table, values: dict[str, Any], *,
           keys: tuple[str, ...], update: tuple[str, ...]) -> Any:
    """INSERT … ON CONFLICT DO UPDATE in the dialect at hand (SQLite and PostgreSQL): one
    statement, so two processes writing the same row cannot both insert it."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values)
    return statement.on_conflict_do_update(
        index_elements=[table.c[k] for k in keys],
        set_={name: statement.excluded[name] for name in update})


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision. A SQLite file from before migrations (with or
    without the reasons, hardware and channel tables the raw-sqlite release added) is stamped
    with the first revision, then upgraded like any other: later revisions create only what
    it lacks, so its rows stay."""
    from alembic import command
    from alembic.config import Config

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        tables = set(sa.inspect(conn).get_table_names())
        if "answers" in tables and "alembic_version" not in tables:
            command.stamp(config, FIRST_REVISION)
        command.upgrade(config, "head")
