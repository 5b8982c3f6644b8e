from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from kb_support import expected_chunks

from bot.cli import main

pytestmark = pytest.mark.slow  # the bench loads the real GGUF

KEYS = {"retrieval_ms_p50", "retrieval_overhead_ratio", "tokens_per_second",
        "raw_tokens_per_second", "generation_overhead_ratio", "first_token_ms_p50",
        "answer_ms_p50", "answer_ms_p95", "reindex_full_s", "reindex_noop_s", "peak_rss_mb",
        "event_loop_max_lag_ms", "answers_per_minute", "computed_answer_ms_p50"}


def test_bench_json_prints_every_figure(monkeypatch, kb_dir: Path, tmp_path: Path, embedder,
                                        capsys) -> None:
    monkeypatch.setenv("KNOWLEDGE_DIR", str(kb_dir))
    shutil.copytree(Path(__file__).resolve().parents[2] / "knowledge" / "data", kb_dir / "data")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "--json", "--answers", "2", "--users", "2"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) >= KEYS
    assert figures["reindex_chunks"] == expected_chunks()
    assert figures["tokens_per_second"] > 0 and figures["raw_tokens_per_second"] > 0
    assert figures["answers_per_minute"] > 0 and figures["peak_rss_mb"] > 100


def test_bench_table_shows_targets() -> None:
    from bot.bench import format_table

    table = format_table({"retrieval_overhead_ratio": 1.5, "first_token_ms_p50": 900.0})
    assert "MISSED" in table.splitlines()[1] and "<= 1.25" in table
    assert table.splitlines()[2].rstrip().endswith("yes")
