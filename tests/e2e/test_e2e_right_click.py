"""Right-click on a message: "Ask ModelDesk" answers about it, "Estimate this model" runs the
calculator on the model and machine it names. Neither can ping anyone."""

from __future__ import annotations

import pytest
from e2e_support import ANSWER_TIMEOUT, Desk, assert_cannot_ping

from bot.core.costs import GB, estimate_cost
from bot.core.desk import NO_MODEL_IN_TEXT

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


def _text(desk: Desk, inter) -> str:  # noqa: ANN001 - a FakeInteraction
    return "\n".join(m["content"] for m in desk.messages(inter))


async def test_ask_modeldesk_answers_about_the_message_and_pings_nobody(desk: Desk) -> None:
    fake = desk.fake
    message = await fake.say(
        "@everyone <@123> I want to run Llama 3.1 70B on my RTX 4090, will it fit?", user="dave")
    inter = await fake.context_menu("Ask ModelDesk", message, user="quinn")
    await fake.wait_until(lambda: desk.finished(inter), timeout=ANSWER_TIMEOUT)
    assert inter.callbacks[0]["type"] == 5  # public "thinking…", then the answer
    link = (f"https://discord.com/channels/{fake.guild_id}/{fake.channel_id}/"
            f"{message['id']}")
    text = _text(desk, inter)
    assert text.startswith(f"-# About [this message](<{link}>)\n"), text
    assert "Llama 3.1 70B" in text and "RTX 4090 has 24 GB" in text
    assert "Computed by the ModelDesk calculator" in text
    assert assert_cannot_ping([r for r in fake.requests if inter.token in r.path]) >= 1


async def test_estimate_this_model_runs_the_calculator_on_the_message(desk: Desk) -> None:
    fake = desk.fake
    asked_before = len(desk.calls)
    message = await fake.say("Qwen2.5 32B just dropped, looks great for coding", user="dave")
    inter = await fake.context_menu("Estimate this model", message, user="xavier")
    await fake.wait_until(lambda: desk.finished(inter), timeout=ANSWER_TIMEOUT)
    text = _text(desk, inter)
    est = estimate_cost("qwen2.5-32b", catalog=desk.bot.desk.catalog)
    assert f"{est.total_bytes / GB:.1f} GB" in text, text
    assert "Qwen2.5 32B" in text and "Computed by the ModelDesk calculator" in text
    assert len(desk.calls) == asked_before, "the calculator must not use the language model"

    chatter = await fake.say("good morning everyone, coffee time", user="dave")
    nothing = await fake.context_menu("Estimate this model", chatter, user="xavier")
    await fake.wait_until(lambda: desk.finished(nothing), timeout=30)
    notice = nothing.followups[-1]
    assert notice["content"] == NO_MODEL_IN_TEXT and notice["flags"] & 64
    assert nothing.original_deleted, "the public 'thinking…' message was left hanging"
