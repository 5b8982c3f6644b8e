"""The feedback record through SQLAlchemy and Alembic: SQLite files from before migrations
(the first release's, and the raw-sqlite release with reasons, saved hardware and answer
channels) upgrade in place with every row kept, and PostgreSQL (a real server) behaves as SQLite
does."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from test_feedback import _answer  # the same sample answer as the SQLite tests

from bot.core.errors import NotFound, StoreUnavailable
from bot.core.feedback import FeedbackStore

# The schema bot/core/feedback.py created before migrations, verbatim.
OLD_SCHEMA = """
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
# What the raw-sqlite release (issue 15) added to it, verbatim: an old file upgraded by that
# release has these too, but no alembic_version.
RAW_SQLITE_ADDITIONS = """
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
ALTER TABLE votes ADD COLUMN reason TEXT;
ALTER TABLE votes ADD COLUMN note TEXT;
"""
ISSUE_15_TABLES = {"answers", "votes", "saved_hardware", "answer_channels", "alembic_version"}


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    found = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    return found


def _uses_every_part(store: FeedbackStore) -> None:
    """Votes with a reason, gaps, saved hardware and answer channels, as /kb gaps,
    /myhardware and /channel use them, read back as a person would see them."""
    shown = store.record_answer(_answer())
    unknown = store.record_answer(_answer("Does it know Whisper?", mode="unknown"))
    store.record_vote(shown, 1, 1)
    store.record_reason(shown, 2, "outdated", "Q4_K_M is no longer the advice")
    store.record_reason(shown, 1, "wrong")  # the same person turns their 👍 into a 👎
    gaps = {row["id"]: row for row in store.gap_candidates()}
    assert (gaps[shown]["down"], sorted(gaps[shown]["reasons"])) == (2, ["outdated", "wrong"])
    assert gaps[shown]["notes"] == ["Q4_K_M is no longer the advice"]
    assert (gaps[unknown]["down"], gaps[unknown]["reasons"]) == (0, [])
    store.save_hardware(7, "rtx 4090")
    store.save_hardware(7, "2x rtx 3090")
    assert store.saved_hardware(7) == "2x rtx 3090"
    assert store.clear_hardware(7) and store.saved_hardware(7) is None
    store.set_answer_channel(1, 10, True)
    store.set_answer_channel(1, 10, False)
    assert store.answer_channels()[10] is False


def _revision(url: str) -> str:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    return str(found)


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from bot.core.feedback import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return str(ScriptDirectory.from_config(config).get_current_head())


def test_a_file_from_before_migrations_upgrades_in_place(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(OLD_SCHEMA)
    conn.execute("INSERT INTO answers (created_at, channel, question, mode, model, sources,"
                 " timings) VALUES ('2026-11-30T10:00:00+00:00', 'slash', 'old question',"
                 " 'generated', 'SmolLM2', '[]', '{\"total_ms\": 900.0}')")
    conn.execute("INSERT INTO votes VALUES (1, 'abc', 1, '2026-11-30T10:01:00+00:00')")
    conn.execute("INSERT INTO votes VALUES (1, 'def', -1, '2026-11-30T10:02:00+00:00')")
    conn.commit()
    conn.close()

    store = FeedbackStore(path)
    assert store.summary()["answers"] == 1  # the old row is there...
    new = store.record_answer(_answer())
    assert new == 2  # ...and ids carry on after it
    store.record_vote(new, 7, 1)
    rows = {r["question"]: r for r in store.rows()}
    assert (rows["old question"]["up"], rows["old question"]["down"]) == (1, 1)
    assert rows["old question"]["timings"] == {"total_ms": 900.0}
    assert _revision(store.url) == _head()
    store.close()
    again = FeedbackStore(path)  # opening an upgraded file changes nothing
    assert again.summary() == {"answers": 2, "up": 2, "down": 1,
                               "by_mode": {"generated": {"up": 2, "down": 1}}}
    again.close()


def test_a_new_sqlite_file_is_created_at_the_newest_revision(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "deep" / "feedback.sqlite3")
    store.record_answer(_answer())
    assert _revision(store.url) == _head()
    assert _tables(store.url) == ISSUE_15_TABLES
    _uses_every_part(store)
    store.close()


def test_a_file_from_the_raw_sqlite_release_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(OLD_SCHEMA + RAW_SQLITE_ADDITIONS)
    conn.execute("INSERT INTO answers (created_at, question, mode) VALUES"
                 " ('2026-11-30T10:00:00+00:00', 'Is Q8_0 worth it?', 'generated')")
    conn.execute("INSERT INTO votes VALUES (1, 'abc', -1, '2026-11-30T10:01:00+00:00',"
                 " 'outdated', 'Q8_0 is not the newest advice')")
    conn.execute("INSERT INTO saved_hardware VALUES ('42', '2x rtx 3090, 64 GB RAM')")
    conn.execute("INSERT INTO answer_channels VALUES ('1', '10', 1), ('1', '11', 0)")
    conn.commit()
    conn.close()

    store = FeedbackStore(path)
    assert [(r["question"], r["down"], r["reasons"], r["notes"])
            for r in store.gap_candidates()] == [
        ("Is Q8_0 worth it?", 1, ["outdated"], ["Q8_0 is not the newest advice"])]
    assert store.saved_hardware(42) == "2x rtx 3090, 64 GB RAM"
    assert store.answer_channels() == {10: True, 11: False}
    assert _revision(store.url) == _head()
    assert _tables(store.url) == ISSUE_15_TABLES
    assert store.record_answer(_answer()) == 2  # ids carry on
    _uses_every_part(store)
    store.close()
    again = FeedbackStore(path)  # opening an upgraded file changes nothing
    assert again.saved_hardware(42) == "2x rtx 3090, 64 GB RAM"
    assert again.summary()["answers"] == 4
    again.close()


def test_a_file_at_the_first_revision_gains_the_new_parts(tmp_path: Path) -> None:
    """A file written by the SQLAlchemy store before revision 0002 existed."""
    from alembic import command

    url = f"sqlite:///{tmp_path / 'feedback.sqlite3'}"
    _upgrade_to(url, "0001", command)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO answers (created_at, question, mode) VALUES"
                             " ('2026-12-01T10:00:00+00:00', 'What is GGUF?', 'unknown')"))
    engine.dispose()
    store = FeedbackStore(url)
    assert [r["question"] for r in store.gap_candidates()] == ["What is GGUF?"]
    assert _revision(url) == _head()
    _uses_every_part(store)
    store.close()


