"""The feedback record through SQLAlchemy and Alembic: SQLite files from before migrations
upgrade in place, and PostgreSQL (a real server) behaves as SQLite does."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.core.errors import NotFound, StoreUnavailable
from bot.core.feedback import FeedbackStore
from bot.core.types import Answer, Citation

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


def _answer(question: str = "Which model fits 8 GB?", mode: str = "generated") -> Answer:
    return Answer(
        question=question, text="Llama 3.1 8B at Q4_K_M [1].", mode=mode,  # type: ignore[arg-type]
        citations=[Citation(1, "Llama 3", "Sizes", "models/llama.md", "https://x.org/l")],
        timings={"retrieve_ms": 12.0, "total_ms": 2100.0}, model="SmolLM2",
    )


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
    store.close()


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
