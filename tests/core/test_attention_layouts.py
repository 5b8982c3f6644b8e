"""The cost engine for 2025-2026 attention layouts, concurrency, several GPUs, offload RAM and
any local GGUF. Published figures live in test_published_figures.py; here, the formulas."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.core.catalog import Catalog
from bot.core.costs import MIB, estimate_cost, kv_cache_bytes, state_bytes
from bot.core.desk import Desk
from bot.core.errors import InvalidInput
from bot.core.llm import bundled_model_path

ROOT = Path(__file__).resolve().parents[2]
CATALOG = Catalog.load(ROOT / "knowledge" / "data")


def test_hybrid_linear_attention_caches_only_its_attention_layers() -> None:
    m = CATALOG.model("qwen3.6-27b")
    full = sum(g.layers for g in m.layer_groups if g.kind == "full")
    assert full == 16 and m.layers == 64
    # 16 layers x 2 x 4 KV heads x 256 x 131,072 tokens x 2 bytes = 8,192 MiB (llama.cpp's log)
    assert kv_cache_bytes(m, 131072) == 16 * 2 * 4 * 256 * 131072 * 2 == 8192 * MIB
    # The plain formula over all 64 layers would be 4x that.
    assert 4 * kv_cache_bytes(m, 131072) == 64 * 2 * 4 * 256 * 131072 * 2
    # The recurrent state does not grow with the context; it scales with sequences.
    assert state_bytes(m) == pytest.approx(149.62 * MIB, rel=1e-3)
    assert estimate_cost(m, context=1024, catalog=CATALOG).state_bytes == state_bytes(m)
    assert state_bytes(m, parallel=3) == 3 * state_bytes(m)


def test_latent_attention_is_one_latent_per_layer() -> None:
    m = CATALOG.model("deepseek-v3")
    assert kv_cache_bytes(m, 163840) == 61 * (512 + 64) * 163840 * 2 == 10980 * MIB
    per_head = 61 * 2 * 128 * (128 + 64) * 163840 * 2  # what a per-head formula would claim
    assert per_head / kv_cache_bytes(m, 163840) > 60


def test_chunked_and_sliding_layers_stop_growing() -> None:
    scout = CATALOG.model("llama-4-scout")
    kinds = {g.kind: g for g in scout.layer_groups}
    assert kinds["chunked"].chunk == 8192
    small, big = kv_cache_bytes(scout, 8192), kv_cache_bytes(scout, 131072)
    chunked_share = kinds["chunked"].layers / scout.layers
    # Past the chunk only the full layers grow: growth is (1 - chunked share) of linear growth.
    assert big - small == pytest.approx((1 - chunked_share) * (16 - 1) * small, rel=1e-9)


def test_kv_cache_type_applies_to_kv_not_to_state() -> None:
    m = CATALOG.model("qwen3.6-27b")
    f16 = estimate_cost(m, context=32768, catalog=CATALOG)
    q8 = estimate_cost(m, context=32768, kv_type="q8_0", catalog=CATALOG)
    assert q8.kv_cache_bytes == f16.kv_cache_bytes * 34 // 64
    assert q8.state_bytes == f16.state_bytes
    assert any("KV cache type does not apply" in a for a in q8.assumptions)


def test_existing_models_keep_their_numbers() -> None:
    llama = CATALOG.model("llama-3.1-8b")
    assert kv_cache_bytes(llama, 8192) == 1024 * MIB  # llama.cpp's log, as before
    gemma = CATALOG.model("gemma-3-27b")
    assert gemma.layer_groups[0].kind == "sliding"  # legacy fields become layer groups


def test_parallel_sequences_multiply_cache_not_weights() -> None:
    one = estimate_cost("qwen3.6-27b", context=16384, catalog=CATALOG)
    four = estimate_cost("qwen3.6-27b", context=16384, parallel=4, catalog=CATALOG)
    assert four.kv_cache_bytes == 4 * one.kv_cache_bytes
    assert four.weights_bytes == one.weights_bytes
    assert four.to_dict()["kv_cache_bytes_per_sequence"] == one.kv_cache_bytes
    assert any("-np 4" in a for a in four.assumptions)


def test_two_gpus_hold_what_one_cannot_at_one_gpus_speed() -> None:
    one = estimate_cost("llama-3.1-70b", hardware="rtx-3090", catalog=CATALOG)
    two = estimate_cost("llama-3.1-70b", hardware="rtx-3090", gpus=2, catalog=CATALOG)
    assert not one.fits and two.fits
    assert two.usable_bytes == 2 * one.usable_bytes
    assert two.runtime_bytes == 2 * one.runtime_bytes
    bound = 0.6 * CATALOG.hardware_named("rtx-3090").bandwidth_gbps * 1e9
    assert two.tokens_per_second == pytest.approx(
        bound / (two.weights_bytes + two.kv_cache_bytes), rel=1e-9)
    assert any("bounded by one GPU's bandwidth" in a for a in two.assumptions)


def test_offload_uses_the_ram_given() -> None:
    small = estimate_cost("llama-3.1-70b", hardware="rtx-4060-ti-16gb", ram_gb=16,
                          catalog=CATALOG)
    large = estimate_cost("llama-3.1-70b", hardware="rtx-4060-ti-16gb", ram_gb=128,
                          catalog=CATALOG)
    assert small.offloaded and not small.runnable
    assert large.offloaded and large.runnable
    assert any("128 GiB assumed" in a for a in large.assumptions)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"parallel": 0}, "--parallel"), ({"parallel": 10_000}, "--parallel"),
    ({"gpus": 10_000, "hardware": "rtx-4090"}, "--gpus"), ({"ram_gb": -5}, "--ram-gb"),
    ({"gpus": 2, "hardware": "apple-m2-ultra-192gb"}, "applies to GPUs"),
])
def test_absurd_scale_gets_one_sentence(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        estimate_cost("llama-3.1-8b", catalog=CATALOG, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("spec", "hw", "count"), [
    ("2x rtx-3090", "rtx-3090", 2), ("dual 4090", "rtx-4090", 2), ("2 x 3090", "rtx-3090", 2),
    ("rtx-4090", "rtx-4090", 1), ("5060 ti 16gb", "rtx-5060-ti-16gb", 1),
    ("8 h100-sxm", "h100-sxm", 8), ("quad rtx 3090", "rtx-3090", 4),
])
def test_machine_counts(spec: str, hw: str, count: int, tmp_path: Path) -> None:
    desk = Desk.build(load_settings(None, knowledge_dir=ROOT / "knowledge", data_dir=tmp_path))
    machine, n = desk.machine(spec)
    assert (machine.id, n) == (hw, count)


def _llama_cpp_logged_kv_mib(n_ctx: int) -> float:
    """Load the bundled GGUF in llama.cpp and read the KV size it logs (stderr, C level)."""
    code = ("from llama_cpp import Llama; import sys; "
            f"Llama(model_path=sys.argv[1], n_ctx={n_ctx}, n_threads=1, verbose=True)")
    run = subprocess.run([sys.executable, "-c", code, str(bundled_model_path())],
                         capture_output=True, text=True, timeout=120, check=True)
    sizes = re.findall(r"llama_kv_cache[^\n]*size\s*=\s*([\d.]+) MiB", run.stderr)
    assert sizes, run.stderr[-2000:]
    return float(sizes[-1])


@pytest.mark.slow
def test_any_gguf_is_sized_from_its_header_as_llama_cpp_logs_it(tmp_path: Path) -> None:
    desk = Desk.build(load_settings(None, knowledge_dir=ROOT / "knowledge", data_dir=tmp_path))
    est = desk.cost(gguf=str(bundled_model_path()), context=2048)
    assert est.weights_bytes == bundled_model_path().stat().st_size
    assert est.kv_cache_bytes / MIB == _llama_cpp_logged_kv_mib(2048)


def test_gguf_header_describes_the_model() -> None:
    from bot.core.gguf_file import model_from_gguf

    model, quant = model_from_gguf(bundled_model_path())
    assert (model.layers, model.heads, model.kv_heads, model.head_dim) == (30, 9, 3, 64)
    assert model.params_b == pytest.approx(0.1345, abs=0.001)
    assert quant == "file"


@pytest.mark.parametrize("content", [b"", b"GGUF", b"NOPE" + b"\0" * 40,
                                     b"GGUF\x03\0\0\0" + b"\xff" * 16])
def test_broken_gguf_is_one_sentence(tmp_path: Path, content: bytes) -> None:
    from bot.core.gguf_file import model_from_gguf

    path = tmp_path / "x.gguf"
    path.write_bytes(content)
    with pytest.raises(InvalidInput) as info:
        model_from_gguf(path)
    assert "\n" not in str(info.value) and len(str(info.value)) < 200