def _upgrade_to(url: str, revision: str, command: Any) -> None:
    from alembic.config import Config

    from bot.core.feedback import MIGRATIONS

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    engine.dispose()


def test_an_unreachable_database_is_a_sentence(tmp_path: Path) -> None:
    from real_servers import free_port

    store = FeedbackStore(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    with pytest.raises(StoreUnavailable) as exc:
        store.record_answer(_answer())
    assert "try again" in str(exc.value)


@pytest.mark.servers
def test_postgresql_keeps_votes_as_sqlite_does(postgres_url: str) -> None:
    store = FeedbackStore(postgres_url)
    first = store.record_answer(_answer(), channel="slash")
    second = store.record_answer(_answer("What is GGUF?", mode="extractive"))
    store.record_vote(first, 111, 1)
    store.record_vote(first, 222, 1)
    store.record_vote(first, 111, -1)  # changed their mind: still one vote
    store.record_vote(second, 111, -1)
    with pytest.raises(NotFound):
        store.record_vote(999_999, 1, 1)
    summary = store.summary()
    assert summary == {"answers": 2, "up": 1, "down": 2,
                       "by_mode": {"generated": {"up": 1, "down": 1},
                                   "extractive": {"up": 0, "down": 1}}}
    rows = {row["question"]: row for row in store.rows()}
    assert (rows["Which model fits 8 GB?"]["up"], rows["Which model fits 8 GB?"]["down"]) == (1, 1)
    assert rows["Which model fits 8 GB?"]["sources"][0]["title"] == "Llama 3"
    assert _revision(postgres_url) == _head()
    store.close()


@pytest.mark.servers
def test_a_new_postgresql_database_has_every_part(postgres_url: str) -> None:
    store = FeedbackStore(postgres_url)
    store.record_answer(_answer())
    assert _tables(postgres_url) == ISSUE_15_TABLES
    assert _revision(postgres_url) == _head()
    _uses_every_part(store)
    store.close()


@pytest.mark.servers
def test_a_postgresql_database_at_the_first_revision_keeps_its_rows(postgres_url: str) -> None:
    from alembic import command

    _upgrade_to(postgres_url, "0001", command)
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO answers (created_at, question, mode) VALUES"
                             " ('2026-12-01T10:00:00+00:00', 'Is Q8_0 worth it?', 'generated')"))
        conn.execute(sa.text("INSERT INTO votes VALUES (1, 'abc', -1,"
                             " '2026-12-01T10:01:00+00:00')"))
    engine.dispose()
    store = FeedbackStore(postgres_url)
    assert [(r["question"], r["down"], r["reasons"]) for r in store.gap_candidates()] == [
        ("Is Q8_0 worth it?", 1, [])]
    assert _revision(postgres_url) == _head()
    _uses_every_part(store)
    store.close()


@pytest.mark.servers
def test_processes_starting_together_migrate_once(postgres_url: str) -> None:
    stores = [FeedbackStore(postgres_url) for _ in range(4)]
    errors: list[BaseException] = []

    def first_use(store: FeedbackStore) -> None:
        try:
            store.record_answer(_answer())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=first_use, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert stores[0].summary()["answers"] == 4
    for s in stores:
        s.close()
