"""Which catalog models fit on a machine, each at the best quantization that fits."""

from __future__ import annotations

from bot.core.catalog import Catalog, Hardware, Quant, normalize
from bot.core.cost_types import FitResult
from bot.core.costs import FIT_LADDER, FIT_MAX_BITS, FIT_MIN_BITS, GOOD_BITS, estimate_cost
from bot.core.errors import InvalidInput


def fit_ladder(catalog: Catalog) -> list[Quant]:
    """The quantizations `fit` tries, most bits first (see FIT_LADDER)."""
    by_key = {normalize(q.id): q for q in catalog.quants}
    ladder = [by_key[normalize(name)] for name in FIT_LADDER if normalize(name) in by_key]
    if not ladder:
        ladder = [q for q in catalog.quants if FIT_MIN_BITS <= q.bits_per_weight <= FIT_MAX_BITS]
    return sorted(ladder, key=lambda q: -q.bits_per_weight)


def fit_models(
    catalog: Catalog, hardware: Hardware | str, *, context: int = 8192, gpus: int = 1
) -> list[FitResult]:
    """Every catalog model that fits entirely in the hardware's memory, best first.

    Each model gets the first quantization of the ladder F16, Q8_0, Q6_K, Q5_K_M, Q4_K_M,
    IQ4_XS, Q3_K_M, Q2_K that fits at `context` tokens; models whose maximum context is
    shorter are skipped. Order: about 4 bits per weight or more (>= 4.4) first, then more
    parameters, then faster.

    Raises:
        InvalidInput: context is not a positive whole number.
        NotFound: unknown hardware name.
    """
    hw = catalog.hardware_named(hardware) if isinstance(hardware, str) else hardware
    if isinstance(context, bool) or not isinstance(context, int) or context <= 0:
        raise InvalidInput(f"Context must be a whole number of tokens, 1 or more, not {context}.")
    ladder = fit_ladder(catalog)
    results: list[FitResult] = []
    for model in catalog.models:
        if model.context < context:
            continue
        for quant in ladder:
            est = estimate_cost(model, quant=quant, context=context, hardware=hw, gpus=gpus,
                                catalog=catalog)
            if est.fits:
                results.append(FitResult(est))
                break
    results.sort(
        key=lambda r: (
            r.quant.bits_per_weight >= GOOD_BITS,
            r.model.params_b,
            r.tokens_per_second or 0.0,
        ),
        reverse=True,
    )
    return results
