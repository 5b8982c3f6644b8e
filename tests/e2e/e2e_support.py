"""What the e2e tests share: the running desk and the measurements shown at the end."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.devtools.fake_discord import FakeDiscord, FakeInteraction

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "fake-token-Zm9vYmFy.must-never-be-logged"
# The bundled model shares 2 cores with everything else on the box; under load one answer has
# taken from 9 s to over 3 minutes, so waits are generous (the test still fails on a hang).
ANSWER_TIMEOUT = 300.0
MEASURED: dict[str, Any] = {}  # shown at the end of the run (terminal summary)
PING = re.compile(r"@everyone|@here|<@!?\d+>|<@&\d+>", re.IGNORECASE)


def strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def assert_cannot_ping(requests: list[Any]) -> int:
    """Every message the bot sent in `requests` allows no mentions and holds no live mention
    markup; returns how many messages were checked."""
    checked = 0
    for request in requests:
        body = request.json
        if not isinstance(body, dict):
            continue
        payload = body.get("data", body) if "type" in body and "data" in body else body
        if isinstance(payload, dict) and payload.get("content"):
            mentions = payload.get("allowed_mentions")
            assert mentions is not None, f"{request.method} {request.path} sent no allowed_mentions"
            assert mentions.get("parse") == [], mentions
            assert not mentions.get("users") and not mentions.get("roles")
            assert mentions.get("replied_user") in (None, False)
            checked += 1
        for text in strings(body):
            assert not PING.search(text), f"{request.method} {request.path}: {text[:120]}"
    return checked


class LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - a broken record must not break the run
            self.lines.append(str(record.msg))


@dataclass
class Desk:
    """The running bot, its services and the fake Discord it talks to."""

    fake: FakeDiscord
    bot: Any
    services: Any
    settings: Any
    logs: LogCapture
    calls: list[dict[str, Any]] = field(default_factory=list)  # what the pipeline was asked

    def messages(self, inter: FakeInteraction) -> list[dict[str, Any]]:
        return [m for m in [inter.original, *inter.followups] if m is not None]

    def finished(self, inter: FakeInteraction) -> bool:
        """The bot is done with an interaction: votes shown, or an ephemeral sentence sent."""
        msgs = self.messages(inter)
        if any(m.get("components") for m in msgs):
            return True
        if any(cb["type"] == 4 for cb in inter.callbacks):
            return True
        return any(m.get("flags", 0) & 64 for m in inter.followups)

    async def run(self, name: str, options: dict[str, Any] | None = None, *,
                  user: str = "alice", timeout: float = ANSWER_TIMEOUT) -> FakeInteraction:
        inter = await self.fake.slash(name, options, user=user)
        await self.fake.wait_until(lambda: self.finished(inter), timeout=timeout)
        return inter


class LagTicker:
    """Measures how late the event loop wakes a 20 ms sleeper (blocking shows up as lag)."""

    def __init__(self, tick: float = 0.02) -> None:
        self.tick = tick
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.tick)
            self.lags.append(loop.time() - before - self.tick)

    def start(self) -> LagTicker:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def worst(self) -> float:
        return max(self.lags, default=0.0)

    def describe(self) -> str:
        mean = sum(self.lags) / len(self.lags) if self.lags else 0.0
        return f"{self.worst * 1000:.1f} / {mean * 1000:.1f} over {len(self.lags)} ticks"


class Hold:
    """`entered` is set when an answer reaches the model; `release()` lets it write."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self._release = threading.Event()

    def release(self) -> None:
        self._release.set()
