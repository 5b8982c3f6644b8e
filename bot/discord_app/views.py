"""👍/👎 buttons under each answer; votes survive restarts (the answer id is in the custom id)."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot.discord_app.errors import NO_MENTIONS, report_error
from bot.logs import request_fields

log = logging.getLogger(__name__)

VOTES = {
    "up": (1, "👍", "Thanks, your 👍 is recorded."),
    "down": (-1, "👎", "Thanks, your 👎 is recorded."),
}


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
        await interaction.response.send_message(
            thanks, ephemeral=True, allowed_mentions=NO_MENTIONS
        )


def feedback_view(answer_id: int) -> discord.ui.View:
    """The view with both vote buttons for one recorded answer."""
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(answer_id, "up"))
    view.add_item(VoteButton(answer_id, "down"))
    return view
