"""/reindex (admins only), /kb status (what the desk knows and runs on) and /kb gaps (the
curators' to-do list, admins only)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.desk import GAP_DAYS, MAX_GAP_DAYS
from bot.core.errors import Busy
from bot.discord_app.errors import NO_MENTIONS, NOT_ADMIN, PUBLIC_PENDING
from bot.discord_app.formatting import DISCORD_LIMIT, sanitize
from bot.discord_app.streaming import ThrottledEditor
from bot.render.gaps import format_gaps

if TYPE_CHECKING:
    from bot.discord_app.client import ModelDeskBot

log = logging.getLogger(__name__)

REINDEX_RUNNING = "A reindex is already running; wait for it to finish, then try again."


def is_admin(interaction: discord.Interaction, admin_role_ids: list[int]) -> bool:
    """Manage Server, or one of the configured admin roles."""
    member = interaction.user
    if interaction.permissions.manage_guild:
        return True
    roles = getattr(member, "roles", [])
    return any(role.id in admin_role_ids for role in roles)


def admin_only() -> Any:
    """A check that lets only admins run the command (Discord also hides it from others)."""

    def predicate(interaction: discord.Interaction) -> bool:
        bot: Any = interaction.client
        if is_admin(interaction, list(bot.settings.admin_role_ids)):
            return True
        raise app_commands.CheckFailure(NOT_ADMIN)

    return app_commands.check(predicate)


def _names(items: list[str], limit: int = 10) -> str:
    shown = ", ".join(f"`{sanitize(item)}`" for item in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def format_report(report: Any) -> str:
    """The reindex result: counts, then the files that changed and why any were skipped."""
    lines = [f"Reindex done: {sanitize(report.summary())}"]
    for label, items in (("Added", report.added), ("Changed", report.changed),
                         ("Removed", report.removed)):
        if items:
            lines.append(f"{label} ({len(items)}): {_names(items)}")
    if report.skipped:
        lines.append(f"Skipped ({len(report.skipped)}):")
        lines.extend(f"- `{sanitize(f)}`: {sanitize(why)}" for f, why in report.skipped[:10])
    text = "\n".join(lines)
    return text if len(text) <= DISCORD_LIMIT else text[: DISCORD_LIMIT - 1] + "…"


def format_stats(stats: dict[str, Any], model: str, backend: str) -> str:
    """What /kb shows."""
    last = stats.get("last_indexed") or "never"
    return sanitize(
        "**Knowledge base**\n"
        f"Documents: {stats.get('documents', 0)} · chunks: {stats.get('chunks', 0)}\n"
        f"Last indexed: {last}\n"
        f"Embedding model: {stats.get('embedding_model', '?')}\n"
        f"Vector store: {stats.get('store', '?')}\n"
        f"Newest model in the catalog: {stats.get('newest_model', '?')}\n"
        f"Oldest page review: {stats.get('oldest_reviewed', '?')}\n"
        f"Language model: {model} ({backend})"
    )


class AdminCog(commands.Cog):
    """Keeping the knowledge base fresh, and showing what it holds."""

    def __init__(self, bot: ModelDeskBot) -> None:
        self.bot = bot
        self._reindexing = asyncio.Lock()

    @app_commands.command(name="reindex", description="Re-read the knowledge base (admins).")
    @app_commands.describe(full="Rebuild everything instead of only the changed files")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)
    @app_commands.allowed_installs(guilds=True, users=False)
    @admin_only()
    async def reindex(self, interaction: discord.Interaction, full: bool = False) -> None:
        """Run the reindex in a worker thread, showing progress, then report the files."""
        if self._reindexing.locked():
            raise Busy(REINDEX_RUNNING)
        async with self._reindexing:
            await interaction.response.defer(thinking=True)
            interaction.extras[PUBLIC_PENDING] = True

            async def edit(text: str) -> None:
                await interaction.edit_original_response(content=text, allowed_mentions=NO_MENTIONS)

            editor = ThrottledEditor(edit, interval=1.0)
            push = editor.pusher(asyncio.get_running_loop())

            def progress(done: int, total: int, message: str) -> None:
                push(sanitize(f"Reindexing… {done}/{total} {message}"[:300]))

            started = time.perf_counter()
            ok = False
            try:
                report = await self.bot.in_thread(
                    self.bot.desk.reindex, full=full, progress=progress
                )
                ok = True
            finally:
                self.bot.metrics.reindexed(time.perf_counter() - started, ok)
                await editor.close()
            await interaction.edit_original_response(
                content=format_report(report), allowed_mentions=NO_MENTIONS
            )
            interaction.extras.pop(PUBLIC_PENDING, None)

    kb = app_commands.Group(
        name="kb", description="The knowledge base: what it holds, and what it lacks.",
        allowed_contexts=app_commands.AppCommandContext(guild=True),
        allowed_installs=app_commands.AppInstallationType(guild=True),
    )

    @kb.command(name="status", description="What the knowledge base holds and runs on.")
    async def status(self, interaction: discord.Interaction) -> None:
        """Documents, chunks, last indexed, models and backends in use (only you see it)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        stats = await self.bot.in_thread(self.bot.desk.status, load_model=True)
        await interaction.edit_original_response(
            content=format_stats(stats, str(stats.get("llm", "?")),
                                 str(stats.get("llm_backend", "?"))),
            allowed_mentions=NO_MENTIONS,
        )

    @kb.command(name="gaps", description="Questions it could not answer, grouped (admins).")
    @app_commands.describe(days=f"Look back this many days (default {GAP_DAYS})")
    @admin_only()
    async def gaps(self, interaction: discord.Interaction,
                   days: app_commands.Range[int, 1, MAX_GAP_DAYS] = GAP_DAYS) -> None:
        """Questions answered "not covered" or voted down, grouped by meaning (only the admin
        sees the list)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await self.bot.in_thread(self.bot.desk.gaps, days=days)
        await interaction.edit_original_response(
            content=format_gaps(found, days, max_chars=DISCORD_LIMIT),
            allowed_mentions=NO_MENTIONS)


async def setup(bot: ModelDeskBot) -> None:
    await bot.add_cog(AdminCog(bot))
