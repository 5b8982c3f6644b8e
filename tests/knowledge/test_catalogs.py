"""Validation of the cost catalogs in knowledge/data/*.yaml.

The cost calculator reads these files as data; a typo here becomes a wrong answer in Discord.
Every check lives in a small validator function, and the same functions are run against
deliberately broken entries so that a check which silently passes everything is caught.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

DATA_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "data"

ID_RE = re.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")
YEAR_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
NUMBER = (int, float)

MODEL_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "name": (str,),
    "aliases": (list,),
    "maker": (str,),
    "params_b": NUMBER,
    "active_params_b": NUMBER,
    "layers": (int,),
    "heads": (int,),
    "kv_heads": (int,),
    "head_dim": (int,),
    "context": (int,),
    "sliding_window": (int, type(None)),
    "sliding_window_layers": (int, type(None)),
    "attention": (list, type(None)),
    "license": (str,),
    "released": (str,),
    "gguf_file_gb": (dict,),
    "sources": (list,),
}

OPTIONAL_FIELDS = {"attention"}  # the per-layer layout, only where not every layer is full

HARDWARE_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "name": (str,),
    "aliases": (list,),
    "kind": (str,),
    "memory_gb": NUMBER,
    "bandwidth_gbps": NUMBER,
    # null where no source establishes the figure (a conflict, or no vendor number): the
    # calculator then leaves energy out and says so, rather than guess.
    "power_w": (int, float, type(None)),
    "usd_per_hour": (int, float, type(None)),
    "price_usd": (int, float, type(None)),
    "price_as_of": (str, type(None)),
    "sources": (list,),
}

QUANT_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "bits_per_weight": NUMBER,
    "sources": (list,),
    "note": (str,),
}

HARDWARE_KINDS = {"gpu", "apple", "cpu"}

REQUIRED_MODEL_IDS = {
    "llama-3.1-8b",
    "llama-2-7b",
    "llama-3.1-70b",
    "llama-3.2-3b",
    "mixtral-8x7b",
    "qwen3-30b-a3b",
    "gemma-2-9b",
    "gemma-3-27b",
    "gpt-oss-20b",
    "gpt-oss-120b",
    "smollm2-135m",
    "smollm2-1.7b",
    "mistral-7b",
    "qwen2.5-7b",
    "phi-4",
    "deepseek-r1-distill-qwen-7b",
    "deepseek-v3",
}

REQUIRED_HARDWARE_IDS = {
    "rtx-3060-12gb",
    "rtx-4090",
    "rtx-3090",
    "h100-sxm",
    "a100-80gb",
    "l4",
    "apple-m2-max-64gb",
    "ddr5-5600-dual-channel-64gb",
}

REQUIRED_QUANT_IDS = {
    "Q2_K",
    "Q3_K_S",
    "Q3_K_M",
    "Q3_K_L",
    "Q4_0",
    "Q4_1",
    "Q4_K_S",
    "Q4_K_M",
    "Q5_0",
    "Q5_1",
    "Q5_K_S",
    "Q5_K_M",
    "Q6_K",
    "Q8_0",
    "IQ4_XS",
    "F16",
    "BF16",
    "F32",
}


# --------------------------------------------------------------------------- validators


def _is_number(value: Any) -> bool:
    return isinstance(value, NUMBER) and not isinstance(value, bool)


def _check_fields(entry: dict[str, Any], fields: dict[str, tuple[type, ...]]) -> list[str]:
    """Return one message per missing or wrongly typed field of ``entry``."""
    label = entry.get("id", "<no id>")
    errors: list[str] = []
    for key, types in fields.items():
        if key not in entry:
            if key not in OPTIONAL_FIELDS:
                errors.append(f"{label}: missing field {key!r}")
            continue
        value = entry[key]
        # bool is a subclass of int; a YAML `yes` must never pass for a count.
        if isinstance(value, bool) or not isinstance(value, types):
            errors.append(f"{label}: field {key!r} has type {type(value).__name__}")
    return errors


def _check_sources(entry: dict[str, Any]) -> list[str]:
    sources = entry.get("sources")
    label = entry.get("id", "<no id>")
    if not isinstance(sources, list) or not sources:
        return [f"{label}: needs at least one source"]
    if not all(isinstance(s, str) and s.strip() for s in sources):
        return [f"{label}: every source must be a non-empty string"]
    return []


def _check_id(entry: dict[str, Any], *, lowercase: bool = True) -> list[str]:
    ident = entry.get("id")
    if not isinstance(ident, str):
        return []
    if lowercase and not ID_RE.match(ident):
        return [f"{ident}: id must be lowercase letters, digits, dots and hyphens"]
    return []


def _check_names_unique(entries: list[dict[str, Any]]) -> list[str]:
    """Ids and aliases must not collide, case-insensitively, within one catalog."""
    errors: list[str] = []
    owner: dict[str, str] = {}
    for entry in entries:
        ident = entry.get("id")
        if not isinstance(ident, str):
            continue
        names = [ident] + [a for a in entry.get("aliases") or [] if isinstance(a, str)]
        aliases = entry.get("aliases") or []
        if any(not isinstance(a, str) or not a.strip() for a in aliases):
            errors.append(f"{ident}: every alias must be a non-empty string")
        seen_here: set[str] = set()
        for name in names:
            key = name.strip().lower()
            if key in seen_here:
                continue
            seen_here.add(key)
            if key in owner:
                errors.append(f"{name!r} of {ident} collides with {owner[key]}")
            else:
                owner[key] = ident
    return errors


def validate_models(entries: list[dict[str, Any]]) -> list[str]:
    """Return every problem found in the ``models:`` list (empty when valid)."""
    errors: list[str] = []
    for entry in entries:
        errors += _check_fields(entry, MODEL_FIELDS)
        errors += _check_id(entry)
        errors += _check_sources(entry)
        label = entry.get("id", "<no id>")
        for key in ("layers", "heads", "kv_heads", "head_dim", "context"):
            value = entry.get(key)
            if _is_number(value) and value <= 0:
                errors.append(f"{label}: {key} must be positive")
        for key in ("params_b", "active_params_b"):
            value = entry.get(key)
            if _is_number(value) and value <= 0:
                errors.append(f"{label}: {key} must be positive")
        heads, kv_heads = entry.get("heads"), entry.get("kv_heads")
        if _is_number(heads) and _is_number(kv_heads) and kv_heads > 0 and heads % kv_heads:
            errors.append(f"{label}: kv_heads {kv_heads} does not divide heads {heads}")
        total, active = entry.get("params_b"), entry.get("active_params_b")
        if _is_number(total) and _is_number(active) and active > total:
            errors.append(f"{label}: active_params_b {active} exceeds params_b {total}")
        window, window_layers = entry.get("sliding_window"), entry.get("sliding_window_layers")
        layers = entry.get("layers")
        if (window is None) != (window_layers is None):
            errors.append(f"{label}: sliding_window and sliding_window_layers go together")
        if _is_number(window) and window <= 0:
            errors.append(f"{label}: sliding_window must be positive")
        if _is_number(window_layers) and _is_number(layers) and not 0 < window_layers <= layers:
            errors.append(f"{label}: sliding_window_layers {window_layers} not in 1..{layers}")
        released = entry.get("released")
        if isinstance(released, str) and not YEAR_MONTH_RE.match(released):
            errors.append(f"{label}: released {released!r} is not YYYY-MM")
        sizes = entry.get("gguf_file_gb")
        if isinstance(sizes, dict):
            for quant, size in sizes.items():
                if not _is_number(size) or size <= 0:
                    errors.append(f"{label}: gguf_file_gb[{quant}] must be a positive number")
                elif _is_number(total) and size > total * 4.2:
                    # Even F32 (4 bytes a weight) cannot be much larger than params x 4.
                    errors.append(f"{label}: gguf_file_gb[{quant}] {size} too big for {total}B")
    errors += _check_names_unique(entries)
    return errors


def validate_hardware(entries: list[dict[str, Any]]) -> list[str]:
    """Return every problem found in the ``hardware:`` list (empty when valid)."""
    errors: list[str] = []
    for entry in entries:
        errors += _check_fields(entry, HARDWARE_FIELDS)
        errors += _check_id(entry)
        errors += _check_sources(entry)
        label = entry.get("id", "<no id>")
        if entry.get("kind") not in HARDWARE_KINDS:
            errors.append(f"{label}: kind {entry.get('kind')!r} not in {sorted(HARDWARE_KINDS)}")
        for key in ("memory_gb", "bandwidth_gbps", "power_w"):
            value = entry.get(key)
            if _is_number(value) and value <= 0:
                errors.append(f"{label}: {key} must be positive")
        for key in ("usd_per_hour", "price_usd"):
            value = entry.get(key)
            if _is_number(value) and value <= 0:
                errors.append(f"{label}: {key} must be positive or null")
        as_of = entry.get("price_as_of")
        if isinstance(as_of, str) and not YEAR_MONTH_RE.match(as_of):
            errors.append(f"{label}: price_as_of {as_of!r} is not YYYY-MM")
    errors += _check_names_unique(entries)
    return errors


def validate_quants(entries: list[dict[str, Any]]) -> list[str]:
    """Return every problem found in the ``quants:`` list (empty when valid)."""
    errors: list[str] = []
    seen: set[str] = set()
    for entry in entries:
        errors += _check_fields(entry, QUANT_FIELDS)
        errors += _check_sources(entry)
        label = entry.get("id", "<no id>")
        if isinstance(label, str):
            if not re.match(r"^[A-Z0-9_]+$", label):
                errors.append(f"{label}: quant ids use llama.cpp spelling (upper case)")
            if label.lower() in seen:
                errors.append(f"{label}: duplicate quant id")
            seen.add(label.lower())
        bpw = entry.get("bits_per_weight")
        if _is_number(bpw) and not 1 <= bpw <= 33:
            errors.append(f"{label}: bits_per_weight {bpw} outside 1..33")
    return errors


# --------------------------------------------------------------------------- fixtures


def _load(name: str, key: str) -> list[dict[str, Any]]:
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    assert isinstance(document, dict) and isinstance(document.get(key), list), (
        f"{name} must hold a top-level {key!r} list"
    )
    assert all(isinstance(e, dict) for e in document[key]), f"{name}: every entry is a mapping"
    return document[key]


@pytest.fixture(scope="module")
def models() -> list[dict[str, Any]]:
    return _load("models.yaml", "models")


@pytest.fixture(scope="module")
def hardware() -> list[dict[str, Any]]:
    return _load("hardware.yaml", "hardware")


@pytest.fixture(scope="module")
def quants() -> list[dict[str, Any]]:
    return _load("quants.yaml", "quants")


def _by_id(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in entries}


# --------------------------------------------------------------------------- the real files


def test_models_catalog_is_valid(models: list[dict[str, Any]]) -> None:
    assert validate_models(models) == []


def test_hardware_catalog_is_valid(hardware: list[dict[str, Any]]) -> None:
    assert validate_hardware(hardware) == []


def test_quants_catalog_is_valid(quants: list[dict[str, Any]]) -> None:
    assert validate_quants(quants) == []


def test_catalogs_are_big_enough(
    models: list[dict[str, Any]], hardware: list[dict[str, Any]]
) -> None:
    assert len(models) >= 40
    assert len(hardware) >= 30


def test_required_ids_are_present(
    models: list[dict[str, Any]], hardware: list[dict[str, Any]], quants: list[dict[str, Any]]
) -> None:
    assert REQUIRED_MODEL_IDS - set(_by_id(models)) == set()
    assert REQUIRED_HARDWARE_IDS - set(_by_id(hardware)) == set()
    assert REQUIRED_QUANT_IDS - {q["id"] for q in quants} == set()


def test_every_hardware_kind_is_represented(hardware: list[dict[str, Any]]) -> None:
    assert {h["kind"] for h in hardware} == HARDWARE_KINDS


def test_gguf_sizes_name_known_quants(
    models: list[dict[str, Any]], quants: list[dict[str, Any]]
) -> None:
    known = {q["id"] for q in quants}
    unknown = {
        (m["id"], quant) for m in models for quant in m["gguf_file_gb"] if quant not in known
    }
    assert unknown == set()


def test_gguf_sizes_agree_with_bits_per_weight(
    models: list[dict[str, Any]], quants: list[dict[str, Any]]
) -> None:
    """A published size sits near params x bpw / 8; a typo (47 for 4.7, Q8 filed as Q4) does not.

    The band is wide because small models with large vocabularies keep proportionally more weight in
    higher-precision embedding tensors (Gemma 3 1B Q4_K_M is about 1.3x the estimate).
    """
    bpw = {q["id"]: q["bits_per_weight"] for q in quants}
    off = []
    for model in models:
        for quant, size in model["gguf_file_gb"].items():
            expected = model["params_b"] * bpw[quant] / 8
            if not 0.7 * expected <= size <= 1.5 * expected:
                off.append((model["id"], quant, size, round(expected, 2)))
    assert off == []


def test_llama_31_8b_matches_published_figures(models: list[dict[str, Any]]) -> None:
    model = _by_id(models)["llama-3.1-8b"]
    shape = (model["layers"], model["heads"], model["kv_heads"], model["head_dim"])
    assert shape == (32, 32, 8, 128)
    assert model["context"] == 131072
    assert model["gguf_file_gb"]["Q4_K_M"] == pytest.approx(4.92)
    assert model["gguf_file_gb"]["Q8_0"] == pytest.approx(8.54)
    assert model["gguf_file_gb"]["F16"] == pytest.approx(16.07)
    assert {"llama3.1-8b", "llama3.1:8b", "meta-llama-3.1-8b-instruct"} <= set(model["aliases"])


def test_architecture_special_cases(models: list[dict[str, Any]]) -> None:
    by_id = _by_id(models)
    llama2 = by_id["llama-2-7b"]
    assert llama2["kv_heads"] == llama2["heads"] == 32  # no grouped-query attention
    mixtral = by_id["mixtral-8x7b"]
    assert (mixtral["params_b"], mixtral["active_params_b"]) == (46.7, 12.9)
    assert by_id["qwen3-30b-a3b"]["active_params_b"] < by_id["qwen3-30b-a3b"]["params_b"] / 5
    gemma = by_id["gemma-2-9b"]
    assert gemma["sliding_window"] == 4096
    assert gemma["sliding_window_layers"] * 2 == gemma["layers"]
    assert gemma["head_dim"] == 256  # not hidden 3584 / 16 heads


def test_rtx_3060_is_found_by_what_people_type(hardware: list[dict[str, Any]]) -> None:
    card = _by_id(hardware)["rtx-3060-12gb"]
    assert {"3060", "rtx 3060", "rtx3060"} <= {a.lower() for a in card["aliases"]}
    assert card["memory_gb"] == 12


def test_cpu_bandwidth_is_transfer_rate_times_8_bytes_times_channels(
    hardware: list[dict[str, Any]],
) -> None:
    channels = {"single": 1, "dual": 2, "quad": 4, "eight": 8, "twelve": 12}
    cpu_entries = [h for h in hardware if h["kind"] == "cpu"]
    assert cpu_entries
    for entry in cpu_entries:
        match = re.match(r"^ddr\d-(\d+)-(\w+)-channel-", entry["id"])
        assert match, entry["id"]
        expected = int(match.group(1)) * 8 * channels[match.group(2)] / 1000
        assert entry["bandwidth_gbps"] == pytest.approx(expected), entry["id"]


def test_aliases_do_not_shadow_ids_across_catalogs(
    models: list[dict[str, Any]], hardware: list[dict[str, Any]]
) -> None:
    """`/cost model:X hardware:Y` must not be able to read a GPU name as a model name."""
    model_names = {n.lower() for m in models for n in [m["id"], *m["aliases"]]}
    hardware_names = {n.lower() for h in hardware for n in [h["id"], *h["aliases"]]}
    assert model_names & hardware_names == set()


# --------------------------------------------------------------------------- the validators bite


def _good_model() -> dict[str, Any]:
    return {
        "id": "example-7b",
        "name": "Example 7B",
        "aliases": ["example7b"],
        "maker": "Example",
        "params_b": 7.0,
        "active_params_b": 7.0,
        "layers": 32,
        "heads": 32,
        "kv_heads": 8,
        "head_dim": 128,
        "context": 8192,
        "sliding_window": None,
        "sliding_window_layers": None,
        "license": "Apache 2.0",
        "released": "2024-01",
        "gguf_file_gb": {"Q4_K_M": 4.3},
        "sources": ["https://example.org/config.json"],
    }


def _good_hardware() -> dict[str, Any]:
    return {
        "id": "example-gpu",
        "name": "Example GPU",
        "aliases": ["exgpu"],
        "kind": "gpu",
        "memory_gb": 24,
        "bandwidth_gbps": 1000,
        "power_w": 300,
        "usd_per_hour": None,
        "price_usd": 999,
        "price_as_of": "2026-11",
        "sources": ["https://example.org/spec"],
    }


def test_good_examples_pass() -> None:
    assert validate_models([_good_model()]) == []
    assert validate_hardware([_good_hardware()]) == []
    good_quant = {"id": "Q4_K_M", "bits_per_weight": 4.89, "sources": ["x"], "note": "n"}
    assert validate_quants([good_quant]) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kv_heads", 5, "does not divide"),
        ("active_params_b", 9.0, "exceeds params_b"),
        ("layers", 0, "layers must be positive"),
        ("head_dim", "128", "has type str"),
        ("context", -1, "context must be positive"),
        ("sources", [], "at least one source"),
        ("id", "Example_7B", "lowercase"),
        ("released", "2024", "not YYYY-MM"),
        ("sliding_window", 4096, "go together"),
        ("gguf_file_gb", {"Q4_K_M": 0}, "positive number"),
        ("layers", True, "has type bool"),
    ],
)
def test_broken_model_is_rejected(field: str, value: Any, message: str) -> None:
    entry = _good_model()
    entry[field] = value
    errors = validate_models([entry])
    assert any(message in e for e in errors), errors


def test_model_missing_field_and_bad_window_layers_are_rejected() -> None:
    entry = _good_model()
    del entry["kv_heads"]
    assert any("missing field 'kv_heads'" in e for e in validate_models([entry]))
    entry = _good_model()
    entry["sliding_window"], entry["sliding_window_layers"] = 4096, 40
    assert any("not in 1..32" in e for e in validate_models([entry]))


def test_alias_collisions_are_rejected() -> None:
    first, second = _good_model(), _good_model()
    second["id"] = "other-7b"
    second["aliases"] = ["EXAMPLE7B"]  # same as first's alias, different case
    assert any("collides" in e for e in validate_models([first, second]))
    second["aliases"] = ["Example-7B"]  # same as first's id
    assert any("collides" in e for e in validate_models([first, second]))
    duplicate = copy.deepcopy(first)
    assert any("collides" in e for e in validate_models([first, duplicate]))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kind", "tpu", "not in"),
        ("memory_gb", 0, "memory_gb must be positive"),
        ("bandwidth_gbps", -5, "bandwidth_gbps must be positive"),
        ("power_w", "300 W", "has type str"),
        ("price_usd", 0, "positive or null"),
        ("price_as_of", "Nov 2026", "not YYYY-MM"),
        ("sources", None, "at least one source"),
    ],
)
def test_broken_hardware_is_rejected(field: str, value: Any, message: str) -> None:
    entry = _good_hardware()
    entry[field] = value
    errors = validate_hardware([entry])
    assert any(message in e for e in errors), errors


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"id": "Q4_K_M", "bits_per_weight": 0.5, "sources": ["x"], "note": "n"}, "outside"),
        ({"id": "Q4_K_M", "bits_per_weight": 40, "sources": ["x"], "note": "n"}, "outside"),
        ({"id": "q4_k_m", "bits_per_weight": 4.89, "sources": ["x"], "note": "n"}, "spelling"),
        ({"id": "Q4_K_M", "bits_per_weight": 4.89, "sources": [], "note": "n"}, "source"),
        ({"id": "Q4_K_M", "sources": ["x"], "note": "n"}, "missing field"),
    ],
)
def test_broken_quant_is_rejected(entry: dict[str, Any], message: str) -> None:
    errors = validate_quants([entry])
    assert any(message in e for e in errors), errors
