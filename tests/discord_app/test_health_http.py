"""/healthz says 503 and why while the bot cannot answer (real HTTP on a loopback port)."""

from __future__ import annotations

import json

import aiohttp
import pytest

from bot.core.desk import Desk
from bot.discord_app import create_bot
from bot.discord_app.http import HealthServer


async def _health(bot) -> tuple[int, dict]:
    server = HealthServer(bot, "127.0.0.1", 0)
    port = await server.start()
    try:
        async with aiohttp.ClientSession() as session, \
                session.get(f"http://127.0.0.1:{port}/healthz") as response:
            return response.status, json.loads(await response.text())
    finally:
        await server.stop()
        bot.executor.shutdown(wait=False)


@pytest.mark.asyncio
async def test_not_connected_and_not_indexed_is_503_with_both_reasons(services) -> None:
    status, body = await _health(create_bot(services.settings, Desk(services)))
    assert status == 503 and body["status"] == "unavailable"
    assert "gateway" in body["reason"] and "reindex" in body["checks"]["index"]
    assert body["checks"]["model"] == "ok"  # the bundled GGUF is there, not loaded


@pytest.mark.asyncio
async def test_an_unreachable_model_server_is_named(services) -> None:
    services.index.reindex()
    settings = services.settings.model_copy(update={"llm_base_url": "http://127.0.0.1:9/v1",
                                                    "llm_timeout_s": 2.0})
    services.settings = settings
    status, body = await _health(create_bot(settings, Desk(services)))
    assert status == 503
    assert body["checks"]["index"] == "ok"
    assert "model" in body["reason"] and body["checks"]["model"] != "ok"


@pytest.mark.asyncio
async def test_metrics_speak_the_prometheus_format(services) -> None:
    bot = create_bot(services.settings, Desk(services))
    server = HealthServer(bot, "127.0.0.1", 0)
    port = await server.start()
    try:
        async with aiohttp.ClientSession() as session, \
                session.get(f"http://127.0.0.1:{port}/metrics") as response:
            text = await response.text()
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
    finally:
        await server.stop()
        bot.executor.shutdown(wait=False)
    assert "# TYPE modeldesk_answers_total counter" in text
    assert "# TYPE modeldesk_answer_stage_seconds histogram" in text
    assert "modeldesk_queue_depth 0.0" in text
