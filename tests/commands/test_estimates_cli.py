"""`modeldesk cost` and `modeldesk fit` through the real CLI router."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "catalog"
REAL = ROOT / "knowledge" / "data"
COST_KEYS = {
    "weights_bytes",
    "kv_cache_bytes",
    "overhead_bytes",
    "total_bytes",
    "fits",
    "gpu_layers",
    "tokens_per_second",
    "tokens_per_second_range",
    "usd_per_hour",
    "usd_per_million_tokens",
    "joules_per_token",
    "break_even_million_tokens_per_month",
    "assumptions",
    "model",
    "hardware",
}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--env-file", "/nonexistent/.env", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def fixture_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "data").symlink_to(FIXTURES, target_is_directory=True)
    monkeypatch.setenv("KNOWLEDGE_DIR", str(tmp_path))
    return tmp_path


def test_cost_json_has_the_contract_keys(fixture_catalog: Path, capsys) -> None:
    code, out, err = _run(
        capsys, "cost", "Llama 3.1 8B", "--hardware", "3060", "--api-usd-per-mtok", "0.6", "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert set(data) >= COST_KEYS
    assert data["kv_cache_bytes"] == 1024 * 2**20
    assert data["fits"] is True and data["gpu_layers"] == 32
    assert data["model"]["id"] == "llama-3.1-8b" and data["hardware"]["id"] == "rtx-3060-12gb"
    low, high = data["tokens_per_second_range"]
    assert low < data["tokens_per_second"] < high
    assert data["break_even_million_tokens_per_month"] > 0
    # Other tools can recompute the identities from the JSON exactly.
    tps = data["tokens_per_second"]
    assert data["usd_per_million_tokens"] == data["usd_per_hour"] * 10**6 / (tps * 3600)
    assert data["joules_per_token"] == data["hardware"]["power_w"] / tps


def test_cost_without_hardware_has_nulls(fixture_catalog: Path, capsys) -> None:
    code, out, _ = _run(capsys, "cost", "llama3.1:8b", "--quant", "q8_0", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["fits"] is None and data["tokens_per_second"] is None and data["hardware"] is None


def test_cost_human_text_and_chart(fixture_catalog: Path, tmp_path: Path, capsys) -> None:
    chart = tmp_path / "cost.png"
    code, out, _ = _run(
        capsys, "cost", "llama-3.1-70b", "--hardware", "rtx-3060-12gb", "--chart", str(chart)
    )
    assert code == 0
    assert "GiB" in out and "layers on the GPU" in out
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_custom_model_and_hardware(fixture_catalog: Path, capsys) -> None:
    code, out, err = _run(
        capsys,
        "cost",
        "--params",
        "7",
        "--layers",
        "32",
        "--kv-heads",
        "8",
        "--head-dim",
        "128",
        "--active-params",
        "2",
        "--memory-gb",
        "16",
        "--bandwidth-gbps",
        "400",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["model"]["custom"] is True and data["model"]["active_params_b"] == 2
    assert data["hardware"]["memory_gb"] == 16 and data["fits"] is True


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["cost", "llama-3.1-8b", "--context", "-5"], "1 to 131,072"),
        (["cost", "llama-3.1-8b", "--context", "200000"], "maximum of 131,072"),
        (["cost", "llama-3.1-8b", "--quant", "Q4_K_Z"], "Accepted: F16, Q8_0"),
        (["cost", "llama-3.1-8b", "--kv-type", "fp8"], "Accepted: f16, q8_0, q4_0"),
        (["cost", "gpt-5"], "Closest ids: "),
        (["cost", "llama-3.1-8b", "--hardware", "rtx-9999"], "Closest ids: "),
        (["cost", "--params", "7", "--layers", "32"], "missing --kv-heads, --head-dim"),
        (["cost"], "Name a model"),
        (["cost", "llama-3.1-8b", "--memory-gb", "8"], "both --memory-gb and --bandwidth-gbps"),
        (["fit"], "Name the hardware"),
        (["fit", "rtx-4090", "--context", "0"], "1 or more"),
    ],
)
def test_bad_usage_exits_2_with_one_line(fixture_catalog: Path, capsys, argv, needle) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and needle in err


def test_unknown_model_lists_five_ids(fixture_catalog: Path, capsys) -> None:
    _, _, err = _run(capsys, "cost", "llama-4-8b")
    assert len(err.split("Closest ids: ")[1].rstrip(".\n").split(", ")) == 5


def test_non_number_is_an_argparse_usage_error(fixture_catalog: Path, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--env-file", "/nonexistent/.env", "cost", "llama-3.1-8b", "--context", "lots"])
    assert info.value.code == 2


def test_fit_json_and_chart(fixture_catalog: Path, tmp_path: Path, capsys) -> None:
    chart = tmp_path / "fit.png"
    code, out, _ = _run(capsys, "fit", "RTX 4090", "--json", "--chart", str(chart))
    assert code == 0
    data = json.loads(out)
    assert data["hardware"]["id"] == "rtx-4090" and data["context"] == 8192
    ids = [row["model"] for row in data["results"]]
    assert "llama-3.1-8b" in ids and "llama-3.1-70b" not in ids
    assert all(row["free_bytes"] >= 0 for row in data["results"])
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_fit_human_text(fixture_catalog: Path, capsys) -> None:
    code, out, _ = _run(capsys, "fit", "--memory-gb", "8", "--bandwidth-gbps", "300")
    assert code == 0
    assert "models fit, best first" in out and len(out) <= 1801


def test_broken_catalog_exits_1_naming_the_file(tmp_path: Path, monkeypatch, capsys) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("models.yaml", "hardware.yaml"):
        (data / name).write_text((FIXTURES / name).read_text())
    (data / "quants.yaml").write_text("quants: [")
    monkeypatch.setenv("KNOWLEDGE_DIR", str(tmp_path))
    code, _, err = _run(capsys, "cost", "llama-3.1-8b")
    assert code == 1
    assert "quants.yaml" in err and "not valid YAML" in err


# --- the real catalogs in knowledge/data -------------------------------------------------------

real = pytest.mark.skipif(
    not all((REAL / f).exists() for f in ("models.yaml", "hardware.yaml", "quants.yaml")),
    reason="knowledge/data catalogs not written yet",
)


@real
@pytest.mark.parametrize(
    "model",
    [
        "llama-3.1-8b",
        "llama-2-7b",
        "mixtral-8x7b",
        "qwen3-30b-a3b",
        "gemma-2-9b",
        "gpt-oss-20b",
        "smollm2-135m",
        "llama-3.1-70b",
    ],
)
def test_real_catalog_cost(model: str, monkeypatch, capsys) -> None:
    monkeypatch.setenv("KNOWLEDGE_DIR", str(REAL.parent))
    code, out, err = _run(
        capsys, "cost", model, "--hardware", "rtx-4090", "--context", "4096", "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert set(data) >= COST_KEYS
    assert data["total_bytes"] > data["weights_bytes"] > 0


@real
def test_real_catalog_llama_figures(monkeypatch, capsys) -> None:
    monkeypatch.setenv("KNOWLEDGE_DIR", str(REAL.parent))
    _, out, _ = _run(capsys, "cost", "Llama 3.1 8B", "--context", "8192", "--json")
    data = json.loads(out)
    assert data["kv_cache_bytes"] == 1024 * 2**20
    assert data["weights_bytes"] / 2**30 == pytest.approx(4.58, rel=0.03)


@real
@pytest.mark.parametrize(
    "hardware",
    [
        "rtx-3060-12gb",
        "rtx-4090",
        "rtx-3090",
        "h100-sxm",
        "a100-80gb",
        "ddr5-5600-dual-channel-64gb",
    ],
)
def test_real_catalog_fit(hardware: str, monkeypatch, capsys) -> None:
    monkeypatch.setenv("KNOWLEDGE_DIR", str(REAL.parent))
    code, out, err = _run(capsys, "fit", hardware, "--json")
    assert code == 0, err
    ids = [row["model"] for row in json.loads(out)["results"]]
    assert "smollm2-135m" in ids
    if hardware in ("h100-sxm", "a100-80gb"):
        assert "llama-3.1-70b" in ids


def test_catalog_schema_validates_the_shipped_catalogs(capsys) -> None:  # noqa: ANN001
    import jsonschema
    import yaml

    assert main(["--env-file", "/nonexistent", "catalog", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    data_dir = Path(__file__).resolve().parents[2] / "knowledge" / "data"
    for file, file_schema in schema.items():
        data = yaml.safe_load((data_dir / file).read_text())
        for key in ("models", "hardware"):  # YAML reads 2024-07 as text but dates as dates
            for row in data.get(key, []):
                for field in ("released", "price_as_of"):
                    if row.get(field) is not None:
                        row[field] = str(row[field])
        jsonschema.validate(data, file_schema)
    broken = {"models": [{"id": "x", "name": "X"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema["models.yaml"])


def test_cost_takes_parallel_gpus_ram_and_a_gguf(capsys) -> None:  # noqa: ANN001
    from bot.core.llm import bundled_model_path

    assert main(["--env-file", "/nonexistent", "cost", "llama-3.1-70b", "--hardware",
                 "2x rtx-3090", "--json"]) == 0
    two = json.loads(capsys.readouterr().out)
    assert two["gpus"] == 2 and two["fits"] is True
    assert main(["--env-file", "/nonexistent", "cost", "qwen3.6-27b", "--parallel", "4",
                 "--context", "16384", "--json"]) == 0
    four = json.loads(capsys.readouterr().out)
    assert four["parallel"] == 4 and four["kv_cache_bytes"] == 4 * four[
        "kv_cache_bytes_per_sequence"] and four["state_bytes"] > 0
    assert main(["--env-file", "/nonexistent", "cost", "--gguf", str(bundled_model_path()),
                 "--json"]) == 0
    own = json.loads(capsys.readouterr().out)
    assert own["weights_bytes"] == bundled_model_path().stat().st_size
    assert main(["--env-file", "/nonexistent", "catalog", "from-gguf",
                 str(bundled_model_path())]) == 0
    assert "layers: 30" in capsys.readouterr().out
    assert main(["--env-file", "/nonexistent", "fit", "2x rtx-3090", "--json"]) == 0
    fit = json.loads(capsys.readouterr().out)
    assert fit["gpus"] == 2 and any(r["model"] == "llama-3.1-70b" for r in fit["results"])
