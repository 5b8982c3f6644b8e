"""Two `modeldesk run` processes behind one fake Discord API, sharing a real Valkey (Redis),
a real PostgreSQL and a real Chroma server, and one OpenAI-compatible model server.

What an operator running a second instance (or a deploy's overlap) relies on: a member's burst
limit holds across both processes, every vote lands in PostgreSQL, and killing one process
mid-answer loses no stored vote while the other keeps answering. The member-facing parts kept
in the database work the same there: a machine saved through one process is used by the other,
and the 👎 form's reason reaches `/kb gaps`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from real_servers import ChromaServer, free_port

from bot.core.feedback import FeedbackStore
from bot.devtools.fake_discord import FakeDiscord, FakeInteraction, finished
from bot.devtools.fake_openai import FakeOpenAIServer

pytestmark = [pytest.mark.servers, pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "two-process-token.not-real"
START_TIMEOUT_S = 240.0  # two processes load the embedding model on 2 shared cores
ANSWER_TIMEOUT_S = 180.0
QUESTIONS = ("can a .pt checkpoint run code", "what does the llama license say about "
             "700 million users", "why is the kv cache smaller with grouped-query attention",
             "is a safetensors file safe to load")
MEASURED: dict[str, Any] = {}


@dataclass
class Fleet:
    fake: FakeDiscord
    llm: FakeOpenAIServer
    procs: list[subprocess.Popen[bytes]]
    health: list[str]
    database_url: str
    logs: list[Path]


def _env(tmp: Path, n: int, *, redis: str, database: str, chroma: int, llm: str,
         fake: FakeDiscord, kb: Path, http_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "LLM_"))}
    env.update({
        "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "DISCORD_TOKEN": TOKEN, "DISCORD_API_BASE": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "REDIS_URL": redis, "DATABASE_URL": database,
        "CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(chroma),
        "KNOWLEDGE_DIR": str(kb), "DATA_DIR": str(tmp / f"data{n}"),
        "LLM_BASE_URL": llm + "/v1", "LLM_MODEL": "fake-model", "LLM_TIMEOUT_S": "30",
        "RATE_BURST": "2", "RATE_PER_MINUTE": "1", "QUEUE_MAX": "8",
        "HTTP_PORT": str(http_port), "LOG_LEVEL": "INFO", "LOG_FORMAT": "json",
    })
    return env


async def _healthy(url: str) -> bool:
    try:
        async with aiohttp.ClientSession() as session, \
                session.get(url, timeout=aiohttp.ClientTimeout(total=3)) as response:
            return response.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


@pytest_asyncio.fixture(loop_scope="module")
async def fleet(tmp_path: Path, kb_dir: Path, embedder, redis_server, postgres_url: str
                ) -> AsyncIterator[Fleet]:
    from bot.config import load_settings
    from bot.core.services import build_services

    # The shipped catalog, for /myhardware and /fit (the fixture pages stay the knowledge).
    shutil.copytree(ROOT / "knowledge" / "data", kb_dir / "data")
    chroma = ChromaServer(tmp_path / "chroma").start()
    llm = FakeOpenAIServer().start()
    fake = FakeDiscord(heartbeat_interval_ms=1000)
    await fake.start()
    fake.route = "round_robin"
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    try:
        settings = load_settings(None, knowledge_dir=kb_dir, data_dir=tmp_path / "indexer",
                                 chroma_host="127.0.0.1", chroma_port=chroma.port)
        await asyncio.to_thread(build_services(settings, embedder=embedder).index.reindex)
        ports = [free_port(), free_port()]
        for n, port in enumerate(ports):
            env = _env(tmp_path, n, redis=redis_server.url, database=postgres_url,
                       chroma=chroma.port, llm=llm.url, fake=fake, kb=kb_dir, http_port=port)
            logs.append(tmp_path / f"bot{n}.log")
            with open(logs[-1], "wb") as out:
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "bot", "--env-file", str(tmp_path / "none.env"),
                     "run"], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT))
        health = [f"http://127.0.0.1:{p}/healthz" for p in ports]
        started = time.monotonic()
        while not all([await _healthy(u) for u in health]):
            dead = [n for n, p in enumerate(procs) if p.poll() is not None]
            assert not dead, logs[dead[0]].read_text()[-3000:]
            assert time.monotonic() - started < START_TIMEOUT_S, "the bots did not get healthy"
            await asyncio.sleep(0.5)
        assert len(fake.connections) == 2
        MEASURED["two processes: start to both healthy (s)"] = round(time.monotonic() - started,
                                                                      1)
        yield Fleet(fake, llm, procs, health, postgres_url, logs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=20)
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        await fake.stop()
        llm.stop()
        chroma.stop()


async def _ask(fleet: Fleet, question: str, *, user: str, via: int) -> FakeInteraction:
    inter = await fleet.fake.slash("ask", {"question": question}, user=user, via=via)
    await fleet.fake.wait_until(lambda: finished(inter), timeout=ANSWER_TIMEOUT_S)
    return inter


def _owner(procs: list[subprocess.Popen[bytes]], port: int) -> int:
    """Which process holds the gateway connection from this local port."""
    import psutil

    for n, proc in enumerate(procs):
        if any(c.laddr and c.laddr.port == port
               for c in psutil.Process(proc.pid).net_connections(kind="tcp")):
            return n
    raise AssertionError(f"no bot process has a connection from port {port}")


def _done(inter: FakeInteraction) -> bool:
    """A reply sent at once, or a deferred one that stopped "thinking"."""
    if any(cb["type"] == 4 for cb in inter.callbacks):
        return True
    original = inter.original
    return bool(original and original["content"] and not original["flags"] & 128)


async def _slash(fleet: Fleet, name: str, options: dict[str, Any] | None, *, user: str,
                 via: int) -> FakeInteraction:
    inter = await fleet.fake.slash(name, options, user=user, via=via)
    await fleet.fake.wait_until(lambda: _done(inter), timeout=ANSWER_TIMEOUT_S)
    return inter


def _buttons(inter: FakeInteraction) -> list[str]:
    final = inter.original or {}
    return [c["custom_id"] for row in final.get("components", []) for c in row["components"]]


async def _vote(fleet: Fleet, inter: FakeInteraction, *, user: str, up: bool, via: int) -> None:
    assert inter.original is not None
    custom = _buttons(inter)[0 if up else 1]
    click = await fleet.fake.click(inter.original, custom, user=user, via=via)
    await fleet.fake.wait_until(lambda: click.callbacks, timeout=60)
    if up:
        assert "recorded" in click.callbacks[0]["data"]["content"], click.callbacks
    else:  # the 👎 stands and opens "What was wrong?", here left unanswered
        assert click.callbacks[0]["type"] == 9 and click.modal is not None, click.callbacks


async def test_two_processes_share_limits_and_votes_and_survive_a_kill(fleet: Fleet) -> None:
    fake = fleet.fake
    # A burst of 2, asked through both processes: the third question is refused wherever it
    # lands, because the bucket lives in Redis.
    first = await _ask(fleet, QUESTIONS[0], user="alice", via=0)
    second = await _ask(fleet, QUESTIONS[1], user="alice", via=1)
    assert _buttons(first) and _buttons(second), (first.callbacks, second.callbacks)
    third = await _ask(fleet, QUESTIONS[2], user="alice", via=0)
    assert third.callbacks[0]["type"] == 4
    assert "Please wait" in third.callbacks[0]["data"]["content"]
    fourth = await _ask(fleet, QUESTIONS[2], user="alice", via=1)
    assert "Please wait" in fourth.callbacks[0]["data"]["content"]

    # Votes through both processes, on answers given by both: all in PostgreSQL.
    await _vote(fleet, first, user="bob", up=True, via=1)
    await _vote(fleet, second, user="bob", up=False, via=0)
    await _vote(fleet, first, user="carol", up=True, via=0)
    await _vote(fleet, second, user="carol", up=True, via=1)
    store = FeedbackStore(fleet.database_url)
    before = await asyncio.to_thread(store.summary)
    assert (before["answers"], before["up"], before["down"]) == (2, 3, 1)

    # A machine saved through the process about to be killed (the one on connection 0).
    saved = await _slash(fleet, "myhardware set", {"hardware": "2x rtx 3090, 64 GB RAM"},
                         user="frank", via=0)
    assert saved.callbacks[0]["data"]["content"].startswith(
        "Saved your machine: 2 x RTX 3090 with 64 GB of system RAM"), saved.callbacks

    # Kill the process answering dave while it answers (the model server is slow to stream).
    fleet.llm.mode, fleet.llm.delay_s = "slow", 4.0
    asked = len(fleet.llm.requests)
    doomed = await fake.slash("ask", {"question": QUESTIONS[3]}, user="dave", via=0)
    victim = _owner(fleet.procs, fake.client_port(0))
    await fake.wait_until(lambda: len(fleet.llm.requests) > asked, timeout=ANSWER_TIMEOUT_S)
    fleet.procs[victim].kill()
    fleet.procs[victim].wait(timeout=10)
    await fake.wait_until(lambda: len(fake.connections) == 1, timeout=30)
    assert not finished(doomed)  # that answer died with its process

    after = await asyncio.to_thread(store.summary)
    assert (after["answers"], after["up"], after["down"]) == (2, 3, 1)  # nothing lost

    # The survivor answers the next member; the dead process's place in the shared queue
    # lapses with its lease, so the line does not stay blocked.
    fleet.llm.mode = "ok"
    t0 = time.monotonic()
    survivor = await _ask(fleet, QUESTIONS[3], user="erin", via=0)
    MEASURED["answer after the other process was killed mid-answer (s)"] = round(
        time.monotonic() - t0, 1)
    assert _buttons(survivor), survivor.callbacks
    await _vote(fleet, survivor, user="erin", up=True, via=0)
    final = await asyncio.to_thread(store.summary)
    assert (final["answers"], final["up"], final["down"]) == (3, 4, 1)
    assert await _healthy(fleet.health[1 - victim]) and not await _healthy(fleet.health[victim])

    # The survivor reads the machine the killed process saved, from PostgreSQL.
    mine = await _slash(fleet, "fit", None, user="frank", via=0)
    assert mine.original is not None and "saved machine (2 x RTX 3090)" in mine.original[
        "content"], mine.callbacks
    # The 👎 form: the vote and its reason are stored, and an admin's /kb gaps lists them.
    assert survivor.original is not None
    click = await fake.click(survivor.original, _buttons(survivor)[1], user="grace", via=0)
    await fake.wait_until(lambda: click.callbacks, timeout=60)
    assert click.modal is not None, click.callbacks
    note = "It skipped the question about pickles"
    sent = await fake.submit_modal(click, {"modeldesk:why:reason": ["unanswered"],
                                           "modeldesk:why:note": note}, user="grace")
    await fake.wait_until(lambda: sent.callbacks, timeout=60)
    gaps = await asyncio.to_thread(store.gap_candidates)
    assert [(g["question"], g["down"], g["reasons"], g["notes"]) for g in gaps
            if g["question"] == QUESTIONS[3]] == [(QUESTIONS[3], 1, ["unanswered"], [note])]
    listed = await _slash(fleet, "kb gaps", {"days": 1}, user="bob", via=0)
    assert listed.original is not None and note in listed.original["content"], listed.callbacks
    store.close()

    # Both processes wrote JSON log lines without the token or the questions.
    for log in fleet.logs:
        text = log.read_text()
        assert TOKEN not in text and QUESTIONS[0] not in text
        lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        answered = [e for e in lines if e["message"] == "answered"]
        assert answered and all(e["guild"] == fake.guild_id for e in answered), log.name
    print(MEASURED)  # noqa: T201 - shown with -s; the figures for the operator notes
