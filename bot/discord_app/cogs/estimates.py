"""/cost and /fit: the cost engine's figures and charts. No language model involved."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.costs import DEFAULT_USD_PER_KWH, KV_TYPES
from bot.core.desk import COUNT_PREFIX, DEFAULT_CONTEXT, DEFAULT_QUANT, SAVED_MACHINE_NOTE
from bot.core.errors import InvalidInput
from bot.discord_app.errors import NO_MENTIONS, PUBLIC_PENDING
from bot.discord_app.formatting import DISCORD_LIMIT, sanitize
from bot.render.estimates import ASSUMPTIONS_HINT, format_cost, format_fit

if TYPE_CHECKING:
    from bot.core.catalog import Hardware, Quant
    from bot.core.my_hardware import SavedMachine
    from bot.discord_app.client import ModelDeskBot

log = logging.getLogger(__name__)

# The quantizations offered as choices (Discord allows 25): the ones people download, from
# quants.yaml order; the rarest low-bit i-quants give way first. Any other id still works when
# typed, since the option is free text with autocomplete.
CHOICE_LIMIT = 25
NO_MACHINE = ("Name a machine (for example 2x rtx-3090), or save yours once with "
              "`/myhardware set`.")


def with_assumptions(text: str, assumptions: list[str], limit: int = DISCORD_LIMIT) -> str:
    """The engine's text plus as many of its assumptions as fit, as small print."""
    text = text.replace(ASSUMPTIONS_HINT, "")
    for line in assumptions[1:]:
        extra = f"\n-# {line}"
        if len(text) + len(extra) > limit:
            break
        text += extra
    return sanitize(text)


def quant_choices(quants: list[Quant], limit: int = CHOICE_LIMIT) -> list[str]:
    """Quantization ids for the choice list; when the catalog has more than `limit`, the rarest
    low-bit i-quants give way first."""
    ids = [q.id for q in quants]
    exotic = sorted((q for q in quants if q.id.upper().startswith("IQ")),
                    key=lambda q: q.bits_per_weight)
    for quant in exotic:
        if len(ids) <= limit:
            break
        ids.remove(quant.id)
    return ids[:limit]


def _choices(names: list[tuple[str, str]]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=label[:100], value=value[:100]) for label, value in names][:25]


