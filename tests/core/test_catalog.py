"""Catalog loading and tolerant lookup, against the small fixture catalogs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.core.catalog import Catalog, Hardware, Model, UnknownName
from bot.core.errors import InvalidInput, ModelDeskError, NotFound

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "catalog"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(FIXTURES)


def test_loads_all_three_catalogs(catalog: Catalog) -> None:
    assert "llama-3.1-8b" in [m.id for m in catalog.models]
    assert "rtx-4090" in [h.id for h in catalog.hardware]
    assert "Q4_K_M" in [q.id for q in catalog.quants]
    llama = catalog.model("llama-3.1-8b")
    assert (llama.layers, llama.kv_heads, llama.head_dim, llama.context) == (32, 8, 128, 131072)
    assert llama.gguf_file_gb["Q4_K_M"] == 4.92


@pytest.mark.parametrize(
    "name", ["Llama 3.1 8B", "llama-3.1-8b", "llama3.1:8b", "LLAMA_3.1_8B", "llama3.1-8b"]
)
def test_model_names_resolve_tolerantly(catalog: Catalog, name: str) -> None:
    assert catalog.model(name).id == "llama-3.1-8b"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("RTX 3060 12GB", "rtx-3060-12gb"),
        ("rtx-3060-12gb", "rtx-3060-12gb"),
        ("3060", "rtx-3060-12gb"),
        ("4090", "rtx-4090"),
        ("NVIDIA GeForce RTX 4090", "rtx-4090"),
        ("3090", "rtx-3090"),  # not the 3090 Ti: the shorter, exact-number entry wins
        ("rtx 3090 ti", "rtx-3090-ti"),
    ],
)
def test_hardware_names_resolve_tolerantly(catalog: Catalog, name: str, expected: str) -> None:
    assert catalog.hardware_named(name).id == expected


@pytest.mark.parametrize("name", ["Q4_K_M", "q4_k_m", "q4km", "Q4-K-M"])
def test_quant_names_resolve_tolerantly(catalog: Catalog, name: str) -> None:
    assert catalog.quant(name).bits_per_weight == pytest.approx(4.8944)


def test_unknown_model_lists_five_closest_ids(catalog: Catalog) -> None:
    with pytest.raises(UnknownName) as info:
        catalog.model("llama-4-8b")
    message = str(info.value)
    assert "\n" not in message
    assert "llama-4-8b" in message
    listed = message.split("Closest ids: ")[1].rstrip(".").split(", ")
    assert len(listed) == 5
    assert set(listed) <= {m.id for m in catalog.models}
    assert listed[0].startswith("llama")
    # Callers may catch it as either a missing thing or bad input.
    assert isinstance(info.value, NotFound) and isinstance(info.value, InvalidInput)


@pytest.mark.parametrize("name", ["llama", "llama 3.1", "rtx"])
def test_ambiguous_name_is_not_guessed(catalog: Catalog, name: str) -> None:
    with pytest.raises(NotFound, match="Closest ids"):
        catalog.hardware_named(name) if name == "rtx" else catalog.model(name)


def test_unknown_quant_names_every_accepted_value(catalog: Catalog) -> None:
    with pytest.raises(UnknownName) as info:
        catalog.quant("Q4_K_X")
    for quant in catalog.quants:
        assert quant.id in str(info.value)


def test_suggest_models_best_first(catalog: Catalog) -> None:
    assert [m.id for m in catalog.suggest_models("llama-3.1-8b")][0] == "llama-3.1-8b"
    prefixed = [m.id for m in catalog.suggest_models("lla")]
    assert prefixed[:3] and all(i.startswith("llama") for i in prefixed[:3])
    assert catalog.suggest_models("mixtrl")[0].id == "mixtral-8x7b"  # typo, fuzzy
    assert catalog.suggest_models("zzzzqqq") == []
    assert len(catalog.suggest_models("", limit=3)) == 3


def test_suggest_hardware_substring(catalog: Catalog) -> None:
    ids = [h.id for h in catalog.suggest_hardware("3090")]
    assert ids[:2] == ["rtx-3090", "rtx-3090-ti"]
    assert len(catalog.suggest_hardware("", limit=25)) == len(catalog.hardware)


def _copy(tmp_path: Path) -> Path:
    for name in ("models.yaml", "hardware.yaml", "quants.yaml"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    return tmp_path


def test_missing_file_is_named(tmp_path: Path) -> None:
    _copy(tmp_path)
    (tmp_path / "quants.yaml").unlink()
    with pytest.raises(ModelDeskError, match=r"quants\.yaml.*missing"):
        Catalog.load(tmp_path)


def test_invalid_yaml_is_named_with_line(tmp_path: Path) -> None:
    _copy(tmp_path)
    (tmp_path / "hardware.yaml").write_text("hardware:\n  - id: x\n    name: [unclosed\n")
    with pytest.raises(ModelDeskError, match=r"hardware\.yaml: not valid YAML at line \d"):
        Catalog.load(tmp_path)


def test_missing_field_is_named(tmp_path: Path) -> None:
    _copy(tmp_path)
    text = (tmp_path / "models.yaml").read_text().replace("    kv_heads: 8\n", "", 1)
    (tmp_path / "models.yaml").write_text(text)
    with pytest.raises(ModelDeskError, match=r"models\.yaml: llama-3\.1-8b: missing 'kv_heads'"):
        Catalog.load(tmp_path)


def test_non_numeric_field_is_named(tmp_path: Path) -> None:
    _copy(tmp_path)
    text = (
        (tmp_path / "hardware.yaml")
        .read_text()
        .replace("bandwidth_gbps: 360", "bandwidth_gbps: fast")
    )
    (tmp_path / "hardware.yaml").write_text(text)
    with pytest.raises(ModelDeskError, match=r"rtx-3060-12gb: 'bandwidth_gbps' must be a number"):
        Catalog.load(tmp_path)


def test_wrong_top_level_is_named(tmp_path: Path) -> None:
    _copy(tmp_path)
    (tmp_path / "quants.yaml").write_text("- id: Q4_K_M\n")
    with pytest.raises(ModelDeskError, match=r"quants\.yaml: expected a top-level 'quants:' list"):
        Catalog.load(tmp_path)


def test_custom_model_and_hardware() -> None:
    model = Model.custom(7, 32, 8, 128, context=32768, active_params_b=2)
    assert model.is_moe and model.active_b == 2 and model.context == 32768
    hw = Hardware.custom(16, 400, power_w=200)
    assert (hw.memory_gb, hw.bandwidth_gbps, hw.power_w, hw.kind) == (16, 400, 200, "gpu")
    with pytest.raises(InvalidInput, match="--layers must be a positive number"):
        Model.custom(7, 0, 8, 128)
    with pytest.raises(InvalidInput, match="--active-params must be between 0 and --params"):
        Model.custom(7, 32, 8, 128, active_params_b=9)
    with pytest.raises(InvalidInput, match="--bandwidth-gbps must be a positive number"):
        Hardware.custom(16, -1)
