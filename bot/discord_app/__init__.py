"""The Discord adapter: a thin layer over `bot.core` (see docs/discord.md)."""

from __future__ import annotations

from bot.discord_app.runner import create_bot, run_bot, sync_commands

__all__ = ["create_bot", "run_bot", "sync_commands"]
