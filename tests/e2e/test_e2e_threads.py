"""Mentions get an answer in a thread; later messages there are follow-ups with history."""

from __future__ import annotations

import pytest
from e2e_support import ANSWER_TIMEOUT, Desk

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


def _final(desk: Desk, thread_id: int) -> list[dict]:
    return [m for m in desk.fake.thread_messages(thread_id) if m.get("components")]


async def test_a_mention_is_answered_in_a_thread_and_follow_ups_use_its_history(
    desk: Desk,
) -> None:
    fake = desk.fake
    ignored = await fake.say("Llama 3.1 is great, no question for the bot", user="dave")
    first_q = "Can loading a .pt checkpoint from a stranger run code?"
    mention = await fake.say(f"<@{fake.bot_id}> {first_q}", user="dave")

    thread_id = int(mention["id"])  # a thread started from the message has the message's id
    await fake.wait_until(lambda: _final(desk, thread_id), timeout=ANSWER_TIMEOUT)
    thread = fake.channels[thread_id]
    assert thread["parent_id"] == str(fake.channel_id)
    assert thread["name"] == first_q
    answer = _final(desk, thread_id)[0]
    assert "**Sources**" in answer["content"]
    assert not fake.thread_messages(int(ignored["id"])), "a message without a mention got a reply"
    assert desk.calls[-1]["question"] == first_q and desk.calls[-1]["history"] == []

    # A follow-up that only makes sense with the earlier turn ("it").
    follow = "And is it also true for .bin files?"
    await fake.say(follow, user="judy", channel_id=thread_id)  # anyone in the thread
    await fake.wait_until(lambda: len(_final(desk, thread_id)) >= 2, timeout=ANSWER_TIMEOUT)
    call = desk.calls[-1]
    assert call["question"] == follow
    roles = [role for role, _ in call["history"]]
    assert roles == ["user", "assistant"]
    assert call["history"][0][1] == first_q
    first_answer_text = answer["content"].split("\n\n-# ")[0].replace("\u200b", "")
    assert call["history"][1][1] == first_answer_text
    assert "**Sources**" not in call["history"][1][1]

    reply = _final(desk, thread_id)[-1]["content"]
    assert "**Sources**" in reply and (".bin" in reply or "pickle" in reply.lower()), reply
    assert call["thread"].startswith("modeldesk"), "the pipeline ran on the event loop"
