"""/cost and /fit reply with the cost engine's own figures and a chart; no language model."""

from __future__ import annotations

import pytest
from e2e_support import Desk

from bot.core.costs import estimate_cost
from bot.core.fit import fit_models
from bot.discord_app.cogs.estimates import quant_choices
from bot.render.estimates import rate, size

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


def _with_chart(inter) -> bool:  # noqa: ANN001 - a FakeInteraction
    return bool(inter.original and inter.original["attachments"])


async def test_cost_shows_the_engines_figures_and_a_chart(desk: Desk) -> None:
    catalog = desk.services.catalog
    synced = {c["name"]: c for c in desk.fake.commands[str(desk.fake.guild_id)]}
    quant = next(o for o in synced["cost"]["options"] if o["name"] == "quant")
    assert quant.get("autocomplete") is True  # any catalog quant, offered as the user types
    ac = await desk.fake.slash("cost", {"model": "llama-3.1-8b", "quant": "q4"}, itype=4,
                               focused="quant")
    await desk.fake.wait_until(lambda: ac.callbacks, timeout=10)
    offered = [c["value"] for c in ac.callbacks[0]["data"]["choices"]]
    assert "Q4_K_M" in offered and set(offered) <= set(quant_choices(catalog.quants))
    assert all("4" in q for q in offered)

    asked_before = len(desk.calls)
    options = {"model": "llama-3.1-8b", "quant": "Q4_K_M", "context": 8192,
               "hardware": "rtx-3060-12gb"}
    inter = await desk.fake.slash("cost", options, user="alice")
    await desk.fake.wait_until(lambda: _with_chart(inter), timeout=60)

    est = estimate_cost("llama-3.1-8b", quant="Q4_K_M", context=8192,
                        hardware="rtx-3060-12gb", catalog=catalog)
    text = inter.original["content"]
    assert size(est.total_bytes) in text
    assert size(est.weights_bytes) in text and size(est.kv_cache_bytes) in text
    assert f"{rate(est.tokens_per_second)} tokens/s" in text
    assert ("Fits on" in text) == bool(est.fits)
    assert est.assumptions[1][:40] in text  # assumptions are shown, not only the first
    upload = [f for r in desk.fake.requests for f in r.files if inter.token in r.path]
    assert upload and upload[-1]["filename"] == "cost.png" and upload[-1]["head"][:4] == b"\x89PNG"
    assert len(desk.calls) == asked_before, "/cost must not touch the language model"


async def test_cost_autocompletes_models_and_explains_unknown_names(desk: Desk) -> None:
    ac = await desk.fake.slash("cost", {"model": "llama 3.1"}, itype=4, focused="model")
    await desk.fake.wait_until(lambda: ac.callbacks, timeout=10)
    assert ac.callbacks[0]["type"] == 8
    values = [c["value"] for c in ac.callbacks[0]["data"]["choices"]]
    assert "llama-3.1-8b" in values and len(values) <= 25

    bad = await desk.run("cost", {"model": "gpt-17-turbo"}, user="alice")
    reply = bad.callbacks[0]
    assert reply["type"] == 4 and reply["data"]["flags"] & 64
    assert "gpt-17-turbo" in reply["data"]["content"]


async def test_fit_lists_the_models_that_fit_best_first(desk: Desk) -> None:
    catalog = desk.services.catalog
    inter = await desk.fake.slash("fit", {"hardware": "rtx-4090", "context": 8192}, user="bob")
    await desk.fake.wait_until(lambda: _with_chart(inter), timeout=60)
    results = fit_models(catalog, "rtx-4090", context=8192)
    text = inter.original["content"]
    assert f"{len(results)} models fit" in text
    assert results[0].model.name.split()[0] in text
    assert inter.original["attachments"][0]["filename"] == "fit.png"
