"""`modeldesk feedback` reports the votes; `modeldesk sync` needs a token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_settings
from bot.core.feedback import FeedbackStore
from bot.core.types import Answer


def test_feedback_command_reports_votes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    store = FeedbackStore(load_settings(None).feedback_db)
    answer_id = store.record_answer(Answer("What is GGUF?", "A file format [1].", "generated"))
    store.record_vote(answer_id, 7, 1)

    assert main(["feedback"]) == 0
    out = capsys.readouterr().out
    assert "1 answers recorded; 1 👍 and 0 👎." in out
    assert "What is GGUF?" in out

    assert main(["feedback", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["up"] == 1
    assert data["answers"][0]["question"] == "What is GGUF?"


def test_sync_without_a_token_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["sync"]) == 2
    assert "DISCORD_TOKEN is not set" in capsys.readouterr().err


def test_gaps_command_groups_unanswered_and_voted_down_questions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    store = FeedbackStore(load_settings(None).feedback_db)
    for question in ("How do I fine-tune a model with LoRA?",
                     "What is the way to do LoRA fine-tuning?"):
        store.record_answer(Answer(question, "Not covered.", "unknown"))
    wrong = store.record_answer(Answer("What license does Mistral Large use?", "MIT.",
                                       "generated"))
    store.record_reason(wrong, 7, "wrong", "It is not MIT")
    fine = store.record_answer(Answer("What is GGUF?", "A file format [1].", "generated"))
    store.record_vote(fine, 7, 1)

    assert main(["gaps", "--json", "--days", "7"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [g["count"] for g in data["gaps"]] == [2, 1]
    lora, license_ = data["gaps"]
    assert "LoRA" in lora["example"] and lora["why"] == {"not covered": 2, "voted down": 0}
    assert license_["reasons"] == {"wrong": 1} and license_["notes"] == ["It is not MIT"]
    assert "What is GGUF?" not in json.dumps(data)

    assert main(["gaps"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("**Knowledge gaps in the last 30 days**: 2 groups from 3 questions")
    assert "reasons: wrong 1" in out and "It is not MIT" in out
    assert main(["gaps", "--days", "0"]) == 2
    assert "days must be between 1 and 3650" in capsys.readouterr().err
