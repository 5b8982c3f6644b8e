"""The PNG charts for `cost` and `fit`."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt

from bot.core.catalog import Catalog
from bot.core.costs import estimate_cost
from bot.core.fit import fit_models
from bot.render.charts import cost_chart_png, fit_chart_png

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "catalog"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_cost_chart_is_a_png_and_closes_its_figure() -> None:
    catalog = Catalog.load(FIXTURES)
    est = estimate_cost("llama-3.1-8b", hardware="rtx-3060-12gb", catalog=catalog)
    before = len(plt.get_fignums())
    png = cost_chart_png(est)
    assert png.startswith(PNG_MAGIC)
    assert len(png) > 5_000
    assert len(plt.get_fignums()) == before
    assert matplotlib.get_backend().lower() == "agg"
    # Without hardware there is still a memory breakdown.
    assert cost_chart_png(estimate_cost("llama-3.1-8b", catalog=catalog)).startswith(PNG_MAGIC)


def test_fit_chart_is_a_png_even_when_nothing_fits() -> None:
    catalog = Catalog.load(FIXTURES)
    hw = catalog.hardware_named("rtx-4090")
    png = fit_chart_png(hw, fit_models(catalog, hw))
    assert png.startswith(PNG_MAGIC)
    assert len(png) > 5_000
    empty = fit_chart_png(hw, [])
    assert empty.startswith(PNG_MAGIC) and len(empty) > 2_000
