"""Polite under load and failure, never a mention cannon, never blocking the event loop."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from e2e_support import ANSWER_TIMEOUT, MEASURED, PING, TOKEN, Desk, Hold, LagTicker, strings

from bot.core.errors import MODEL_DOWN as BACKEND_DOWN

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_mentions_in_a_question_never_ping_anyone(desk: Desk) -> None:
    fake = desk.fake
    inter = await desk.run(
        "ask", {"question": "@everyone <@123> which GPU runs Llama 3.1 8B? @here"}, user="erin"
    )
    assert inter.original and "**Sources**" in inter.original["content"]
    mention = await fake.say(
        f"<@{fake.bot_id}> @everyone <@123> <@&{fake.admin_role_id}> what is GGUF?", user="ivan"
    )
    await fake.wait_until(
        lambda: any(m.get("components") for m in fake.thread_messages(int(mention["id"]))),
        timeout=ANSWER_TIMEOUT,
    )

    checked = 0
    for request in fake.requests:
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
    assert checked >= 4


async def test_over_the_cooldown_a_user_is_told_to_wait_and_a_queued_one_their_place(
    desk: Desk, hold_llm: Hold,
) -> None:
    first = await desk.fake.slash("ask", {"question": "What is GGUF?"}, user="frank")
    # frank's answer holds the model before anyone else asks (on a loaded machine the next
    # question could otherwise reach the model first and frank would be the one queued)
    await desk.fake.wait_until(hold_llm.entered.is_set, timeout=ANSWER_TIMEOUT)
    second = await desk.run("ask", {"question": "And Q8_0?"}, user="frank")
    reply = second.callbacks[0]
    assert reply["type"] == 4 and reply["data"]["flags"] & 64
    assert re.fullmatch(r"Please wait \d+ s before asking again\.", reply["data"]["content"])

    queued = await desk.fake.slash("ask", {"question": "Is a .pt file safe to load?"}, user="ken")
    place = "You are number 1 in the queue"
    await desk.fake.wait_until(
        lambda: any(place in (r.json or {}).get("content", "") for r in desk.fake.requests
                    if queued.token in r.path), timeout=30,
    )
    hold_llm.release()  # the first answer may now be written, then the queued one
    await desk.fake.wait_until(lambda: desk.finished(first) and desk.finished(queued),
                               timeout=ANSWER_TIMEOUT)
    assert "**Sources**" in first.original["content"]
    assert "**Sources**" in queued.original["content"]


async def test_a_failing_model_gives_the_friendly_error_and_the_next_question_works(
    desk: Desk, fail_llm_once: Any
) -> None:
    fail_llm_once()
    question = {"question": "What is the GGUF format?"}
    failed = await desk.run("ask", question, user="grace")
    assert failed.callbacks[0]["type"] == 5
    assert failed.original_deleted, "the public 'thinking…' message was left hanging"
    notice = failed.followups[-1]
    assert notice["content"] == BACKEND_DOWN and notice["flags"] & 64

    again = await desk.run("ask", question, user="grace")  # the failure did not use her turn
    assert again.callbacks[0]["type"] == 5
    assert "**Sources**" in again.original["content"]


async def test_heartbeats_flow_and_the_loop_stays_responsive_while_answering(desk: Desk) -> None:
    loop = asyncio.get_running_loop()
    beats_before = len(desk.fake.heartbeats)
    ticker = LagTicker().start()
    started = loop.time()
    inter = await desk.run(
        "ask", {"question": "What is GGUF?"}, user="heidi"
    )
    took = loop.time() - started
    await ticker.stop()
    window = desk.fake.heartbeats[beats_before:]
    beats = len(window)
    gaps = [b - a for a, b in zip(window, window[1:], strict=False)]
    assert inter.original and inter.original["content"]
    interval = desk.fake.heartbeat_interval_ms / 1000
    assert took > 2 * interval, "the answer was too quick to say anything about heartbeats"
    assert beats >= int(took / interval) - 1 and beats >= 2
    MEASURED["heartbeats during /ask"] = f"{beats} in {took:.1f} s"
    MEASURED["longest gap between heartbeats (s)"] = round(max(gaps), 3)
    MEASURED["event-loop lag while answering (warm): max / mean (ms)"] = ticker.describe()
    assert ticker.worst < 0.1
    assert max(gaps) < interval + 0.5


async def test_the_token_never_appears_in_logs_or_messages(desk: Desk) -> None:
    assert desk.logs.lines, "nothing was logged, so this test would prove nothing"
    assert not any(TOKEN in line for line in desk.logs.lines)
    assert not any(TOKEN in text for r in desk.fake.requests for text in strings(r.json))
