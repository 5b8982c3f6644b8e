"""Questions that name a model and a machine get the calculator's verdict in Discord: first
sentence, figures, sources and the memory chart, without waiting for the language model."""

from __future__ import annotations

import pytest
from e2e_support import ANSWER_TIMEOUT, Desk

from bot.core.costs import GB, estimate_cost

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_ask_a_fit_question_gets_the_computed_verdict_and_a_chart(desk: Desk) -> None:
    fake = desk.fake
    asked_before = len(desk.calls)
    inter = await fake.slash("ask", {"question": "can I run qwen2.5 72b on a single rtx 4090?"},
                             user="mallory")
    await fake.wait_until(lambda: desk.finished(inter), timeout=ANSWER_TIMEOUT)
    # A long answer is split over several messages: the verdict first, the sources last.
    content = "\n".join(m["content"] for m in desk.messages(inter))
    est = estimate_cost("qwen2.5-72b", hardware="rtx-4090", catalog=desk.bot.desk.catalog)
    assert content.startswith(f"No. Qwen2.5 72B at Q4\\_K\\_M needs about "
                              f"{est.total_bytes / GB:.1f} GB") or content.startswith(
        f"No. Qwen2.5 72B at Q4_K_M needs about {est.total_bytes / GB:.1f} GB"), content
    assert "RTX 4090 has 24 GB" in content
    assert "Computed by the ModelDesk calculator" in content
    assert "**Sources**" in content and "Qwen2.5 72B" in content.split("**Sources**")[1]
    upload = [f for r in fake.requests for f in r.files if inter.token in r.path]
    assert upload and upload[-1]["head"][:4] == b"\x89PNG"
    assert len(desk.calls) == asked_before, "a computed answer must not touch the language model"
    done = [r.at for r in fake.requests if inter.token in r.path and r.method == "PATCH"]
    assert done[-1] - inter.sent_at < 5.0


async def test_a_follow_up_in_a_thread_keeps_the_model(desk: Desk) -> None:
    fake = desk.fake
    mention = await fake.say(f"<@{fake.bot_id}> can I run qwen2.5 72b on a single rtx 4090?",
                             user="nina")
    thread_id = int(mention["id"])
    await fake.wait_until(lambda: _answers(fake, thread_id) >= 1, timeout=ANSWER_TIMEOUT)
    # Another member asks the follow-up (each member has a cooldown between questions).
    await fake.say("and on 2x 3090?", user="olivia", channel_id=thread_id)
    await fake.wait_until(lambda: _answers(fake, thread_id) >= 2, timeout=ANSWER_TIMEOUT)
    said = "\n".join(m["content"] for m in fake.thread_messages(thread_id))
    assert "No. Qwen2.5 72B at Q4\\_K\\_M needs about" in said or \
        "No. Qwen2.5 72B at Q4_K_M needs about" in said, said
    assert "2 x RTX 3090 has 48 GB" in said, said


def _answers(fake, thread_id: int) -> int:  # noqa: ANN001 - the fake Discord
    return sum(1 for m in fake.thread_messages(thread_id) if m.get("components"))
