"""Money and energy for an estimate: $/hour, $/1M tokens, J/token and the break-even volume.

The formulas are listed in `bot.core.costs`; every figure also lands in the assumptions.
"""

from __future__ import annotations

from bot.core.catalog import Hardware
from bot.core.cost_types import CostEstimate

LIFE_YEARS = 3
LIFE_HOURS = LIFE_YEARS * 365 * 24  # 26,280 hours, running around the clock
HOURS_PER_MONTH = 730


def add_money(est: CostEstimate, hw: Hardware | None, usd_per_hour: float | None) -> None:
    power = hw.power_w if hw else None
    electricity = (power / 1000 * est.usd_per_kwh) if power else None
    if usd_per_hour is not None:
        est.usd_per_hour, est.cost_basis = usd_per_hour, "given"
        est.assumptions.append(f"$/hour: ${usd_per_hour:g} as given (electricity included).")
    elif hw and hw.usd_per_hour is not None:
        est.usd_per_hour, est.cost_basis = hw.usd_per_hour, "rental"
        est.assumptions.append(
            f"$/hour: typical rental price ${hw.usd_per_hour:g}"
            + (f" (as of {hw.price_as_of})" if hw.price_as_of else "")
            + ", electricity included."
        )
    elif hw and hw.price_usd is not None:
        amortized = hw.price_usd / LIFE_HOURS
        est.usd_per_hour = amortized + (electricity or 0.0)
        est.cost_basis = "purchase"
        est.assumptions.append(
            f"$/hour: purchase price ${hw.price_usd:,.0f} over {LIFE_YEARS} years running "
            f"around the clock (${amortized:.4f}/h)"
            + (
                f" + {power:g} W x ${est.usd_per_kwh:g}/kWh (${electricity:.4f}/h)"
                if electricity is not None
                else " (power draw unknown, electricity not counted)"
            )
            + "."
        )
    elif electricity is not None:
        est.usd_per_hour, est.cost_basis = electricity, "electricity"
        est.assumptions.append(
            f"$/hour: electricity only, {power:g} W x ${est.usd_per_kwh:g}/kWh (no price known)."
        )
    tps = est.tokens_per_second
    if tps:
        if est.usd_per_hour is not None:
            est.usd_per_million_tokens = est.usd_per_hour * 1e6 / (tps * 3600)
        if power:
            est.joules_per_token = power / tps
            est.wh_per_million_tokens = power * 1e6 / (tps * 3600)
            est.assumptions.append(
                f"Energy: {power:g} W board power drawn the whole time (real draw is often lower)."
            )
    if est.api_usd_per_mtok and est.usd_per_hour is not None:
        monthly = est.usd_per_hour * HOURS_PER_MONTH
        est.break_even_million_tokens_per_month = monthly / est.api_usd_per_mtok
        if tps:
            capacity = tps * 3600 * HOURS_PER_MONTH / 1e6
            est.break_even_reachable = est.break_even_million_tokens_per_month <= capacity
        est.assumptions.append(
            f"Break-even: ${est.usd_per_hour:.4f}/h x {HOURS_PER_MONTH} h a month / "
            f"${est.api_usd_per_mtok:g} per 1M API tokens."
        )
