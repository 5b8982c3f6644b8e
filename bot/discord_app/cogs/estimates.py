"""/cost and /fit: the cost engine's figures and charts. No language model involved."""

from __future__ import annotations

import dataclasses
import io
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.errors import NO_MENTIONS, PUBLIC_PENDING
from bot.discord_app.formatting import DISCORD_LIMIT, sanitize

if TYPE_CHECKING:
    from bot.core.catalog import Catalog
    from bot.discord_app.client import ModelDeskBot

log = logging.getLogger(__name__)

DEFAULT_QUANT = "Q4_K_M"
CLI_HINT = " Full list with `--json`."


def with_assumptions(text: str, assumptions: list[str], limit: int = DISCORD_LIMIT) -> str:
    """The engine's text plus as many of its assumptions as fit, as small print."""
    text = text.replace(CLI_HINT, "")
    for line in assumptions[1:]:
        extra = f"\n-# {line}"
        if len(text) + len(extra) > limit:
            break
        text += extra
    return sanitize(text)


def quant_choices(quants: list[Any], limit: int = 25) -> list[str]:
    """Quantization ids for the choice list (Discord allows 25).

    When the catalog has more, the rarest low-bit i-quants give way first.
    """
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
        self.catalog: Catalog | None = None

    def _load_catalog(self) -> Catalog:
        services = self.bot.services
        if services is not None:
            return services.catalog
        from bot.core.catalog import Catalog  # `modeldesk sync` runs without services

        return Catalog.load(self.bot.settings.knowledge_dir / "data")

    async def cog_load(self) -> None:
        try:
            self.catalog = await self.bot.in_thread(self._load_catalog)
        except Exception:  # noqa: BLE001 - the commands report it when used
            log.exception("the cost catalog could not be loaded")
            return
        quants = [(q, q) for q in quant_choices(self.catalog.quants)]
        if quants:
            # Choices come from knowledge/data/quants.yaml, so they are set when the cog loads.
            # Replace the parameter object rather than mutate the one shared with the class.
            params = self.cost._params  # noqa: SLF001 - discord.py has no public setter
            params["quant"] = dataclasses.replace(params["quant"], choices=_choices(quants))

    async def _catalog(self) -> Catalog:
        if self.catalog is None:
            self.catalog = await self.bot.in_thread(self._load_catalog)
        return self.catalog

    async def _models(self, _: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        if self.catalog is None:
            return []
        return _choices([(m.name, m.id) for m in self.catalog.suggest_models(current, limit=25)])

    async def _hardware(
        self, _: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if self.catalog is None:
            return []
        return _choices([(h.name, h.id) for h in self.catalog.suggest_hardware(current, limit=25)])

    async def _reply(
        self, interaction: discord.Interaction, text: str, png: Any, filename: str
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

    @app_commands.command(name="cost", description="Memory, speed and cost of running a model.")
    @app_commands.describe(
        model="An open model, e.g. Llama 3.1 8B",
        quant="Quantization (default Q4_K_M)",
        context="Tokens of context to hold (default 8192)",
        hardware="A GPU, Mac or CPU box (optional: fit, speed and money)",
    )
    @app_commands.autocomplete(model=_models, hardware=_hardware)
    async def cost(
        self,
        interaction: discord.Interaction,
        model: str,
        quant: str = DEFAULT_QUANT,
        context: app_commands.Range[int, 1, 10_000_000] = 8192,
        hardware: str | None = None,
    ) -> None:
        """Reply with the estimate, its assumptions and the memory chart."""
        from bot.core.charts import cost_chart_png
        from bot.core.costs import estimate_cost, format_cost

        catalog = await self._catalog()
        est = await self.bot.in_thread(
            estimate_cost, model, quant=quant, context=context, hardware=hardware, catalog=catalog
        )
        text = with_assumptions(format_cost(est), est.assumptions)
        await self._reply(interaction, text, lambda: cost_chart_png(est), "cost.png")

    @app_commands.command(name="fit", description="Which open models fit on a machine.")
    @app_commands.describe(
        hardware="A GPU, Mac or CPU box", context="Tokens of context to hold (default 8192)"
    )
    @app_commands.autocomplete(hardware=_hardware)
    async def fit(
        self,
        interaction: discord.Interaction,
        hardware: str,
        context: app_commands.Range[int, 1, 10_000_000] = 8192,
    ) -> None:
        """Reply with the models that fit, best first, and the chart."""
        from bot.core.charts import fit_chart_png
        from bot.core.costs import fit_models, format_fit

        catalog = await self._catalog()
        hw = await self.bot.in_thread(catalog.hardware_named, hardware)
        results = await self.bot.in_thread(fit_models, catalog, hw, context=context)
        text = sanitize(format_fit(hw, results).replace(CLI_HINT, ""))
        await self._reply(interaction, text, lambda: fit_chart_png(hw, results), "fit.png")


async def setup(bot: ModelDeskBot) -> None:
    await bot.add_cog(EstimatesCog(bot))
