"""`modeldesk bench --load`: many members asking at once through a Discord API on loopback.

One bot process (the real discord.py client, the real desk, index and embedding model) is
driven through the fake Discord API in `bot.devtools`; the language model is an
OpenAI-compatible server on loopback: LLM_BASE_URL when it is set, else the fake one, so the
figures measure the bot, not a model. Each simulated member asks their questions one after the
other, as a person waits for an answer before asking again; all members ask at once.

What it checks, per interaction: acknowledged within Discord's 3 seconds, finished (nobody
lost), and the queue places shown only go down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.core.evaluation import load_questions, percentile

log = logging.getLogger(__name__)

ACK_LIMIT_S = 3.0  # Discord drops an interaction not acknowledged within 3 s
ANSWER_TIMEOUT_S = 600.0
FAKE_MODEL_DELAY_S = 0.05  # the fake model's time to first token
FALLBACK_QUESTIONS = ("can a .pt checkpoint run code when loaded",
                      "what does the llama license say about 700 million users",
                      "why is the kv cache smaller with grouped-query attention")


@dataclass
class LoadResult:
    users: int
    per_user: int
    acks: list[float] = field(default_factory=list)
    answers: list[float] = field(default_factory=list)
    missed_acks: int = 0
    lost: int = 0
    refused: int = 0
    places_went_up: int = 0
    max_place: int = 0
    max_lag_ms: float = 0.0
    elapsed_s: float = 0.0

    def figures(self) -> dict[str, Any]:
        sent = self.users * self.per_user
        return {
            "load_users": self.users, "load_questions": sent,
            "load_answered": len(self.answers), "load_refused": self.refused,
            "load_lost": self.lost, "load_missed_acks": self.missed_acks,
            "load_queue_places_went_up": self.places_went_up,
            "load_max_queue_place": self.max_place,
            "load_ack_ms_p95": round(percentile(self.acks, 0.95) * 1000, 1),
            "load_ack_ms_max": round(max(self.acks, default=0.0) * 1000, 1),
            "load_answer_s_p50": round(percentile(self.answers, 0.5), 2),
            "load_answer_s_p95": round(percentile(self.answers, 0.95), 2),
            "load_event_loop_max_lag_ms": round(self.max_lag_ms, 1),
            "load_elapsed_s": round(self.elapsed_s, 1),
        }


def load_questions_for(path: Path | None) -> list[str]:
    file = path or Path("eval/questions.jsonl")
    if file.exists():
        found = [q.question for q in load_questions(file) if q.answerable]
        if found:
            return found
    return list(FALLBACK_QUESTIONS)


async def _member(fake: Any, name: str, questions: list[str], result: LoadResult) -> None:
    from bot.devtools.fake_discord import finished, queue_places

    for question in questions:
        inter = await fake.slash("ask", {"question": question[:300]}, user=name)
        try:
            await fake.wait_until(lambda i=inter: i.callback_at, timeout=ANSWER_TIMEOUT_S)
        except TimeoutError:
            result.lost += 1
            result.missed_acks += 1
            continue
        ack = inter.callback_at - inter.sent_at
        result.acks.append(ack)
        result.missed_acks += ack > ACK_LIMIT_S
        try:
            await fake.wait_until(lambda i=inter: finished(i), timeout=ANSWER_TIMEOUT_S)
        except TimeoutError:
            result.lost += 1
            continue
        if any(cb["type"] == 4 for cb in inter.callbacks):
            result.refused += 1  # told to wait or that the desk is full: an answer, not lost
            continue
        result.answers.append(time.perf_counter() - inter.sent_at)
        places = queue_places(fake, inter)
        result.max_place = max([result.max_place, *places])
        result.places_went_up += sum(1 for a, b in zip(places, places[1:], strict=False)
                                     if b > a)


async def _lag(stop: asyncio.Event, result: LoadResult) -> None:
    tick = 0.02
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(tick)
        result.max_lag_ms = max(result.max_lag_ms, (time.perf_counter() - t0 - tick) * 1000)


async def run_load(settings: Settings, *, users: int = 50, per_user: int = 3,
                   questions: list[str] | None = None, embedder: Any = None) -> LoadResult:
    """Start the fake Discord API and one bot, let `users` members ask, and measure."""
    import discord

    from bot.core.desk import Desk
    from bot.core.services import build_services
    from bot.devtools.fake_discord import FakeDiscord, discord_pointed_at
    from bot.discord_app import create_bot

    qs = questions or load_questions_for(None)
    fake = FakeDiscord(heartbeat_interval_ms=1000)
    await fake.start()
    services = build_services(settings, embedder=embedder)
    if await asyncio.to_thread(services.index.read_manifest) is None:
        await asyncio.to_thread(services.index.reindex)
    await asyncio.to_thread(lambda: services.pipeline)
    result = LoadResult(users, per_user)
    token = "load-bench-token.not-a-real-one"
    with discord_pointed_at(fake):
        bot = create_bot(settings.model_copy(update={"dev_guild_id": fake.guild_id}),
                         Desk(services))
        runner = asyncio.create_task(bot.start(token))
        try:
            await asyncio.wait_for(fake.ready.wait(), timeout=60)
            await asyncio.wait_for(bot.wait_until_ready(), timeout=60)
            stop = asyncio.Event()
            ticker = asyncio.create_task(_lag(stop, result))
            t0 = time.perf_counter()
            await asyncio.gather(*(
                _member(fake, f"member{u:03d}",
                        [qs[(u * per_user + i) % len(qs)] for i in range(per_user)], result)
                for u in range(users)))
            result.elapsed_s = time.perf_counter() - t0
            stop.set()
            await ticker
        finally:
            await bot.close()
            with contextlib.suppress(TimeoutError, discord.DiscordException,
                                     asyncio.CancelledError):
                await asyncio.wait_for(runner, timeout=10)
            await fake.stop()
            services.close()
    return result


def load_settings_for(settings: Settings, users: int, per_user: int, llm_url: str | None
                      ) -> Settings:
    """Limits wide enough that every question is answered: the bench measures latency under
    load, not refusals (the rate limit and queue bound have their own tests)."""
    update: dict[str, Any] = {"rate_burst": max(settings.rate_burst, per_user),
                              "queue_max": max(settings.queue_max, users),
                              "http_port": None, "redis_url": None}
    if llm_url is not None:
        update.update(llm_base_url=llm_url, llm_backend="openai", llm_model="fake-model")
    return settings.model_copy(update=update)


def bench_load(settings: Settings, *, users: int = 50, per_user: int = 3,
               questions_file: Path | None = None) -> dict[str, Any]:
    """The figures of one load run (the fake model unless LLM_BASE_URL is set)."""
    from bot.devtools.fake_openai import FakeOpenAIServer

    logging.getLogger("discord").setLevel(logging.ERROR)  # voice-support warnings, reconnects
    questions = load_questions_for(questions_file)
    with contextlib.ExitStack() as stack:
        url = None
        if not settings.llm_base_url:
            server = stack.enter_context(FakeOpenAIServer())
            server.mode, server.delay_s = "slow", FAKE_MODEL_DELAY_S
            url = server.url
        s = load_settings_for(settings, users, per_user, url)
        result = asyncio.run(run_load(s, users=users, per_user=per_user, questions=questions))
    figures = result.figures()
    figures["load_model_server"] = "fake (loopback)" if url else "LLM_BASE_URL"
    return figures


LOAD_ORDER = ("load_users", "load_questions", "load_answered", "load_refused", "load_lost",
              "load_missed_acks", "load_queue_places_went_up", "load_max_queue_place",
              "load_ack_ms_p95", "load_ack_ms_max", "load_answer_s_p50", "load_answer_s_p95",
              "load_event_loop_max_lag_ms", "load_elapsed_s", "load_model_server")
MUST_BE_ZERO = ("load_lost", "load_missed_acks", "load_queue_places_went_up")


def format_load(figures: dict[str, Any]) -> str:
    """The human table; the figures that must be zero say whether they are."""
    lines = [f"{'figure':<30}{'measured':>16}  ok"]
    for key in LOAD_ORDER:
        if key in figures:
            ok = ("yes" if figures[key] == 0 else "MISSED") if key in MUST_BE_ZERO else ""
            lines.append(f"{key:<30}{figures[key]!s:>16}  {ok}")
    return "\n".join(lines)
