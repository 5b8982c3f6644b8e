"""Help channels and forums: every question there is answered, in a thread or inside the post.

Which channels: ANSWER_CHANNEL_IDS, plus `/channel answer on|off` (Manage Server), stored per
guild; the stored choice wins. Messages from bots, short chatter and messages that mention or
reply to someone else are left alone: they belong to a conversation between people.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.desk import MAX_QUESTION_CHARS
from bot.core.question_detect import MIN_WORDS, reads_as_question
from bot.discord_app.cogs.admin import admin_only
from bot.discord_app.cogs.ask import addressed_to_us
from bot.discord_app.errors import NO_MENTIONS
from bot.discord_app.formatting import sanitize

if TYPE_CHECKING:
    from bot.discord_app.client import ModelDeskBot
    from bot.discord_app.cogs.ask import AskCog

log = logging.getLogger(__name__)

ANSWERABLE_TYPES = (discord.MessageType.default, discord.MessageType.reply)
TURNED_ON_TEXT = ("ModelDesk now answers every question in #{name} in a thread. Messages from "
                  "bots, short chatter and messages that mention someone else are left alone.")
TURNED_ON_FORUM = ("ModelDesk now answers every new post in #{name}, inside the post. Posts "
                   "from bots and posts that mention someone else are left alone.")
TURNED_OFF = ("ModelDesk no longer answers every question in #{name}; mentions, `/ask` and "
              "the right-click menu still work there.")
NOT_A_HELP_CHANNEL = "Pick a text or forum channel."


def mentions_someone_else(message: discord.Message, me_id: int | None) -> bool:
    """Talking to a person (a mention, a role, everyone, or a reply to someone else's message)."""
    if message.mention_everyone or message.raw_role_mentions:
        return True
    if any(uid != me_id for uid in message.raw_mentions):
        return True
    ref = message.reference
    resolved = ref.resolved if ref else None
    return isinstance(resolved, discord.Message) and resolved.author.id != me_id


def _words(text: str) -> int:
    return len(re.findall(r"\w+", text))


class HelpChannelCog(commands.Cog):
    """Answers where the questions are; `/channel answer` turns a channel on or off."""

    channel = app_commands.Group(
        name="channel", description="Where ModelDesk answers on its own (admins).",
        default_permissions=discord.Permissions(manage_guild=True),
        allowed_contexts=app_commands.AppCommandContext(guild=True),
        allowed_installs=app_commands.AppInstallationType(guild=True),
    )

    def __init__(self, bot: ModelDeskBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        try:
            stored = await self.bot.in_thread(self.bot.desk.answer_channels)
        except Exception:  # noqa: BLE001 - the setting still works; /channel reports failures
            log.exception("could not read the answer channels")
            return
        self.bot.answer_channels.update(stored)

    # -- which channels ----------------------------------------------------------------------

    def answers_in(self, channel_id: int) -> bool:
        """The stored choice for a channel, else whether ANSWER_CHANNEL_IDS lists it."""
        stored = self.bot.answer_channels.get(channel_id)
        if stored is not None:
            return stored
        return channel_id in self.bot.settings.answer_channel_ids

    @channel.command(name="answer", description="Answer every question in a channel, or stop.")
    @app_commands.describe(state="on: answer every question there; off: stop",
                           channel="A text or forum channel (default: this one)")
    @app_commands.choices(state=[app_commands.Choice(name="on", value="on"),
                                 app_commands.Choice(name="off", value="off")])
    @admin_only()
    async def answer(
        self, interaction: discord.Interaction, state: app_commands.Choice[str],
        channel: discord.TextChannel | discord.ForumChannel | None = None,
    ) -> None:
        """Store the choice for this guild and say what it means (only the admin sees it)."""
        target: object = channel or interaction.channel
        if isinstance(target, discord.Thread):  # run inside a post or thread: its channel
            target = target.parent
        if not isinstance(target, discord.TextChannel | discord.ForumChannel) or (
                interaction.guild_id is None):
            await interaction.response.send_message(NOT_A_HELP_CHANNEL, ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)
            return
        enabled = state.value == "on"
        await self.bot.in_thread(self.bot.desk.set_answer_channel, interaction.guild_id,
                                 target.id, enabled)
        self.bot.answer_channels[target.id] = enabled
        template = TURNED_OFF if not enabled else (
            TURNED_ON_FORUM if isinstance(target, discord.ForumChannel) else TURNED_ON_TEXT)
        await interaction.response.send_message(
            sanitize(template.format(name=target.name)), ephemeral=True,
            allowed_mentions=NO_MENTIONS)

    # -- the listener ------------------------------------------------------------------------

    def _question(self, message: discord.Message) -> str | None:
        """The question to answer, or None when the message is not for ModelDesk to take."""
        me = self.bot.user
        if (me is None or message.author.bot or message.webhook_id is not None
                or message.guild is None or message.type not in ANSWERABLE_TYPES):
            return None
        if addressed_to_us(me, message):
            return None  # the mention path answers it
        where = message.channel
        forum_post = (isinstance(where, discord.Thread) and message.id == where.id
                      and isinstance(where.parent, discord.ForumChannel))
        if forum_post:
            watched = where.parent_id
        elif isinstance(where, discord.TextChannel):
            watched = where.id
        else:
            return None
        if not watched or not self.answers_in(watched):
            return None
        if mentions_someone_else(message, me.id):
            return None
        text = " ".join(message.content.split())
        if forum_post and isinstance(where, discord.Thread):
            # A forum post is a question by design: its title and body are read together.
            title = where.name.strip()
            joint = " " if title.endswith((".", "?", "!", ":")) else ". "
            text = f"{title}{joint}{text}" if text else title
            return text if _words(text) >= MIN_WORDS else None
        return text if reads_as_question(text) else None

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A question in a help channel or a new forum post: answer it in a thread."""
        question = self._question(message)
        if question is None:
            return
        ask: AskCog | None = self.bot.get_cog("AskCog")  # type: ignore[assignment]
        if ask is None:
            return
        log.info("answering a question in help channel %s", message.channel.id)
        await ask.respond(message, question[:MAX_QUESTION_CHARS])


async def setup(bot: ModelDeskBot) -> None:
    await bot.add_cog(HelpChannelCog(bot))
