"""What an operator sees of the running bot: /healthz, /metrics and the JSON request log."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from e2e_support import ANSWER_TIMEOUT, Desk

from bot.discord_app.http import HealthServer
from bot.logs import JsonFormatter

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(loop_scope="session")
async def endpoint(desk: Desk) -> AsyncIterator[str]:
    """The bot's health server on a free loopback port, as HTTP_PORT=0 starts it."""
    server = HealthServer(desk.bot, "127.0.0.1", 0)
    port = await server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.stop()


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


def _value(text: str, name: str, **labels: str) -> float:
    """One sample from the Prometheus text format (0 when it is not there yet)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        m = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if m and ",".join(sorted((m.group(1) or "").split(","))) == want:
            return float(m.group(2))
    return 0.0


class _JsonLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def test_healthz_is_ok_while_connected_with_index_and_model(desk: Desk, endpoint) -> None:
    status, text = await _get(endpoint + "/healthz")
    body = json.loads(text)
    assert status == 200, body
    assert body["status"] == "ok"
    assert body["checks"] == {"gateway": "ok", "index": "ok", "model": "ok"}


async def test_metrics_count_answers_votes_and_refusals(desk: Desk, endpoint) -> None:
    fake = desk.fake
    _, before = await _get(endpoint + "/metrics")
    handler = _JsonLines()
    logging.getLogger("bot").addHandler(handler)
    question = "Is a safetensors file safer than a pickle checkpoint?"
    try:
        inter = await desk.run("ask", {"question": question}, user="oscar")
        refused = await fake.slash("ask", {"question": "and a gguf file?"}, user="oscar")
        await fake.wait_until(lambda: refused.callbacks, timeout=10)
        final = inter.original
        assert final is not None and final["components"]
        up = final["components"][0]["components"][0]["custom_id"]
        click = await fake.click(final, up, user="quinn")
        await fake.wait_until(lambda: click.callbacks, timeout=ANSWER_TIMEOUT)
    finally:
        logging.getLogger("bot").removeHandler(handler)
    assert "Please wait" in refused.callbacks[0]["data"]["content"]
    _, after = await _get(endpoint + "/metrics")

    answers = [m for m in ("generated", "extractive", "unknown")
               if _value(after, "modeldesk_answers_total", mode=m, command="ask")
               > _value(before, "modeldesk_answers_total", mode=m, command="ask")]
    assert len(answers) == 1
    assert (_value(after, "modeldesk_answer_stage_seconds_count", stage="total")
            == _value(before, "modeldesk_answer_stage_seconds_count", stage="total") + 1)
    assert (_value(after, "modeldesk_rate_limited_requests_total", command="ask")
            == _value(before, "modeldesk_rate_limited_requests_total", command="ask") + 1)
    assert (_value(after, "modeldesk_votes_total", vote="up")
            == _value(before, "modeldesk_votes_total", vote="up") + 1)
    for name in ("modeldesk_queue_depth", "modeldesk_gateway_latency_seconds",
                 "modeldesk_not_covered_answers_total", "modeldesk_reindex_runs_total"):
        assert name in after or name.replace("_total", "") in after
    assert 0 <= _value(after, "modeldesk_gateway_latency_seconds") < 5

    entries = [json.loads(line) for line in handler.lines]
    answered = [e for e in entries if e["message"] == "answered"]
    assert answered, handler.lines
    line = answered[-1]
    assert line["command"] == "ask" and line["guild"] == fake.guild_id
    assert line["mode"] == answers[0] and line["timings"]["total_ms"] > 0
    assert "question" not in line and "safetensors" not in json.dumps(entries)
    assert any(e["message"] == "rate limited" for e in entries)
