"""/myhardware set|clear: a member's machine, used by /fit, /cost and fit questions that name
none. Only the member's id and the text they typed are stored."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.cogs.context import EVERYWHERE, GUILD_INSTALL
from bot.discord_app.errors import NO_MENTIONS
from bot.discord_app.formatting import sanitize

if TYPE_CHECKING:
    from bot.discord_app.client import ModelDeskBot
    from bot.discord_app.cogs.estimates import EstimatesCog

log = logging.getLogger(__name__)

SAVED = ("Saved your machine: {label}{ram}. `/fit`, `/cost` and fit questions in `/ask` use it "
         "when you name no machine; `/myhardware clear` forgets it.")
CLEARED = "Your saved machine is forgotten."
NOTHING_SAVED = "You had no machine saved."


class MyHardwareCog(commands.Cog):
    """Saving and forgetting a member's machine."""

    myhardware = app_commands.Group(
        name="myhardware", description="Save your machine for /fit, /cost and /ask.",
        allowed_contexts=EVERYWHERE, allowed_installs=GUILD_INSTALL,
    )

    def __init__(self, bot: ModelDeskBot) -> None:
        self.bot = bot

    async def _hardware(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        estimates: EstimatesCog | None = self.bot.get_cog("EstimatesCog")  # type: ignore[assignment]
        return estimates.suggest("hardware", current) if estimates else []

    @myhardware.command(name="set", description="Save your GPU(s) and system RAM.")
    @app_commands.describe(hardware='Your machine, e.g. "2x rtx-3090, 64 GB RAM" or "M2 Max 64GB"')
    @app_commands.autocomplete(hardware=_hardware)
    async def set_(self, interaction: discord.Interaction,
                   hardware: app_commands.Range[str, 1, 200]) -> None:
        """Read the machine (a clear sentence when it cannot), store it, say how it is used."""
        saved = await self.bot.in_thread(self.bot.desk.save_hardware, interaction.user.id,
                                         hardware)
        ram = f" with {saved.ram_gb:g} GB of system RAM" if saved.ram_gb else ""
        await interaction.response.send_message(
            sanitize(SAVED.format(label=saved.label, ram=ram)), ephemeral=True,
            allowed_mentions=NO_MENTIONS)

    @myhardware.command(name="clear", description="Forget your saved machine.")
    async def clear(self, interaction: discord.Interaction) -> None:
        """Delete the stored row."""
        had = await self.bot.in_thread(self.bot.desk.clear_hardware, interaction.user.id)
        await interaction.response.send_message(CLEARED if had else NOTHING_SAVED,
                                                ephemeral=True, allowed_mentions=NO_MENTIONS)


async def setup(bot: ModelDeskBot) -> None:
    await bot.add_cog(MyHardwareCog(bot))
