"""The one place where failures become what a Discord user reads."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.core.errors import APOLOGY, ModelDeskError
from bot.core.errors import user_message as core_message
from bot.discord_app.formatting import sanitize

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
__all__ = ["APOLOGY", "NO_MENTIONS", "NOT_ADMIN", "PUBLIC_PENDING", "user_message"]
NOT_ADMIN = "Only members with Manage Server or an admin role can do that."
PUBLIC_PENDING = "modeldesk_public_pending"  # interaction.extras flag: a public "thinking" reply


def user_message(error: BaseException) -> str:
    """One short sentence for the user; unexpected errors are logged with their traceback."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, ModelDeskError):
        return sanitize(core_message(error))
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or NOT_ADMIN
    if isinstance(error, app_commands.TransformerError | app_commands.CommandSignatureMismatch):
        return "That value cannot be used here; pick one of the suggestions."
    log.exception("unexpected error", exc_info=error)
    return APOLOGY


async def send_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Tell only the invoking user, whatever state the interaction is in."""
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        if interaction.extras.pop(PUBLIC_PENDING, False):
            # A public "thinking…" placeholder would otherwise hang there forever.
            try:
                await interaction.delete_original_response()
            except discord.HTTPException:
                log.debug("could not delete the pending reply", exc_info=True)
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException:
        log.warning("could not tell the user about an error", exc_info=True)


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Turn any error raised while handling an interaction into one ephemeral sentence."""
    await send_ephemeral(interaction, user_message(error))


class ModelDeskTree(app_commands.CommandTree):
    """The command tree with our single error handler."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)
