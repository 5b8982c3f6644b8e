"""/ask, and answers to mentions in a thread with follow-ups that keep the thread's history."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.desk import MAX_QUESTION_CHARS, MIN_QUESTION_CHARS
from bot.core.errors import MODEL_DOWN, STORE_DOWN, BackendUnavailable
from bot.discord_app.answering import (
    History,
    deliver_interaction,
    deliver_message,
    generate,
    saved_machine,
)
from bot.discord_app.errors import APOLOGY, NO_MENTIONS, PUBLIC_PENDING, user_message
from bot.discord_app.formatting import sanitize, strip_reply_extras
from bot.discord_app.limits import wait_message

if TYPE_CHECKING:
    from bot.discord_app.client import ModelDeskBot

log = logging.getLogger(__name__)

THINKING = "Thinking…"
EMPTY_MENTION = "Ask me a question after the mention, for example: which model fits in 8 GB?"


def thread_name(question: str) -> str:
    """A thread title from the question (Discord allows 100 characters)."""
    name = " ".join(sanitize(question).split())
    return (name[:95] + "…") if len(name) > 96 else (name or "ModelDesk answer")


def _not_an_answer(text: str) -> bool:
    """Our own status and error messages are not part of the conversation."""
    return text in (THINKING, EMPTY_MENTION, MODEL_DOWN, STORE_DOWN, APOLOGY) or text.startswith(
        ("Please wait ", "You are number ")
    )


def addressed_to_us(me: discord.abc.Snowflake | None, message: discord.Message) -> bool:
    """A guild message for the bot: in a thread it owns, mentioning it, or replying to it."""
    if me is None or message.author.bot or message.guild is None:
        return False
    channel = message.channel
    if isinstance(channel, discord.Thread) and channel.owner_id == me.id:
        return True
    if me.id in message.raw_mentions:
        return True
    ref = message.reference
    resolved = ref.resolved if ref else None
    return isinstance(resolved, discord.Message) and resolved.author.id == me.id


class AskCog(commands.Cog):
    """Questions answered from the knowledge base."""

    def __init__(self, bot: ModelDeskBot) -> None:
        self.bot = bot

    @app_commands.command(name="ask", description="Ask a question about open AI models.")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    @app_commands.allowed_installs(guilds=True, users=False)
    @app_commands.describe(question="Your question, e.g. how much VRAM does a 7B model need?")
    async def ask(
        self,
        interaction: discord.Interaction,
        question: app_commands.Range[str, MIN_QUESTION_CHARS, MAX_QUESTION_CHARS],
    ) -> None:
        """Defer at once, wait for the model, stream, then show the cited answer."""
        user_id = interaction.user.id
        wait = await self.bot.cooldowns.ahit(user_id)
        if wait:
            self.bot.note_rate_limited("ask", interaction.guild_id, wait)
            await interaction.response.send_message(
                wait_message(wait), ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        try:
            self.bot.model_queue.check()
            await interaction.response.defer(thinking=True)
            interaction.extras[PUBLIC_PENDING] = True

            async def edit(text: str) -> None:
                await interaction.edit_original_response(content=text, allowed_mentions=NO_MENTIONS)

            machine = await saved_machine(self.bot, user_id)
            answer = await generate(self.bot, question, None, edit, machine=machine)
            await deliver_interaction(self.bot, interaction, answer)
            interaction.extras.pop(PUBLIC_PENDING, None)
        except BaseException:
            await self.bot.cooldowns.arefund(user_id)  # not the user's fault: give it back
            raise

    # -- mentions and threads ---------------------------------------------------------------

    def _is_for_us(self, message: discord.Message) -> bool:
        return addressed_to_us(self.bot.user, message)

    def _clean(self, content: str) -> str:
        me = self.bot.user
        if me is not None:
            content = re.sub(rf"<@!?{me.id}>", " ", content)
        return " ".join(content.split())

    async def _history(self, thread: discord.Thread, before: discord.Message) -> History:
        """The thread's earlier turns, oldest first, bounded by the desk's history policy."""
        me = self.bot.user
        limit = max(0, 2 * self.bot.settings.history_turns)
        if me is None or limit == 0:
            return []
        earlier: History = []
        starter = thread.starter_message
        if starter is None and thread.parent is not None:
            try:
                starter = await thread.parent.fetch_message(thread.id)  # type: ignore[union-attr]
            except discord.HTTPException:
                starter = None
        async for msg in thread.history(limit=limit, before=before):  # newest first
            if msg.author.id == me.id:
                earlier.append(("assistant", strip_reply_extras(msg.content)))
            else:
                earlier.append(("user", self._clean(msg.content)))
        earlier.reverse()
        if starter is not None:
            earlier.insert(0, ("user", self._clean(starter.content)))
        merged: History = []
        for role, text in earlier:
            if not text or (role == "assistant" and _not_an_answer(text)):
                continue
            if merged and merged[-1][0] == role:  # a long answer sent as several messages
                merged[-1] = (role, merged[-1][1] + "\n\n" + text)
            else:
                merged.append((role, text))
        return self.bot.desk.trim_history(merged)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer a mention (or a reply to us) in a thread; treat thread messages as follow-ups."""
        if not self._is_for_us(message):
            return
        question = self._clean(message.content)
        if not question:
            if self.bot.user is not None and self.bot.user.id in message.raw_mentions:
                await message.reply(EMPTY_MENTION, mention_author=False,
                                    allowed_mentions=NO_MENTIONS)
            return  # e.g. only an image in the thread: nothing to answer
        await self.respond(message, question)

    async def respond(self, message: discord.Message, question: str) -> None:
        """Answer a message in a thread: the thread it was posted in (a forum post, or our own
        thread, whose history shapes the answer), else a new thread started from it."""
        user_id = message.author.id
        try:
            wait = await self.bot.cooldowns.ahit(user_id)
        except BackendUnavailable as exc:  # the shared rate-limit store is down
            await message.reply(user_message(exc), mention_author=False,
                                allowed_mentions=NO_MENTIONS)
            return
        if wait:
            self.bot.note_rate_limited("mention", message.guild.id if message.guild else None, wait)
            await message.reply(wait_message(wait), mention_author=False,
                                allowed_mentions=NO_MENTIONS, delete_after=10)
            return
        placeholder: discord.Message | None = None
        try:
            self.bot.model_queue.check()
            channel = message.channel
            history: History | None = None
            if isinstance(channel, discord.Thread):
                thread = channel
                if self.bot.user is not None and channel.owner_id == self.bot.user.id:
                    history = await self._history(channel, before=message)
            else:
                thread = await message.create_thread(
                    name=thread_name(question), auto_archive_duration=1440
                )
            placeholder = pending = await thread.send(THINKING, allowed_mentions=NO_MENTIONS)

            async def edit(text: str) -> None:
                await pending.edit(content=text, allowed_mentions=NO_MENTIONS)

            machine = await saved_machine(self.bot, user_id)
            answer = await generate(self.bot, question, history, edit, machine=machine)
            await deliver_message(self.bot, placeholder, answer)
        except Exception as exc:  # noqa: BLE001 - the same one-sentence rule as slash commands
            await self.bot.cooldowns.arefund(user_id)
            text = user_message(exc)
            try:
                if placeholder is not None:
                    await placeholder.edit(content=text, allowed_mentions=NO_MENTIONS)
                else:
                    await message.reply(text, mention_author=False, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException:
                log.warning("could not report an error in the thread", exc_info=True)


async def setup(bot: ModelDeskBot) -> None:
    await bot.add_cog(AskCog(bot))
