"""Running one question through the model queue and delivering the reply (slash or thread)."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord

from bot.core.types import Answer
from bot.discord_app.errors import NO_MENTIONS
from bot.discord_app.formatting import (
    DISCORD_LIMIT,
    answer_messages,
    format_sources,
    preview,
    preview_with_sources,
    split_message,
)
from bot.discord_app.streaming import ThrottledEditor
from bot.discord_app.views import feedback_view
from bot.logs import request_fields

if TYPE_CHECKING:
    from bot.discord_app.client import ModelDeskBot

log = logging.getLogger(__name__)

Edit = Callable[[str], Awaitable[Any]]
History = list[tuple[str, str]]


def queue_message(position: int) -> str:
    """What a queued user reads."""
    return (
        f"You are number {position} in the queue; "
        "your answer starts as soon as the model is free."
    )


async def saved_machine(bot: ModelDeskBot, user_id: int) -> str | None:
    """The machine a member saved with /myhardware (None when none, or the store is down)."""
    try:
        return await bot.in_thread(bot.desk.saved_hardware, user_id)
    except Exception:  # noqa: BLE001 - an answer without the saved machine beats no answer
        log.exception("could not read the saved hardware")
        return None


async def generate(
    bot: ModelDeskBot, question: str, history: History | None, edit: Edit,
    subject: str | None = None, machine: str | None = None,
) -> Answer:
    """Wait for the model, then answer in a worker thread while streaming previews into `edit`.

    A question the calculator answers skips the model queue: it takes milliseconds. `machine`
    is the asker's saved machine, for fit questions that name none.
    """
    computed = await bot.in_thread(bot.desk.quick, question, history=history, subject=subject,
                                   machine=machine)
    if computed is not None:
        return computed
    editor = ThrottledEditor(edit, interval=1.0)

    async def on_queued(position: int) -> None:
        await edit(queue_message(position))

    waited = time.perf_counter()
    async with bot.model_queue.turn(on_queued=on_queued):
        waited_ms = round((time.perf_counter() - waited) * 1000, 1)
        push = editor.pusher(asyncio.get_running_loop())

        sources = {"text": ""}

        def show_sources(early: Answer) -> None:
            # Sources are known ~20 ms after the question: show them while the model writes.
            sources["text"] = format_sources(early.citations)
            push(preview_with_sources(early))

        def show_partial(text: str) -> None:
            # Verified sentences replace the quote; the sources stay on screen.
            push(split_message(preview(text) + "\n\n" + sources["text"])[0])

        def work() -> Answer:
            # The desk loads the model on first use: that too stays off the loop.
            return bot.desk.ask(question, history=history, subject=subject,
                                on_partial=show_partial, on_preview=show_sources,
                                machine=machine)

        try:
            answer = await bot.in_thread(work)
        finally:
            await editor.close()
        answer.timings["queue_ms"] = waited_ms
        return answer


def note_answer(bot: ModelDeskBot, answer: Answer, *, command: str,
                guild: int | None) -> None:
    """One log line (and the metrics) per answer delivered; the question only if opted in."""
    log.info("answered", extra=request_fields(
        command=command, guild=guild, mode=answer.mode, timings=answer.timings,
        question=answer.question, log_questions=bot.settings.log_questions))
    metrics = getattr(bot, "metrics", None)
    if metrics is not None:
        metrics.answered(answer, command)


async def record(bot: ModelDeskBot, answer: Answer, channel: str) -> discord.ui.View | None:
    """Store the answer for feedback; the vote buttons when that worked."""
    try:
        answer_id = await bot.in_thread(bot.desk.record_answer, answer, channel)
    except Exception:  # noqa: BLE001 - an answer without vote buttons beats no answer
        log.exception("could not record the answer for feedback")
        return None
    return feedback_view(answer_id)


def _chart_png(estimate: Any) -> bytes:
    # The import too runs in the worker: matplotlib takes about a second to import, and the
    # first chart would otherwise stall the event loop (heartbeats, every other member).
    from bot.render.charts import cost_chart_png

    return cost_chart_png(estimate)


async def chart_for(bot: ModelDeskBot, answer: Answer) -> discord.File | None:
    """The memory chart of a computed answer that named a machine."""
    est = answer.estimate
    if est is None or est.hardware is None:
        return None
    try:
        data: bytes = await bot.in_thread(_chart_png, est)
    except Exception:  # noqa: BLE001 - the answer without its chart beats no answer
        log.exception("could not draw the chart")
        return None
    return discord.File(io.BytesIO(data), filename="memory.png")


async def deliver_interaction(
    bot: ModelDeskBot, interaction: discord.Interaction, answer: Answer, lead: str = ""
) -> None:
    """Replace the deferred reply with the answer; extra parts as follow-ups, votes on the last.
    `lead` is a first line, such as which message a right-click answer is about."""
    parts = answer_messages(answer, DISCORD_LIMIT - len(lead) - 1 if lead else DISCORD_LIMIT)
    if lead:
        parts[0] = lead + "\n" + parts[0]
    view = await record(bot, answer, "slash")
    chart = await chart_for(bot, answer)
    last = len(parts) - 1
    for i, text in enumerate(parts):
        extra: dict[str, Any] = {"view": view} if view is not None and i == last else {}
        if chart is not None and i == 0:
            extra["attachments"] = [chart]
        if i == 0:
            await interaction.edit_original_response(
                content=text, allowed_mentions=NO_MENTIONS, **extra
            )
        else:
            await interaction.followup.send(text, allowed_mentions=NO_MENTIONS, **extra)
    command = interaction.command.name if interaction.command is not None else "ask"
    note_answer(bot, answer, command=command, guild=interaction.guild_id)


async def deliver_message(
    bot: ModelDeskBot, placeholder: discord.Message, answer: Answer
) -> None:
    """Replace a placeholder message in a thread with the answer (more messages if long)."""
    parts = answer_messages(answer)
    view = await record(bot, answer, "thread")
    chart = await chart_for(bot, answer)
    last = len(parts) - 1
    for i, text in enumerate(parts):
        extra: dict[str, Any] = {"view": view} if view is not None and i == last else {}
        if chart is not None and i == 0:
            extra["attachments"] = [chart]
        if i == 0:
            await placeholder.edit(content=text, allowed_mentions=NO_MENTIONS, **extra)
        else:
            await placeholder.channel.send(text, allowed_mentions=NO_MENTIONS, **extra)
    guild = placeholder.guild.id if placeholder.guild is not None else None
    note_answer(bot, answer, command="mention", guild=guild)
