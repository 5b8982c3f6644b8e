"""The discord.py client: minimal intents, injected services, one cog per feature."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import discord
from discord.ext import commands

from bot.config import Settings
from bot.core.desk import Desk
from bot.discord_app.errors import ModelDeskTree
from bot.discord_app.http import HealthServer
from bot.discord_app.limits import build_model_queue, build_rate_limiter
from bot.discord_app.metrics import BotMetrics
from bot.discord_app.translations import CommandTranslator
from bot.discord_app.views import VoteButton
from bot.logs import request_fields

log = logging.getLogger(__name__)

T = TypeVar("T")

EXTENSIONS = (
    "bot.discord_app.cogs.ask",
    "bot.discord_app.cogs.estimates",
    "bot.discord_app.cogs.admin",
    "bot.discord_app.cogs.channels",
    "bot.discord_app.cogs.context",
    "bot.discord_app.cogs.hardware",
)


def make_intents() -> discord.Intents:
    """Guilds and guild messages, plus message content for help channels and follow-ups in
    answer threads."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.message_content = True
    return intents


class ModelDeskBot(commands.Bot):
    """The bot. The desk is built outside and injected (tests inject their own)."""

    def __init__(self, settings: Settings, desk: Desk, *, sync_dev_guild: bool = True) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,  # unused: there are no text commands
            intents=make_intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            tree_cls=ModelDeskTree,
        )
        self.settings = settings
        self.desk = desk
        self.sync_dev_guild = sync_dev_guild
        self.cooldowns = build_rate_limiter(settings)
        self.model_queue = build_model_queue(settings)
        # Channels turned on (True) or off (False) with /channel answer; loaded at start.
        self.answer_channels: dict[int, bool] = {}
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="modeldesk")
        self.metrics = BotMetrics(queue_depth=lambda: self.model_queue.waiting,
                                  gateway_latency=lambda: self.latency)
        self.health_server: HealthServer | None = None

    def note_rate_limited(self, command: str, guild: int | None, wait: float) -> None:
        """Count and log a refused question (the member was told when to come back)."""
        self.metrics.rate_limited.labels(command=command).inc()
        log.info("rate limited", extra=request_fields(command=command, guild=guild,
                                                      status="rate_limited",
                                                      retry_after_s=round(wait, 1)))

    async def in_thread(self, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run blocking work (models, Chroma, SQLite, files) off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(func, *args, **kwargs))

    async def setup_hook(self) -> None:
        await self.tree.set_translator(CommandTranslator())
        settings = self.settings
        if settings.http_port is not None:
            self.health_server = HealthServer(self, settings.http_host, settings.http_port)
            await self.health_server.start()
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.add_dynamic_items(VoteButton)
        guild_id = self.settings.dev_guild_id
        if self.sync_dev_guild and guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to the development guild %s", len(synced), guild_id)

    async def on_ready(self) -> None:
        log.info("connected as %s (%s) to %d guilds", self.user, getattr(self.user, "id", "?"),
                 len(self.guilds))

    async def on_message(self, message: discord.Message, /) -> None:
        """No text commands: the AskCog listener handles mentions and threads."""

    async def close(self) -> None:
        await super().close()
        if self.health_server is not None:
            await self.health_server.stop()
        await self.cooldowns.aclose()
        close_queue = getattr(self.model_queue, "aclose", None)
        if close_queue is not None:
            await close_queue()
        self.executor.shutdown(wait=False, cancel_futures=True)
