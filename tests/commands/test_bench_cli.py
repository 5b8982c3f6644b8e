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
        "event_loop_max_lag_ms", "answers_per_minute", "computed_answer_ms_p50",
        "first_visible_ms_p50", "first_token_overhead_ratio", "raw_first_token_ms_p50",
        "prefill_tokens_p50", "prompt_tokens_p50"}
# The floors of the issue "Feel instant", on this machine in one bench run.
ISSUE_FLOORS = {"first_visible_ms_p50": 500, "first_token_overhead_ratio": 1.05,
                "computed_answer_ms_p50": 100, "answer_ms_p50": 2500,
                "generation_overhead_ratio": 1.05, "retrieval_overhead_ratio": 1.10,
                "event_loop_max_lag_ms": 50}


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
    # The system prompt comes from llama.cpp's cached prefix: only the rest is evaluated.
    assert 0 < figures["prefill_tokens_p50"] < figures["prompt_tokens_p50"]
    assert figures["first_token_overhead_ratio"] > 0 and figures["raw_first_token_ms_p50"] > 0


def test_bench_table_shows_targets() -> None:
    from bot.bench import format_table

    table = format_table({"retrieval_overhead_ratio": 1.5, "first_token_ms_p50": 900.0})
    assert "MISSED" in table.splitlines()[1] and "<= 1.1 " in table
    assert table.splitlines()[2].rstrip().endswith("yes")


def test_the_bench_holds_the_issue_floors() -> None:
    from bot.bench import FLOORS, format_table

    assert {key: FLOORS[key][0] for key in ISSUE_FLOORS} == ISSUE_FLOORS
    at_floor = format_table(dict(ISSUE_FLOORS)).splitlines()[1:]
    just_over = format_table({k: v * 1.01 for k, v in ISSUE_FLOORS.items()}).splitlines()[1:]
    assert len(at_floor) == len(ISSUE_FLOORS) and all(line.endswith("yes") for line in at_floor)
    assert all(line.endswith("MISSED") for line in just_over)
