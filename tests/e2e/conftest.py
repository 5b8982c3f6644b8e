"""One real bot (real embedding model, real index of knowledge/, real bundled GGUF) per session,
connected to the fake Discord API. Tests drive it the way Discord users would."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import shutil
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
import pytest_asyncio
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route
from e2e_support import MEASURED, ROOT, TOKEN, Desk, Hold, LogCapture

from bot.devtools.fake_discord import FakeDiscord


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if MEASURED:
        terminalreporter.section("ModelDesk e2e measurements")
        for key, value in MEASURED.items():
            terminalreporter.write_line(f"{key}: {value}")


def _fingerprint(knowledge: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(knowledge.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(knowledge)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def e2e_data(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """A temporary data dir, seeded from an index of the same knowledge/ built by an earlier
    run when pytest's cache has one (embedding 400 chunks takes minutes on a busy 2-core box)."""
    data = tmp_path_factory.mktemp("e2e-data")
    cache = getattr(request.config, "cache", None)
    if cache is not None:
        root = cache.mkdir("modeldesk-e2e-index")
        seed = root / _fingerprint(ROOT / "knowledge")
        # The same knowledge, else the latest index: the incremental reindex embeds the diff.
        seeds = sorted((p for p in root.iterdir() if (p / "manifest.json").exists()),
                       key=lambda p: (p == seed, p.stat().st_mtime))
        if seeds:
            shutil.copytree(seeds[-1], data, dirs_exist_ok=True)
        for old in seeds[:-2]:
            shutil.rmtree(old, ignore_errors=True)
        request.config.stash[_SEED] = seed
    return data


_SEED = pytest.StashKey[Path]()


def _save_seed(config: pytest.Config, data: Path) -> None:
    seed = config.stash.get(_SEED, None)
    if seed is not None and not (seed / "manifest.json").exists():
        shutil.rmtree(seed, ignore_errors=True)
        shutil.copytree(data, seed, ignore=shutil.ignore_patterns("feedback.sqlite3*"))


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def desk(e2e_data: Path, embedder: Any,
               request: pytest.FixtureRequest) -> AsyncIterator[Desk]:
    from bot.config import load_settings
    from bot.core.services import build_services
    from bot.discord_app import create_bot

    capture = LogCapture()
    capture.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    watched = [logging.getLogger(name) for name in ("discord", "bot")]
    old_levels = [lg.level for lg in watched]
    for lg in watched:
        lg.addHandler(capture)
        lg.setLevel(logging.DEBUG)

    fake = FakeDiscord(heartbeat_interval_ms=250)  # several beats even in a 1 s answer
    await fake.start()
    settings = load_settings(
        None, knowledge_dir=ROOT / "knowledge", data_dir=e2e_data, discord_token=TOKEN,
        dev_guild_id=fake.guild_id, admin_role_ids=[fake.helper_role_id],
        answer_channel_ids=[fake.forum_id],
        rate_burst=1, rate_per_minute=1.0, queue_max=4, history_turns=4,
    )
    services = build_services(settings, embedder=embedder)
    await asyncio.to_thread(services.index.reindex)  # incremental: seconds when seeded
    await asyncio.to_thread(_save_seed, request.config, e2e_data)
    await asyncio.to_thread(lambda: services.pipeline)  # load the GGUF once, before the clock

    # REST goes through Route.BASE (the interaction webhooks too). discord.py 2.7's Client opens
    # its first gateway connection at DiscordWebSocket.DEFAULT_GATEWAY (only AutoShardedClient
    # asks GET /gateway/bot), then resumes at READY's resume_gateway_url, which the fake sets.
    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = fake.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    from bot.core.desk import Desk as CoreDesk

    bot = create_bot(settings, CoreDesk(services))
    desk = Desk(fake, bot, services, settings, capture)
    _spy_on_pipeline(desk)
    runner = asyncio.create_task(bot.start(TOKEN))
    try:
        await asyncio.wait_for(fake.ready.wait(), timeout=60)
        await asyncio.wait_for(bot.wait_until_ready(), timeout=30)
        yield desk
    finally:
        await bot.close()
        with contextlib.suppress(TimeoutError, discord.DiscordException, asyncio.CancelledError):
            await asyncio.wait_for(runner, timeout=10)
        await fake.stop()
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway
        services.close()
        for lg, level in zip(watched, old_levels, strict=True):
            lg.removeHandler(capture)
            lg.setLevel(level)


def _spy_on_pipeline(desk: Desk) -> None:
    """Record every question and history the real pipeline receives (it still answers)."""
    pipeline = desk.services.pipeline
    real = pipeline.answer

    def answer(question: str, history: Any = None, **kwargs: Any) -> Any:
        desk.calls.append({"question": question, "history": list(history or []),
                           "thread": threading.current_thread().name})
        return real(question, history=history, **kwargs)

    pipeline.answer = answer


@pytest.fixture
def fail_llm_once(desk: Desk) -> Callable[[], None]:
    """Make the language model backend raise BackendUnavailable on its next call only."""
    from bot.core.errors import ModelUnavailable

    llm = desk.services.pipeline.llm
    real = llm.stream_chat
    state = {"armed": False}

    def stream_chat(*args: Any, **kwargs: Any) -> Any:
        if state["armed"]:
            state["armed"] = False
            raise ModelUnavailable("The language model is unavailable right now; try again "
                                   "shortly.")
        return real(*args, **kwargs)

    llm.stream_chat = stream_chat

    def arm() -> None:
        state["armed"] = True

    yield arm  # type: ignore[misc]
    llm.stream_chat = real


@pytest.fixture
def hold_llm(desk: Desk) -> Iterator[Hold]:
    """Hold the language model at the start of its next answers until released, so a test can
    see a queue form however fast or slow the machine is (released at the end in any case)."""
    llm = desk.services.pipeline.llm
    real = llm.stream_chat
    hold = Hold()

    def stream_chat(*args: Any, **kwargs: Any) -> Any:
        hold.entered.set()
        hold._release.wait(timeout=120)
        return real(*args, **kwargs)

    llm.stream_chat = stream_chat
    try:
        yield hold
    finally:
        hold.release()
        llm.stream_chat = real
