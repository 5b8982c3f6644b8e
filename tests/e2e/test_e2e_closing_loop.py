"""Closing the loop: a rate limit nobody notices, the 👎 form that reaches the curators'
`/kb gaps`, and `/myhardware` feeding `/fit` and `/ask`."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from typing import Any

import pytest
from e2e_support import ANSWER_TIMEOUT, Desk

from bot.config import Settings
from bot.core.feedback import REASONS
from bot.discord_app.cogs.estimates import NO_MACHINE
from bot.discord_app.errors import NOT_ADMIN
from bot.discord_app.limits import RateLimiter
from bot.discord_app.views import WHY_THANKS, WHY_TITLE

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


def _text(desk: Desk, inter: Any) -> str:
    return "\n".join(m["content"] for m in desk.messages(inter))


def _done(inter: Any) -> bool:
    """A public reply that stopped "thinking", or an immediate reply."""
    original = inter.original
    if any(cb["type"] == 4 for cb in inter.callbacks):
        return True
    return bool(original and original["content"] and not original["flags"] & 128)


async def test_three_quick_questions_are_answered_and_a_fourth_is_told_when_to_retry(
    desk: Desk, monkeypatch: pytest.MonkeyPatch,
) -> None:
    fields = Settings.model_fields  # the shipped defaults: 3 at once, then 3 a minute
    burst, per_minute = fields["rate_burst"].default, fields["rate_per_minute"].default
    monkeypatch.setattr(desk.bot, "cooldowns", RateLimiter(burst, per_minute))
    questions = ["can I run llama 3.1 8b on an rtx 3060?", "can I run qwen2.5 14b on an rtx 4080?",
                 "can I run qwen2.5 32b on an rtx 4090?", "can I run llama 3.1 70b on 2x 3090?"]
    inters = [await desk.fake.slash("ask", {"question": q}, user="uma") for q in questions]
    for inter in inters:
        await desk.fake.wait_until(lambda i=inter: desk.finished(i), timeout=ANSWER_TIMEOUT)
    answered = [i for i in inters if i.callbacks[0]["type"] == 5]
    refused = [i for i in inters if i.callbacks[0]["type"] == 4]
    assert len(answered) == burst == 3 and len(refused) == 1
    for inter in answered:
        assert "Computed by the ModelDesk calculator" in _text(desk, inter)
    reply = refused[0].callbacks[0]["data"]
    assert reply["flags"] & 64
    wait = re.fullmatch(r"Please wait (\d+) s before asking again\.", reply["content"])
    assert wait and 1 <= int(wait.group(1)) <= 60 / per_minute, reply["content"]


async def test_a_thumbs_down_opens_what_was_wrong_and_shows_up_in_kb_gaps(desk: Desk) -> None:
    fake = desk.fake
    bread = await desk.run("ask", {"question": "What is a good recipe for sourdough bread?"},
                           user="yvonne")
    assert "Not covered by the knowledge base" in _text(desk, bread)
    fit = await desk.run("ask", {"question": "can I run llama 3.1 70b on an rtx 3060?"},
                         user="zoe")
    last = next(m for m in desk.messages(fit) if m.get("components"))
    down = next(c["custom_id"] for row in last["components"] for c in row["components"]
                if ":down:" in c["custom_id"])

    click = await fake.click(last, down, user="zoe")
    await fake.wait_until(lambda: click.callbacks, timeout=10)
    assert click.callbacks[0]["type"] == 9 and click.modal is not None  # the form opens
    assert click.modal["title"] == WHY_TITLE
    select = click.modal["components"][0]["component"]
    assert [o["value"] for o in select["options"]] == list(REASONS)
    assert click.modal["components"][1]["component"]["max_length"] == 300

    note = "The 3060 also comes with 12 GB; say which one"
    sent = await fake.submit_modal(click, {"modeldesk:why:reason": ["outdated"],
                                           "modeldesk:why:note": note}, user="zoe")
    await fake.wait_until(lambda: sent.callbacks, timeout=10)
    thanks = sent.callbacks[0]
    assert thanks["type"] == 4 and thanks["data"]["flags"] & 64
    assert thanks["data"]["content"] == WHY_THANKS
    rows = await asyncio.to_thread(desk.bot.desk.feedback.gap_candidates)
    stored = next(r for r in rows if r["question"] == "can I run llama 3.1 70b on an rtx 3060?")
    assert stored["down"] == 1 and stored["reasons"] == ["outdated"] and stored["notes"] == [note]

    refused = await desk.run("kb gaps", user="alice")
    assert refused.callbacks[0]["data"]["content"] == NOT_ADMIN
    listed = await fake.slash("kb gaps", {"days": 1}, user="bob")
    await fake.wait_until(lambda: _done(listed), timeout=120)
    assert listed.callbacks[0]["data"]["flags"] & 64  # only the admin sees the list
    text = listed.original["content"]
    assert text.startswith("**Knowledge gaps in the last 1 days**"), text
    assert "sourdough bread" in text and "not covered" in text
    assert "can I run llama 3.1 70b on an rtx 3060" in text and "outdated 1" in text
    assert note in text
    assert "Nearest page: none" not in text and re.search(r"Nearest page: .+\(`.+\.md`, "
                                                          r"similarity 0\.\d\d\)", text), text


async def test_myhardware_feeds_fit_and_ask(desk: Desk) -> None:
    fake = desk.fake
    nothing = await fake.slash("fit", user="wendy")
    await fake.wait_until(lambda: _done(nothing), timeout=30)
    assert nothing.callbacks[0]["data"]["content"] == NO_MACHINE

    saved = await fake.slash("myhardware set", {"hardware": "2x rtx 3090, 64 GB RAM"},
                             user="wendy")
    await fake.wait_until(lambda: saved.callbacks, timeout=10)
    reply = saved.callbacks[0]["data"]
    assert reply["flags"] & 64
    assert reply["content"].startswith("Saved your machine: 2 x RTX 3090 with 64 GB of system RAM")
    path = desk.settings.feedback_db
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT * FROM saved_hardware WHERE user_id = ?",
                           (fake.users["wendy"]["id"],)).fetchone()
    assert row == (fake.users["wendy"]["id"], "2x rtx 3090, 64 GB RAM")  # nothing else kept

    mine = await fake.slash("fit", user="wendy")
    named = await fake.slash("fit", {"hardware": "2x rtx-3090"}, user="wendy")
    await fake.wait_until(lambda: _done(mine) and _done(named), timeout=60)
    text = mine.original["content"]
    assert "saved machine (2 x RTX 3090)" in text
    assert text.split("\n")[0] == named.original["content"].split("\n")[0]  # same figures
    assert mine.original["attachments"], "the fit chart is missing"

    ask = await desk.run("ask", {"question": "what is the biggest model I can run?"},
                         user="wendy")
    answer = _text(desk, ask)
    assert "2 x RTX 3090" in answer and "Computed by the ModelDesk calculator" in answer

    bad = await fake.slash("myhardware set", {"hardware": "my laptop"}, user="wendy")
    await fake.wait_until(lambda: bad.callbacks, timeout=10)
    assert "could not find a GPU, Mac or RAM size" in bad.callbacks[0]["data"]["content"]
    cleared = await fake.slash("myhardware clear", user="wendy")
    await fake.wait_until(lambda: cleared.callbacks, timeout=10)
    assert cleared.callbacks[0]["data"]["content"] == "Your saved machine is forgotten."
    again = await fake.slash("fit", user="wendy")
    await fake.wait_until(lambda: _done(again), timeout=30)
    assert again.callbacks[0]["data"]["content"] == NO_MACHINE
