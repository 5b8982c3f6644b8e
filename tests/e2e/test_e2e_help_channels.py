"""Where the questions are: a forum post is answered inside the post, a question in a help
channel gets a threaded answer, and chatter, bots and talk between people are left alone."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from e2e_support import ANSWER_TIMEOUT, Desk, assert_cannot_ping

from bot.devtools.fake_discord import Channel, FakeDiscord
from bot.discord_app.errors import NOT_ADMIN

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


def _answers(fake: FakeDiscord, channel_id: int) -> list[dict[str, Any]]:
    """The bot's finished answers (they carry the vote buttons) in a channel or thread."""
    return [m for m in fake.thread_messages(channel_id)
            if m["author"]["id"] == str(fake.bot_id) and m.get("components")]


def _bot_said_anything(fake: FakeDiscord, channel_id: int) -> bool:
    return any(m["author"]["id"] == str(fake.bot_id) for m in fake.thread_messages(channel_id))


async def test_a_forum_post_is_answered_inside_the_post(desk: Desk) -> None:
    fake = desk.fake
    threads_before = len(fake.threads())
    chatter = await fake.post_in_forum("hi", "ok", user="quinn")
    aside = await fake.post_in_forum(
        "For the GPU folks", f"<@{fake.users['bob']['id']}> which quant do you use for Qwen?",
        user="quinn")
    by_bot = await fake.post_in_forum("Daily digest", "Which models came out today? A list.",
                                      user="helperbot")
    post = await fake.post_in_forum(
        "Is it safe to load a .pt checkpoint?",
        "I downloaded a .pt file from a stranger's repo. Can loading it run code?", user="peggy")
    post_id = int(post["id"])

    await fake.wait_until(lambda: _answers(fake, post_id), timeout=ANSWER_TIMEOUT)
    answer = _answers(fake, post_id)[0]
    assert "**Sources**" in answer["content"]
    assert "pickle" in answer["content"].lower() or "code" in answer["content"].lower()
    assert desk.calls[-1]["question"] == (
        "Is it safe to load a .pt checkpoint? I downloaded a .pt file from a stranger's repo. "
        "Can loading it run code?")
    # Answered inside the post: the bot opened no thread of its own.
    assert len(fake.threads()) == threads_before + 4
    for ignored in (chatter, aside, by_bot):
        assert not _bot_said_anything(fake, int(ignored["id"])), ignored["name"]
    assert assert_cannot_ping([r for r in fake.requests if str(post_id) in r.path]) >= 2


async def test_a_help_channel_question_gets_a_threaded_answer_and_chatter_does_not(
    desk: Desk,
) -> None:
    fake = desk.fake
    help_id = fake.help_channel_id
    early = await fake.say("Can I run Qwen2.5 32B on an RTX 4090?", user="rupert",
                           channel_id=help_id)  # answering is not on yet

    refused = await fake.slash("channel answer", {"state": "on"}, user="alice",
                               channel_id=help_id)
    await fake.wait_until(lambda: refused.callbacks, timeout=10)
    assert refused.callbacks[0]["data"]["content"] == NOT_ADMIN
    on = await fake.slash("channel answer", {"state": "on"}, user="bob", channel_id=help_id)
    await fake.wait_until(lambda: on.callbacks, timeout=10)
    reply = on.callbacks[0]["data"]
    assert reply["flags"] & 64 and "now answers every question in #help" in reply["content"]
    assert (await asyncio.to_thread(desk.bot.desk.answer_channels))[help_id] is True

    chatter = await fake.say("thanks, that worked!", user="sybil", channel_id=help_id)
    aside = await fake.say(
        f"<@{fake.users['dave']['id']}> can you run llama 3.1 70b on your 4090?", user="sybil",
        channel_id=help_id)
    by_bot = await fake.say("Which GPU should you buy? Read our guide.", user="helperbot",
                            channel_id=help_id)
    question = await fake.say("Can I run Qwen2.5 32B on an RTX 4090?", user="trent",
                              channel_id=help_id)
    thread_id = int(question["id"])  # a thread started from the message has its id

    await fake.wait_until(lambda: _answers(fake, thread_id), timeout=ANSWER_TIMEOUT)
    thread = fake.channels[thread_id]
    assert thread["parent_id"] == str(help_id) and thread["owner_id"] == str(fake.bot_id)
    assert thread["name"] == "Can I run Qwen2.5 32B on an RTX 4090?"
    content = "\n".join(m["content"] for m in fake.thread_messages(thread_id)
                        if m["author"]["id"] == str(fake.bot_id))
    assert "Qwen2.5 32B" in content and "RTX 4090" in content
    assert "Computed by the ModelDesk calculator" in content
    for ignored in (early, chatter, aside, by_bot):
        assert int(ignored["id"]) not in fake.channels, ignored["content"]
        assert not _bot_said_anything(fake, int(ignored["id"]))
    assert not [m for m in fake.thread_messages(help_id)  # no reply in the channel itself
                if m["author"]["id"] == str(fake.bot_id) and not m.get("webhook_id")]

    # An admin (through ADMIN_ROLE_IDS) turns it off from another channel by naming it.
    off = await fake.slash("channel answer", {"state": "off", "channel": Channel(help_id)},
                           user="carol")
    await fake.wait_until(lambda: off.callbacks, timeout=10)
    assert "no longer answers every question in #help" in off.callbacks[0]["data"]["content"]
    after = await fake.say("Can I run Llama 3.1 8B on an RTX 3060?", user="victor",
                           channel_id=help_id)
    probe = await fake.say(f"<@{fake.bot_id}> can I run llama 3.1 8b on an rtx 3060?",
                           user="walter")  # answered: so the bot has read `after` too
    await fake.wait_until(lambda: _answers(fake, int(probe["id"])), timeout=ANSWER_TIMEOUT)
    assert int(after["id"]) not in fake.channels
