"""Shared fixtures: heavy models load once per test session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_KB = ROOT / "tests" / "fixtures" / "knowledge"

from kb_support import expected_chunks  # noqa: E402


@pytest.fixture(scope="session")
def embedder():
    """The real bundled all-MiniLM-L6-v2, loaded once."""
    from bot.core.embeddings import get_embedder

    return get_embedder(None)


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    """A writable copy of the fixture knowledge base."""
    dst = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_KB, dst)
    return dst


@pytest.fixture
def settings(tmp_path: Path, kb_dir: Path):
    from bot.config import load_settings

    return load_settings(None, knowledge_dir=kb_dir, data_dir=tmp_path / "data")


@pytest.fixture
def services(settings, embedder):
    from bot.core.services import build_services

    svc = build_services(settings, embedder=embedder)
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def local_llm():
    """The real bundled SmolLM2-135M GGUF, loaded once per session."""
    from bot.core.llm import LlamaCppBackend

    backend = LlamaCppBackend(None, n_threads=2, n_ctx=2048)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def indexed_settings(tmp_path_factory):
    """Settings over a session-wide copy of the fixture knowledge base, already indexed."""
    from bot.config import load_settings
    from bot.core.embeddings import get_embedder
    from bot.core.services import build_services

    root = tmp_path_factory.mktemp("indexed")
    shutil.copytree(FIXTURE_KB, root / "knowledge")
    settings = load_settings(None, knowledge_dir=root / "knowledge", data_dir=root / "data")
    build_services(settings, embedder=get_embedder(None)).index.reindex()
    return settings


@pytest.fixture(scope="session")
def fixture_chunks() -> int:
    """Chunks of the fixture knowledge base (computed, never hard-coded)."""
    return expected_chunks()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that loads the real GGUF (through `local_llm`) is `slow`, so `make test-fast`
    never loads it."""
    for item in items:
        if "local_llm" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One real Valkey (Redis-compatible) server for the session; tests use their own keys."""
    from real_servers import ValkeyServer

    server = ValkeyServer(tmp_path_factory.mktemp("valkey")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """One real PostgreSQL server for the session; see `postgres_url` for a fresh database."""
    from real_servers import PostgresServer

    server = PostgresServer(tmp_path_factory.mktemp("postgres")).start()
    yield server
    server.remove()


@pytest.fixture
def postgres_url(postgres_server, request) -> str:
    """A new, empty database on the session's PostgreSQL server (SQLAlchemy URL)."""
    import re

    import sqlalchemy as sa

    name = "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:50]
    engine = sa.create_engine(postgres_server.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return postgres_server.url.rsplit("/", 1)[0] + "/" + name
