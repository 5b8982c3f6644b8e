"""Right-click on a message: "Ask ModelDesk" (answer about it) and "Estimate this model" (run
the calculator on the model and machine it names)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.desk import MAX_QUESTION_CHARS, NO_MODEL_IN_TEXT
from bot.core.errors import InvalidInput
from bot.discord_app.answering import deliver_interaction, generate, saved_machine
from bot.discord_app.errors import NO_MENTIONS, PUBLIC_PENDING
from bot.discord_app.limits import wait_message

if TYPE_CHECKING:
    from bot.discord_app.client import ModelDeskBot

log = logging.getLogger(__name__)

ASK_MENU = "Ask ModelDesk"
ESTIMATE_MENU = "Estimate this model"
NO_TEXT = "That message has no text to ask about."
EVERYWHERE = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=False)
GUILD_INSTALL = app_commands.AppInstallationType(guild=True, user=False)


def about_line(message: discord.Message) -> str:
    """The small first line of a right-click answer: a link to the message it is about (a link,
    not a mention, so nobody is pinged)."""
    return f"-# About [this message](<{message.jump_url}>)"


def message_text(message: discord.Message) -> str:
    """The text of a message, cut to the question limit at a word boundary."""
    text = " ".join(message.content.split())
    if len(text) <= MAX_QUESTION_CHARS:
        return text
    cut = text.rfind(" ", 0, MAX_QUESTION_CHARS)
    return text[: cut if cut > 0 else MAX_QUESTION_CHARS]


class ContextMenuCog(commands.Cog):
    """The two message context menus."""

    def __init__(self, bot: ModelDeskBot) -> None:
        self.bot = bot
        self.menus = [
            app_commands.ContextMenu(name=ASK_MENU, callback=self.ask_about,
                                     allowed_contexts=EVERYWHERE, allowed_installs=GUILD_INSTALL),
            app_commands.ContextMenu(name=ESTIMATE_MENU, callback=self.estimate,
                                     allowed_contexts=EVERYWHERE, allowed_installs=GUILD_INSTALL),
        ]
        for menu in self.menus:
            bot.tree.add_command(menu)

    async def cog_unload(self) -> None:
        for menu in self.menus:
            self.bot.tree.remove_command(menu.name, type=menu.type)

    @staticmethod
    async def _text_of(interaction: discord.Interaction, message: discord.Message) -> str:
        """The message's text, or "" after telling the person it has none to work on."""
        text = message_text(message)
        if not text:
            await interaction.response.send_message(NO_TEXT, ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)
        return text

    async def _start(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        interaction.extras[PUBLIC_PENDING] = True

    async def ask_about(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Answer the message's text as a question, with the text as the subject ("it")."""
        text = await self._text_of(interaction, message)
        if not text:
            return
        user_id = interaction.user.id
        wait = self.bot.cooldowns.hit(user_id)
        if wait:
            await interaction.response.send_message(wait_message(wait), ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)
            return
        try:
            self.bot.model_queue.check()
            await self._start(interaction)

            async def edit(content: str) -> None:
                await interaction.edit_original_response(content=content,
                                                         allowed_mentions=NO_MENTIONS)

            machine = await saved_machine(self.bot, user_id)
            answer = await generate(self.bot, text, None, edit, subject=text, machine=machine)
            await deliver_interaction(self.bot, interaction, answer, lead=about_line(message))
            interaction.extras.pop(PUBLIC_PENDING, None)
        except BaseException:
            self.bot.cooldowns.refund(user_id)
            raise

    async def estimate(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """The calculator on the model (and machine) the message names; no language model."""
        text = await self._text_of(interaction, message)
        if not text:
            return
        await self._start(interaction)
        machine = await saved_machine(self.bot, interaction.user.id)
        answer = await self.bot.in_thread(self.bot.desk.estimate_text, text, machine=machine)
        if answer.text == NO_MODEL_IN_TEXT:
            raise InvalidInput(NO_MODEL_IN_TEXT)  # told privately; the "thinking" goes away
        await deliver_interaction(self.bot, interaction, answer, lead=about_line(message))
        interaction.extras.pop(PUBLIC_PENDING, None)


async def setup(bot: ModelDeskBot) -> None:
    await bot.add_cog(ContextMenuCog(bot))
