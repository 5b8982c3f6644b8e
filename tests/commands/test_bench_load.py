"""`modeldesk bench --load`: members asking through the fake Discord API at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.load_bench import format_load


@pytest.mark.e2e
def test_load_run_acknowledges_and_answers_every_question(monkeypatch, kb_dir: Path,
                                                          tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("KNOWLEDGE_DIR", str(kb_dir))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LLM_BASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no eval/ here: the built-in questions
    code = main(["bench", "--load", "--users", "4", "--per-user", "2", "--json"])
    figures = json.loads(capsys.readouterr().out)
    assert code == 0, figures
    assert figures["load_questions"] == 8 and figures["load_answered"] == 8
    assert figures["load_lost"] == 0 and figures["load_missed_acks"] == 0
    assert figures["load_max_queue_place"] >= 1  # a line formed, so its order was checked
    assert figures["load_queue_places_went_up"] == 0
    assert 0 < figures["load_ack_ms_p95"] < 3000
    assert figures["load_answer_s_p95"] >= figures["load_answer_s_p50"] > 0


def test_the_load_table_flags_what_must_be_zero() -> None:
    table = format_load({"load_lost": 0, "load_missed_acks": 2, "load_queue_places_went_up": 0,
                         "load_ack_ms_p95": 12.0})
    rows = {line.split()[0]: line for line in table.splitlines()[1:]}
    assert rows["load_lost"].endswith("yes") and rows["load_missed_acks"].endswith("MISSED")


def test_bad_load_arguments_are_refused_in_one_line(capsys) -> None:
    assert main(["--env-file", "/nonexistent", "bench", "--load", "--per-user", "0"]) == 2
    assert "--per-user" in capsys.readouterr().err
