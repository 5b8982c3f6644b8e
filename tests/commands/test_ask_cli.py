from __future__ import annotations

import json

from bot.cli import main


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
    assert main(["--env-file", "/nonexistent", "ask", "   "]) == 2
    assert "empty" in capsys.readouterr().err
