"""Follow-ups in an answer thread see the thread's earlier turns, bounded and cleaned."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bot.config import load_settings
from bot.core.desk import Desk
from bot.core.errors import MODEL_DOWN as BACKEND_DOWN
from bot.core.services import Services
from bot.discord_app.cogs.ask import THINKING, AskCog

BOT, USER = 1, 2


def _msg(author: int, content: str) -> SimpleNamespace:
    return SimpleNamespace(author=SimpleNamespace(id=author), content=content)


class _Thread:
    """A stand-in with the three things AskCog reads from a discord.Thread."""

    def __init__(self, starter: str, newest_first: list[SimpleNamespace]) -> None:
        self.id = 99
        self.parent = None
        self.starter_message = _msg(USER, starter)
        self._messages = newest_first

    async def history(self, limit: int, before: Any) -> Any:
        for msg in self._messages[:limit]:
            yield msg


def _cog(turns: int) -> AskCog:
    settings = load_settings(None, history_turns=turns)
    bot = SimpleNamespace(user=SimpleNamespace(id=BOT), settings=settings,
                          desk=Desk(Services(settings)))
    return AskCog(bot)  # type: ignore[arg-type]


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
    thread = _Thread(f"<@{BOT}> how much VRAM for Llama 3.1 8B?", newest_first)
    history = await _cog(turns=6)._history(thread, before=None)  # type: ignore[arg-type]
    assert history == [
        ("user", "how much VRAM for Llama 3.1 8B?"),
        ("assistant", "About 6 GiB [1].\n\nPart two of a long answer [2]."),
        ("user", "how fast on a 4090?"),
        ("assistant", "It runs at about 131 tokens/s [1]."),
    ]


async def test_history_is_bounded_by_history_turns() -> None:
    newest_first = [_msg(USER if i % 2 else BOT, f"turn {i}") for i in range(20)]
    thread = _Thread("first", newest_first)
    history = await _cog(turns=1)._history(thread, before=None)  # type: ignore[arg-type]
    # One exchange: the thread's starter and the newest user turn merge into one user turn.
    assert history == [("user", "first\n\nturn 1"), ("assistant", "turn 0")]