class EstimatesCog(commands.Cog):
    """Memory, fit, speed and money for open models on named hardware."""

    def __init__(self, bot: ModelDeskBot) -> None:
        self.bot = bot
        self.quants: list[str] = []

    async def cog_load(self) -> None:
        try:
            catalog = await self.bot.in_thread(lambda: self.bot.desk.catalog)
        except Exception:  # noqa: BLE001 - the commands report it when used
            log.exception("the cost catalog could not be loaded")
            return
        self.quants = quant_choices(catalog.quants)

    def suggest(self, kind: str, current: str) -> list[app_commands.Choice[str]]:
        """Autocomplete choices for a model or a machine (a GPU count prefix is kept)."""
        try:
            catalog = self.bot.desk.catalog
        except Exception:  # noqa: BLE001 - autocomplete stays quiet; the command reports it
            return []
        if kind == "model":
            return _choices([(m.name, m.id) for m in catalog.suggest_models(current, limit=25)])
        count = COUNT_PREFIX.match(current)  # "2x rtx 3090": suggest the machines, keep the count
        prefix, rest = (f"{count.group(1)}x ", count.group(2)) if count else ("", current)
        return _choices([(prefix + h.name, prefix + h.id)
                         for h in catalog.suggest_hardware(rest, limit=25)])

    async def _models(self, _: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return self.suggest("model", current)

    async def _hardware(
        self, _: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return self.suggest("hardware", current)

    async def _quants(self, _: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        key = current.lower().replace("_", "")
        return _choices([(q, q) for q in self.quants if key in q.lower().replace("_", "")])

    async def _reply(
        self, interaction: discord.Interaction, text: str, png: Callable[[], bytes],
        filename: str
    ) -> None:
        await interaction.response.defer(thinking=True)
        interaction.extras[PUBLIC_PENDING] = True
        data: bytes = await self.bot.in_thread(png)
        await interaction.edit_original_response(
            content=text,
            attachments=[discord.File(io.BytesIO(data), filename=filename)],
            allowed_mentions=NO_MENTIONS,
        )
        interaction.extras.pop(PUBLIC_PENDING, None)

    async def _saved(self, interaction: discord.Interaction) -> SavedMachine | None:
        """The member's saved machine (/myhardware), read off the event loop."""
        return await self.bot.in_thread(self.bot.desk.my_machine, interaction.user.id)

    @app_commands.command(name="cost", description="Memory, speed and cost of running a model.")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    @app_commands.allowed_installs(guilds=True, users=False)
    @app_commands.describe(
        model="An open model, e.g. Llama 3.1 8B",
        quant=f"Quantization (default {DEFAULT_QUANT})",
        context=f"Tokens of context to hold (default {DEFAULT_CONTEXT})",
        hardware='A GPU, Mac or CPU box, or several: "2x rtx-3090" (default: /myhardware)',
        kv_type="KV cache type (default f16)",
        gpus="Identical GPUs the layers are split over (default 1)",
        parallel="Sequences served at once, llama-server slots (default 1)",
        usd_per_hour="Your hourly price in USD (wins over the catalog's)",
        usd_per_kwh=f"Electricity price in USD per kWh (default {DEFAULT_USD_PER_KWH})",
        api_usd_per_mtok="An API's price per 1M output tokens, for the break-even",
    )
    @app_commands.autocomplete(model=_models, hardware=_hardware, quant=_quants)
    @app_commands.choices(kv_type=[app_commands.Choice(name=k, value=k) for k in KV_TYPES])
    async def cost(
        self,
        interaction: discord.Interaction,
        model: str,
        quant: str = DEFAULT_QUANT,
        context: app_commands.Range[int, 1, 10_000_000] = DEFAULT_CONTEXT,
        hardware: str | None = None,
        kv_type: str = "f16",
        gpus: app_commands.Range[int, 1, 64] | None = None,
        parallel: app_commands.Range[int, 1, 256] = 1,
        usd_per_hour: app_commands.Range[float, 0.0, 10_000.0] | None = None,
        usd_per_kwh: app_commands.Range[float, 0.0, 100.0] | None = None,
        api_usd_per_mtok: app_commands.Range[float, 0.0001, 10_000.0] | None = None,
    ) -> None:
        """Reply with the estimate, its assumptions and the memory chart; with no machine
        named, on the member's saved one (/myhardware), if any."""
        from bot.render.charts import cost_chart_png

        machine: str | Hardware | None = hardware
        ram_gb = None
        saved = None if hardware else await self._saved(interaction)
        if saved is not None:
            machine, ram_gb = saved.machine.hardware, saved.ram_gb
            gpus = gpus or saved.machine.gpus
        est = await self.bot.in_thread(
            self.bot.desk.cost, model, quant=quant, context=context, hardware=machine,
            kv_type=kv_type, gpus=gpus, parallel=parallel, usd_per_hour=usd_per_hour,
            usd_per_kwh=usd_per_kwh, api_usd_per_mtok=api_usd_per_mtok, ram_gb=ram_gb,
        )
        note = "" if saved is None else "\n" + SAVED_MACHINE_NOTE.format(label=saved.label)
        text = with_assumptions(format_cost(est) + note, est.assumptions)
        await self._reply(interaction, text, lambda: cost_chart_png(est), "cost.png")

    @app_commands.command(name="fit", description="Which open models fit on a machine.")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    @app_commands.allowed_installs(guilds=True, users=False)
    @app_commands.describe(
        hardware='A GPU, Mac or CPU box, or several: "2x rtx-3090" (default: /myhardware)',
        context=f"Tokens of context to hold (default {DEFAULT_CONTEXT})",
    )
    @app_commands.autocomplete(hardware=_hardware)
    async def fit(
        self,
        interaction: discord.Interaction,
        hardware: str | None = None,
        context: app_commands.Range[int, 1, 10_000_000] = DEFAULT_CONTEXT,
    ) -> None:
        """Reply with the models that fit, best first, and the chart; with no machine named,
        on the member's saved one (/myhardware)."""
        from bot.render.charts import fit_chart_png

        note = ""
        if hardware:
            report = await self.bot.in_thread(self.bot.desk.fit, hardware, context=context)
        else:
            saved = await self._saved(interaction)
            if saved is None:
                raise InvalidInput(NO_MACHINE)
            report = await self.bot.in_thread(self.bot.desk.fit, saved.machine.hardware,
                                              context=context, gpus=saved.machine.gpus)
            note = "\n" + SAVED_MACHINE_NOTE.format(label=saved.label)
        text = sanitize(format_fit(report.hardware, report.results).replace(ASSUMPTIONS_HINT, "")
                        + note)
        await self._reply(interaction, text,
                          lambda: fit_chart_png(report.hardware, report.results), "fit.png")


async def setup(bot: ModelDeskBot) -> None:
    await bot.add_cog(EstimatesCog(bot))
