from __future__ import annotations

import json

import pytest

from bot.cli import main
from bot.core.desk import Desk

pytestmark = pytest.mark.slow  # loads the real GGUF


def test_ask_json_is_the_answer(monkeypatch, indexed_settings, capsys) -> None:
    monkeypatch.setenv("KNOWLEDGE_DIR", str(indexed_settings.knowledge_dir))
    monkeypatch.setenv("DATA_DIR", str(indexed_settings.data_dir))
    assert main(["--env-file", "/nonexistent", "ask", "is a .pt file safe to load?",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"question", "text", "mode", "citations", "timings", "model"}
    assert out["mode"] in ("generated", "extractive")
    assert out["citations"][0]["file"] == "security/pickle.md"
    assert set(out["timings"]) >= {"retrieve_ms", "first_token_ms", "total_ms"}


def test_ask_human_output_lists_sources(monkeypatch, indexed_settings, capsys) -> None:
    monkeypatch.setenv("KNOWLEDGE_DIR", str(indexed_settings.knowledge_dir))
    monkeypatch.setenv("DATA_DIR", str(indexed_settings.data_dir))
    assert main(["--env-file", "/nonexistent", "ask", "banana bread recipe please"]) == 0
    out = capsys.readouterr().out
    assert "not covered by the knowledge base" in out and "Sources:" not in out
    assert main(["--env-file", "/nonexistent", "ask", "is a .pt file safe to load?"]) == 0
    out = capsys.readouterr().out
    assert "Sources:\n  [1] Running pickle-based checkpoints safely" in out
    assert "<https://docs.python.org/3/library/pickle.html>" in out
    assert main(["--env-file", "/nonexistent", "ask", "   "]) == 2
    assert "empty" in capsys.readouterr().err


def test_ask_closes_what_it_opened(monkeypatch, indexed_settings, capsys) -> None:
    monkeypatch.setenv("KNOWLEDGE_DIR", str(indexed_settings.knowledge_dir))
    monkeypatch.setenv("DATA_DIR", str(indexed_settings.data_dir))
    closed: list[bool] = []
    real = Desk.close

    def close(self: Desk) -> None:
        closed.append(self.services.pipeline_loaded)
        real(self)

    monkeypatch.setattr(Desk, "close", close)
    assert main(["--env-file", "/nonexistent", "ask", "is a .pt file safe?", "--json"]) == 0
    assert closed == [True]  # the model it loaded was freed
