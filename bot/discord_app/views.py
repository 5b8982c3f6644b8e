"""👍/👎 buttons under each answer; votes survive restarts (the answer id is in the custom id).
A 👎 is recorded at once and opens "What was wrong?", whose reason and note join the vote."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot.core.feedback import MAX_NOTE_CHARS, REASONS
from bot.discord_app.errors import NO_MENTIONS, report_error
from bot.logs import request_fields

log = logging.getLogger(__name__)

VOTES = {
    "up": (1, "👍", "Thanks, your 👍 is recorded."),
    "down": (-1, "👎", "Thanks, your 👎 is recorded."),
}
WHY_TITLE = "What was wrong?"
WHY_THANKS = ("Thanks, your 👎 and what was wrong are recorded; the people who keep the "
              "knowledge base see them in `/kb gaps`.")
WHY_TIMEOUT = 15 * 60  # the form is answered within minutes or not at all


class WhyModal(discord.ui.Modal):
    """"What was wrong?": one reason (wrong / outdated / did not answer / other) and an optional
    note of up to 300 characters, stored with the 👎 on that answer."""

    def __init__(self, answer_id: int) -> None:
        super().__init__(title=WHY_TITLE, timeout=WHY_TIMEOUT)
        self.answer_id = answer_id
        self.reason: discord.ui.Select[Any] = discord.ui.Select(
            custom_id="modeldesk:why:reason", placeholder="Pick one",
            options=[discord.SelectOption(label=label, value=value)
                     for value, label in REASONS.items()])
        self.note: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="modeldesk:why:note", style=discord.TextStyle.paragraph, required=False,
            max_length=MAX_NOTE_CHARS, placeholder="What should it have said? (optional)")
        self.add_item(discord.ui.Label(text="The answer was…", component=self.reason))
        self.add_item(discord.ui.Label(text="Anything to add?", component=self.note))

    async def on_submit(self, interaction: discord.Interaction) -> None:
        bot: Any = interaction.client
        reason = self.reason.values[0] if self.reason.values else "other"
        await bot.in_thread(bot.desk.record_reason, self.answer_id, interaction.user.id,
                            str(reason), self.note.value or "")
        await interaction.response.send_message(WHY_THANKS, ephemeral=True,
                                                allowed_mentions=NO_MENTIONS)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_error(interaction, error)


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"modeldesk:vote:(?P<vote>up|down):(?P<answer_id>\d+)",
):
    """One vote button; the bot resolves it from its custom id, even after a restart."""

    def __init__(self, answer_id: int, vote: str) -> None:
        self.answer_id = answer_id
        self.vote = vote
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary,
                emoji=VOTES[vote][1],
                custom_id=f"modeldesk:vote:{vote}:{answer_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> VoteButton:
        return cls(int(match["answer_id"]), match["vote"])

    async def callback(self, interaction: discord.Interaction) -> None:
        value, _, thanks = VOTES[self.vote]
        bot: Any = interaction.client
        try:
            await bot.in_thread(
                bot.desk.record_vote, self.answer_id, interaction.user.id, value
            )
        except Exception as exc:  # noqa: BLE001 - the one error path reports it
            await report_error(interaction, exc)
            return
        metrics = getattr(bot, "metrics", None)
        if metrics is not None:
            metrics.voted(value)
        log.info("vote", extra=request_fields(command="vote", guild=interaction.guild_id,
                                              vote=self.vote))
        if value < 0:  # the vote stands even if the form is closed unanswered
            await interaction.response.send_modal(WhyModal(self.answer_id))
            return
        await interaction.response.send_message(
            thanks, ephemeral=True, allowed_mentions=NO_MENTIONS
        )


def feedback_view(answer_id: int) -> discord.ui.View:
    """The view with both vote buttons for one recorded answer."""
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(answer_id, "up"))
    view.add_item(VoteButton(answer_id, "down"))
    return view
