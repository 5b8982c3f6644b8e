"""Follow-ups in an answer thread see the thread's earlier turns, bounded and cleaned."""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

import discord

from bot.config import load_settings
from bot.core.desk import Desk
from bot.core.errors import MODEL_DOWN as BACKEND_DOWN
from bot.core.services import Services
from bot.discord_app.cogs.ask import THINKING, AskCog

BOT, USER = 1, 2


def _msg(author: int, content: str) -> MagicMock:
    """A message stand-in specced from discord.Message (a misspelled attribute fails)."""
    user = MagicMock(spec_set=discord.User)
    user.id = author
    msg = MagicMock(spec_set=discord.Message)
    msg.author, msg.content = user, content
    return msg


def _thread(starter: str, newest_first: list[MagicMock]) -> MagicMock:
    """A discord.Thread stand-in with the starter message and an async history."""

    async def history(limit: int, before: Any) -> Any:
        for msg in newest_first[:limit]:
            yield msg

    thread = MagicMock(spec_set=discord.Thread)
    thread.id, thread.parent = 99, None
    thread.starter_message = _msg(USER, starter)
    thread.history = history
    return thread


def _cog(turns: int) -> AskCog:
    settings = load_settings(None, history_turns=turns)
    me = MagicMock(spec_set=discord.ClientUser)
    me.id = BOT
    bot = MagicMock(spec_set=["user", "settings", "desk"])
    bot.user, bot.settings, bot.desk = me, settings, Desk(Services(settings))
    return AskCog(bot)


async def test_history_is_oldest_first_without_sources_status_or_mentions() -> None:
    newest_first = [
        _msg(BOT, "It runs at about 131 tokens/s [1].\n\n-# Answer written by X."
                  "\n\n**Sources**\n1. A"),
        _msg(USER, "how fast on a 4090?"),
        _msg(BOT, BACKEND_DOWN),
        _msg(BOT, "Part two of a long answer [2]."),
        _msg(BOT, "About 6 GiB [1]."),
        _msg(BOT, THINKING),
    ]
    thread = _thread(f"<@{BOT}> how much VRAM for Llama 3.1 8B?", newest_first)
    history = await _cog(turns=6)._history(thread, before=None)  # type: ignore[arg-type]
    assert history == [
        ("user", "how much VRAM for Llama 3.1 8B?"),
        ("assistant", "About 6 GiB [1].\n\nPart two of a long answer [2]."),
        ("user", "how fast on a 4090?"),
        ("assistant", "It runs at about 131 tokens/s [1]."),
    ]


async def test_history_is_bounded_by_history_turns() -> None:
    newest_first = [_msg(USER if i % 2 else BOT, f"turn {i}") for i in range(20)]
    thread = _thread("first", newest_first)
    history = await _cog(turns=1)._history(thread, before=None)  # type: ignore[arg-type]
    # One exchange: the thread's starter and the newest user turn merge into one user turn.
    assert history == [("user", "first\n\nturn 1"), ("assistant", "turn 0")]
