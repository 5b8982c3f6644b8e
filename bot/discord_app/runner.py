"""Entry points: build the services, build the bot, run it (or only sync its commands)."""

from __future__ import annotations

import asyncio
import logging

import discord
import yarl

from bot.config import Settings
from bot.core.desk import Desk
from bot.core.errors import InvalidInput
from bot.discord_app.client import ModelDeskBot

log = logging.getLogger(__name__)


def create_bot(settings: Settings, desk: Desk, *, sync_dev_guild: bool = True) -> ModelDeskBot:
    """The bot with its dependencies injected (tests pass their own desk)."""
    return ModelDeskBot(settings, desk, sync_dev_guild=sync_dev_guild)


def _token(settings: Settings) -> str:
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        raise InvalidInput(
            "DISCORD_TOKEN is not set; put the bot token in .env (see docs/discord.md)."
        )
    return settings.discord_token.get_secret_value().strip()


def point_discord(settings: Settings) -> None:
    """Send REST calls and the gateway connection where DISCORD_API_BASE and
    DISCORD_GATEWAY_URL say (a proxy), else to Discord.

    discord.py reads Route.BASE for every REST call (interaction webhooks too) and opens its
    first gateway connection at DiscordWebSocket.DEFAULT_GATEWAY, then resumes at the URL that
    READY names.
    """
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    if settings.discord_api_base:
        Route.BASE = settings.discord_api_base.rstrip("/")  # type: ignore[misc]
    if settings.discord_gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def run_bot(settings: Settings) -> None:
    """Run the bot until interrupted (blocking). Models load once, before connecting."""
    token = _token(settings)
    point_discord(settings)
    desk = Desk.build(settings)
    warming = desk.warm_in_background()  # the model and evidence vectors load while it connects
    bot = create_bot(settings, desk)
    try:
        # log_handler=None: logging is configured by the CLI; discord.py never logs the token.
        bot.run(token, log_handler=None)
    finally:
        warming.join()  # llama.cpp aborts the process if it exits while a model is loading
        desk.close()


async def _sync(settings: Settings, guild_id: int | None) -> int:
    bot = create_bot(settings, Desk.build(settings), sync_dev_guild=False)
    async with bot:
        await bot.login(_token(settings))  # runs setup_hook, which loads the cogs
        if guild_id:
            guild = discord.Object(id=guild_id)
            bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
        else:
            synced = await bot.tree.sync()
    return len(synced)


def sync_commands(settings: Settings, guild_id: int | None = None) -> int:
    """Publish the slash commands (globally, or to one guild); returns how many were synced."""
    try:
        return asyncio.run(_sync(settings, guild_id))
    except discord.LoginFailure as exc:
        raise InvalidInput("Discord refused the token; check DISCORD_TOKEN.") from exc
