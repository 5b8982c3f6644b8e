"""The cost and fit engine against published figures and its own stated formulas."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.catalog import Catalog, Hardware, Model
from bot.core.costs import (
    GIB,
    LIFE_HOURS,
    MIB,
    compute_buffer_bytes,
    estimate_cost,
    kv_cache_bytes,
)
from bot.core.errors import InvalidInput, NotFound
from bot.core.fit import fit_ladder, fit_models
from bot.render.estimates import ASSUMPTIONS_HINT, format_cost, format_fit, safe

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "catalog"
CATALOG = Catalog.load(FIXTURES)


def _gib(n: int) -> float:
    return n / GIB


# --- memory, against llama.cpp's published figures ------------------------------------------

# ggml-org/llama.cpp tools/quantize/README.md, Llama-3.1-8B: size in GiB.
QUANTIZE_README_GIB = {"Q4_K_M": 4.58, "Q8_0": 7.95, "F16": 14.96}


@pytest.mark.parametrize("quant", ["Q4_K_M", "Q8_0"])
def test_llama31_8b_size_from_published_file_matches_llama_cpp(quant: str) -> None:
    est = estimate_cost("llama-3.1-8b", quant=quant, catalog=CATALOG)
    assert est.weights_basis.startswith("published GGUF file size")
    assert _gib(est.weights_bytes) == pytest.approx(QUANTIZE_README_GIB[quant], rel=0.03)


@pytest.mark.parametrize("quant", ["Q4_K_M", "Q8_0", "F16"])
def test_llama31_8b_size_from_params_and_bpw_matches_llama_cpp(quant: str) -> None:
    bare = dataclasses.replace(CATALOG.model("llama-3.1-8b"), gguf_file_gb={})
    est = estimate_cost(bare, quant=quant, catalog=CATALOG)
    assert "bits per weight" in est.weights_basis
    assert _gib(est.weights_bytes) == pytest.approx(QUANTIZE_README_GIB[quant], rel=0.03)


def test_llama31_8b_kv_cache_at_8192_f16_is_exactly_1024_mib() -> None:
    # llama.cpp logs "KV self size = 1024.00 MiB" for this model at n_ctx 8192.
    est = estimate_cost("llama-3.1-8b", context=8192, kv_type="f16", catalog=CATALOG)
    assert est.kv_cache_bytes == 1024 * MIB
    assert est.to_dict()["kv_cache_bytes"] == 1_073_741_824


def test_quantized_kv_cache_uses_block_sizes_exactly() -> None:
    model = CATALOG.model("llama-3.1-8b")
    f16 = kv_cache_bytes(model, 8192, "f16")
    assert kv_cache_bytes(model, 8192, "q8_0") == f16 * 34 // 64  # 34/32 bytes vs 2 bytes
    assert kv_cache_bytes(model, 8192, "q4_0") == f16 * 18 // 64


def test_model_without_gqa_has_four_times_the_kv_per_token() -> None:
    # Llama 2 7B: 32 KV heads (no grouped-query attention); Llama 3.1 8B: 8 KV heads.
    llama2 = estimate_cost("llama-2-7b", context=4096, catalog=CATALOG)
    llama3 = estimate_cost("llama-3.1-8b", context=4096, catalog=CATALOG)
    assert llama2.kv_cache_bytes == 4 * llama3.kv_cache_bytes
    assert llama2.kv_cache_bytes == 2048 * MIB


def test_sliding_window_layers_hold_only_the_window() -> None:
    gemma = CATALOG.model("gemma-2-9b")  # 42 layers, 21 of them with a 4,096-token window
    per_token_layer = 2 * 8 * 256 * 2
    assert kv_cache_bytes(gemma, 8192) == per_token_layer * (21 * 8192 + 21 * 4096)
    # Below the window, every layer holds the whole context.
    assert kv_cache_bytes(gemma, 2048) == per_token_layer * 42 * 2048


def test_compute_buffer_matches_llama_cpp_log() -> None:
    # llama.cpp: "CUDA0 compute buffer size = 560.00 MiB" for Llama-3.1-8B, n_ctx 8192, ubatch 512.
    buffer = compute_buffer_bytes(CATALOG.model("llama-3.1-8b"), 8192)
    assert buffer / MIB == pytest.approx(560.0, abs=0.01)


def test_total_is_the_sum_of_its_parts() -> None:
    est = estimate_cost("llama-3.1-8b", catalog=CATALOG)
    d = est.to_dict()
    assert d["total_bytes"] == d["weights_bytes"] + d["kv_cache_bytes"] + d["overhead_bytes"]
    assert d["fits"] is None and d["tokens_per_second"] is None and d["hardware"] is None


# --- fit and offload --------------------------------------------------------------------------


def test_fit_with_safety_margin_on_a_gpu() -> None:
    est = estimate_cost("llama-3.1-8b", hardware="RTX 3060 12GB", catalog=CATALOG)
    assert est.fits is True
    assert est.usable_bytes == int(12 * GIB * 0.95)
    assert est.gpu_layers == 32
    assert any("5% safety margin" in a for a in est.assumptions)


def test_partial_offload_counts_layers_and_slows_down() -> None:
    est = estimate_cost("llama-3.1-70b", hardware="rtx-3060-12gb", catalog=CATALOG)
    assert est.fits is False and est.offloaded
    assert 0 < est.gpu_layers < 80
    per_layer = (est.weights_bytes + est.kv_cache_bytes) / 80
    assert est.gpu_layers * per_layer + est.overhead_bytes <= est.usable_bytes
    assert (est.gpu_layers + 1) * per_layer + est.overhead_bytes > est.usable_bytes
    # Slower than if all of it were read at GPU bandwidth, faster than system memory alone.
    read = est.weights_bytes + est.kv_cache_bytes
    assert 0.6 * 51.2e9 / read < est.tokens_per_second < 0.6 * 360e9 / read
    assert any("51.2 GB/s" in a for a in est.assumptions)


def test_apple_uses_three_quarters_of_unified_memory() -> None:
    est = estimate_cost("llama-3.1-70b", hardware="m2-ultra-192gb", catalog=CATALOG)
    assert est.usable_bytes == int(192 * GIB * 0.75)
    assert est.fits is True and est.gpu_layers is None


def test_no_speed_when_it_cannot_run() -> None:
    tiny = Hardware.custom(memory_gb=4, bandwidth_gbps=100, kind="cpu")
    est = estimate_cost("llama-3.1-70b", hardware=tiny, catalog=CATALOG)
    assert est.fits is False and est.tokens_per_second is None
    assert est.usd_per_million_tokens is None


def test_fit_list_never_offers_a_sub_3_bit_model() -> None:
    hw = CATALOG.hardware_named("rtx-4090")
    # Llama 3.1 70B would squeeze into 24 GiB at IQ1_S (2 bits per weight)...
    squeezed = estimate_cost("llama-3.1-70b", quant="IQ1_S", hardware=hw, catalog=CATALOG)
    assert squeezed.fits
    # ...but a 2-bit 70B is not an answer to "what fits on my GPU".
    results = fit_models(CATALOG, hw)
    assert "llama-3.1-70b" not in [r.model.id for r in results]
    assert all(r.quant.bits_per_weight >= 3 for r in results)


def test_fit_models_best_quant_that_fits_best_first() -> None:
    hw = CATALOG.hardware_named("rtx-3060-12gb")
    results = fit_models(CATALOG, hw, context=8192)
    ids = [r.model.id for r in results]
    assert "llama-3.1-8b" in ids and "llama-3.1-70b" not in ids
    assert "llama-2-7b" not in ids  # its maximum context is 4,096 tokens
    ladder = fit_ladder(CATALOG)
    assert [q.id for q in ladder] == ["F16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q2_K"]
    for res in results:
        assert res.estimate.fits
        higher = [q for q in ladder if q.bits_per_weight > res.quant.bits_per_weight]
        for quant in higher:  # nothing better would have fitted
            est = estimate_cost(res.model, quant=quant, context=8192, hardware=hw, catalog=CATALOG)
            assert not est.fits
    llama = results[ids.index("llama-3.1-8b")]
    assert llama.quant.id == "Q8_0"  # 8.54 GB + KV + overhead fits 11.4 GiB; F16 does not
    tiers = [r.quant.bits_per_weight >= 4.4 for r in results]
    assert tiers == sorted(tiers, reverse=True)
    assert set(results[0].to_dict()) >= {"model", "quant", "total_bytes", "tokens_per_second"}


# --- speed ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "hardware", "quant", "published"),
    [
        # XiongjieDai/GPU-Benchmarks-on-LLM-Inference README, Llama-3-8B, tg512 tokens/s.
        ("llama-3.1-8b", "rtx-4090", "Q4_K_M", 130.58),
        ("llama-3.1-8b", "rtx-3090", "Q4_K_M", 115.42),
        ("llama-3.1-8b", "rtx-4090", "F16", 54.84),
        ("llama-3.1-8b", "rtx-3090", "F16", 47.40),
        # Same README, LLaMA-2-7B q4_0 on an A100 80 GB: a small model on a fast GPU.
        ("llama-2-7b", "a100-80gb", "Q4_0", 136.24),
        # ggml-org/llama.cpp PR #4766, LLaMA-7B on an RTX 4090.
        ("llama-2-7b", "rtx-4090", "Q8_0", 98.13),
        ("llama-2-7b", "rtx-4090", "F16", 61.03),
    ],
)
def test_published_decode_speed_lies_in_the_range(
    model: str, hardware: str, quant: str, published: float
) -> None:
    est = estimate_cost(model, quant=quant, context=512, hardware=hardware, catalog=CATALOG)
    low, high = est.tokens_per_second_range
    assert low <= published <= high
    assert low <= est.tokens_per_second <= high


def test_central_speed_is_close_for_a_mid_range_gpu() -> None:
    # The 4090 / Llama-3-8B Q4_K_M benchmark (130.58 tokens/s) within 10%.
    est = estimate_cost("llama-3.1-8b", context=512, hardware="rtx-4090", catalog=CATALOG)
    assert est.tokens_per_second == pytest.approx(130.58, rel=0.10)


def test_moe_speed_uses_active_parameters() -> None:
    moe = estimate_cost("mixtral-8x7b", hardware="h100-sxm", catalog=CATALOG)
    dense = estimate_cost("dense-46b", hardware="h100-sxm", catalog=CATALOG)
    assert moe.weights_bytes == dense.weights_bytes  # same memory...
    assert moe.tokens_per_second > 3 * dense.tokens_per_second  # ...much less read per token
    read = moe.weights_bytes * 12.9 / 46.7 + moe.kv_cache_bytes
    assert moe.tokens_per_second == pytest.approx(0.6 * 3350e9 / read)


def test_prompt_processing_is_labelled_not_estimated() -> None:
    est = estimate_cost("llama-3.1-8b", hardware="rtx-4090", catalog=CATALOG)
    assert est.to_dict()["prompt_processing"] == "not estimated"
    assert "not estimated" in format_cost(est)


# --- money and energy -------------------------------------------------------------------------


def test_usd_per_million_tokens_identity_and_llm_locust_oracle() -> None:
    model = CATALOG.model("llama-3.1-8b")
    probe = estimate_cost(model, hardware="rtx-4090", catalog=CATALOG)
    read = probe.weights_bytes + probe.kv_cache_bytes
    # Hardware whose estimate is exactly 50 tokens/s: 0.6 x bw / read = 50.
    hw = Hardware.custom(memory_gb=24, bandwidth_gbps=50 * read / 0.6e9, power_w=300)
    est = estimate_cost(model, hardware=hw, usd_per_hour=1.47, catalog=CATALOG)
    tps = est.tokens_per_second
    assert tps == pytest.approx(50, rel=1e-12)
    assert est.usd_per_million_tokens == 1.47 * 10**6 / (tps * 3600)
    # gsampaio-rh/llm-locust COST_ESTIMATION_GUIDE: $1.47/h at 50 tok/s is $8.17 per 1M.
    assert round(est.usd_per_million_tokens, 2) == 8.17
    assert est.joules_per_token == pytest.approx(300 / 50)
    assert est.wh_per_million_tokens == pytest.approx(300 * 1e6 / (50 * 3600))


def test_rental_purchase_and_given_prices() -> None:
    rental = estimate_cost("llama-3.1-8b", hardware="h100-sxm", catalog=CATALOG)
    assert (rental.usd_per_hour, rental.cost_basis) == (2.5, "rental")
    owned = estimate_cost("llama-3.1-8b", hardware="rtx-4090", usd_per_kwh=0.30, catalog=CATALOG)
    assert owned.cost_basis == "purchase"
    assert owned.usd_per_hour == pytest.approx(1599 / LIFE_HOURS + 0.450 * 0.30)
    mine = estimate_cost("llama-3.1-8b", hardware="rtx-4090", usd_per_hour=0.2, catalog=CATALOG)
    assert (mine.usd_per_hour, mine.cost_basis) == (0.2, "given")


def test_break_even_volume_against_an_api_price() -> None:
    # H100 rental $2.5/h: 1,825 $ a month; Llama-3.1-8B Q4_K_M decodes ~335 tokens/s,
    # about 880M tokens a month on one stream.
    pricey_api = estimate_cost(
        "llama-3.1-8b", hardware="h100-sxm", api_usd_per_mtok=5.0, catalog=CATALOG
    )
    assert pricey_api.break_even_million_tokens_per_month == pytest.approx(2.5 * 730 / 5.0)
    assert pricey_api.break_even_reachable is True
    cheap_api = estimate_cost(
        "llama-3.1-8b", hardware="h100-sxm", api_usd_per_mtok=0.5, catalog=CATALOG
    )
    assert cheap_api.break_even_million_tokens_per_month == pytest.approx(3650)
    assert cheap_api.break_even_reachable is False
    assert "the API is cheaper" in format_cost(cheap_api)


# --- properties -------------------------------------------------------------------------------

MODELS = st.sampled_from(CATALOG.models)


@settings(max_examples=40, deadline=None)
@given(model=MODELS, a=st.integers(1, 4096), b=st.integers(1, 4096))
def test_memory_grows_with_context(model: Model, a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    small = estimate_cost(model, context=lo, catalog=CATALOG)
    large = estimate_cost(model, context=hi, catalog=CATALOG)
    assert large.total_bytes >= small.total_bytes
    if hi > lo:
        assert large.total_bytes > small.total_bytes


@settings(max_examples=40, deadline=None)
@given(model=MODELS, context=st.integers(1, 4096), kv=st.sampled_from(["f16", "q8_0", "q4_0"]))
def test_memory_grows_with_bits(model: Model, context: int, kv: str) -> None:
    bare = dataclasses.replace(model, gguf_file_gb={})
    quants = sorted(CATALOG.quants, key=lambda q: q.bits_per_weight)
    totals = [
        estimate_cost(bare, quant=q, context=context, kv_type=kv, catalog=CATALOG).total_bytes
        for q in quants
    ]
    assert totals == sorted(totals)
    f16_kv = estimate_cost(bare, context=context, kv_type="f16", catalog=CATALOG)
    assert (
        f16_kv.total_bytes
        >= estimate_cost(bare, context=context, kv_type=kv, catalog=CATALOG).total_bytes
    )


@settings(max_examples=60, deadline=None)
@given(
    model=MODELS,
    memory=st.floats(1, 200),
    bw_a=st.floats(10, 5000),
    bw_b=st.floats(10, 5000),
    kind=st.sampled_from(["gpu", "apple", "cpu"]),
)
def test_more_bandwidth_is_never_slower(
    model: Model, memory: float, bw_a: float, bw_b: float, kind: str
) -> None:
    lo, hi = sorted((bw_a, bw_b))
    slow = estimate_cost(
        model, context=1024, hardware=Hardware.custom(memory, lo, kind=kind), catalog=CATALOG
    )
    fast = estimate_cost(
        model, context=1024, hardware=Hardware.custom(memory, hi, kind=kind), catalog=CATALOG
    )
    if slow.tokens_per_second is not None:
        assert fast.tokens_per_second >= slow.tokens_per_second
        assert fast.tokens_per_second_range[0] >= slow.tokens_per_second_range[0]


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("context", [-1, 0])
def test_non_positive_context_is_one_line_naming_the_range(context: int) -> None:
    with pytest.raises(InvalidInput) as info:
        estimate_cost("llama-3.1-8b", context=context, catalog=CATALOG)
    assert "\n" not in str(info.value)
    assert "1 to 131,072" in str(info.value)


def test_context_beyond_the_model_maximum() -> None:
    with pytest.raises(InvalidInput) as info:
        estimate_cost("llama-2-7b", context=8192, catalog=CATALOG)
    assert "\n" not in str(info.value)
    assert "maximum of 4,096" in str(info.value) and "1 to 4,096" in str(info.value)


def test_unknown_quant_names_the_accepted_values() -> None:
    with pytest.raises(InvalidInput) as info:
        estimate_cost("llama-3.1-8b", quant="Q4_K_Z", catalog=CATALOG)
    assert "\n" not in str(info.value)
    assert "Q4_K_M" in str(info.value) and "Q8_0" in str(info.value) and "F16" in str(info.value)


def test_unknown_kv_type_names_the_accepted_values() -> None:
    with pytest.raises(InvalidInput, match="Accepted: f16, q8_0, q4_0"):
        estimate_cost("llama-3.1-8b", kv_type="fp8", catalog=CATALOG)


def test_negative_price_is_refused() -> None:
    with pytest.raises(InvalidInput, match="--usd-per-kwh must be zero or more"):
        estimate_cost("llama-3.1-8b", hardware="rtx-4090", usd_per_kwh=-1, catalog=CATALOG)


def test_unknown_model_and_hardware() -> None:
    with pytest.raises(NotFound, match="Closest ids: "):
        estimate_cost("gpt-5", catalog=CATALOG)
    with pytest.raises(NotFound, match="Unknown hardware 'rtx-9999'"):
        estimate_cost("llama-3.1-8b", hardware="rtx-9999", catalog=CATALOG)


# --- text -------------------------------------------------------------------------------------


def test_format_cost_is_compact_labelled_and_mention_free() -> None:
    model = Model.custom(7, 32, 8, 128, name="@everyone *bold*")
    est = estimate_cost(model, hardware="rtx-3060-12gb", api_usd_per_mtok=0.6, catalog=CATALOG)
    text = format_cost(est)
    assert len(text) <= 1800
    assert " GB (" in text and "GiB" in text
    assert "@everyone" not in text  # defused with a zero-width space
    assert "\\*bold\\*" in text
    assert "tokens/s" in text and "per 1M output tokens" in text and "Break-even" in text
    # The Discord cog replaces this hint with the other assumptions in small print.
    assert text.endswith(f"Assumptions: {est.assumptions[0]}{ASSUMPTIONS_HINT}")
    full = format_cost(est, full=True)
    assert all(f"- {safe(item)}" in full for item in est.assumptions)


def test_format_fit_stays_under_discord_limit() -> None:
    base = CATALOG.model("smollm2-135m")
    many = [
        dataclasses.replace(base, id=f"tiny-{i}", name=f"Tiny model number {i}") for i in range(200)
    ]
    big = Catalog(many, CATALOG.hardware, CATALOG.quants)
    hw = big.hardware_named("rtx-4090")
    results = fit_models(big, hw)
    text = format_fit(hw, results)
    assert len(results) == 200
    assert len(text) <= 1800
    assert "…and" in text and "more." in text and "GiB" in text
    everything = format_fit(hw, results, limit=None)
    assert "Tiny model number 199" in everything and "more." not in everything
    assert "no catalog model fits" in format_fit(hw, [])
