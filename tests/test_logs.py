"""LOG_LEVEL and LOG_FORMAT as an operator sees them on stderr."""

from __future__ import annotations

import json
import logging

import pytest

from bot.cli import main
from bot.logs import configure_logging, request_fields

TOKEN = "MTIzNDU2Nzg5.fake-bot-token.must-not-leak"


@pytest.fixture(autouse=True)
def _restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    # A session fixture elsewhere (the e2e bot) may have set our loggers' own levels; here the
    # levels must come from LOG_LEVEL alone, as in a fresh process.
    ours = {name: logging.getLogger(name).level for name in ("bot", "discord")}
    for name in ours:
        logging.getLogger(name).setLevel(logging.NOTSET)
    yield
    for name, old in ours.items():
        logging.getLogger(name).setLevel(old)
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


def _json_lines(err: str) -> list[dict]:
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "nothing was logged, so this test would prove nothing"
    return [json.loads(line) for line in lines]  # every line is one JSON object


def test_json_format_writes_one_object_a_line_from_the_cli(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("LOG_FORMAT", "json")
    assert main(["--env-file", "/nonexistent", "fit", "rtx-4090", "--json"]) == 0
    entries = _json_lines(capsys.readouterr().err)
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys()
    assert any(e["logger"].startswith("bot.core") and e["level"] == "DEBUG" for e in entries)


def test_log_level_error_hides_debug_in_json_too(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    monkeypatch.setenv("LOG_FORMAT", "json")
    main(["--env-file", "/nonexistent", "fit", "rtx-4090", "--json"])
    assert "DEBUG" not in capsys.readouterr().err


def test_the_token_is_redacted_from_any_logger_and_traceback(monkeypatch, capsys) -> None:
    configure_logging("INFO", "json", secrets=[TOKEN])
    logging.getLogger("discord.http").warning("sending Authorization: Bot %s", TOKEN)
    try:
        raise RuntimeError(f"bad header {TOKEN}")
    except RuntimeError:
        logging.getLogger("some.library").exception("request failed")
    err = capsys.readouterr().err
    assert TOKEN not in err
    entries = _json_lines(err)
    assert "[redacted]" in entries[0]["message"] and "[redacted]" in entries[1]["exception"]


def test_the_cli_redacts_the_configured_token(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    main(["--env-file", "/nonexistent", "fit", "rtx-4090", "--json"])
    logging.getLogger("discord.gateway").info("identify with %s", TOKEN)
    err = capsys.readouterr().err
    assert "[redacted]" in err and TOKEN not in err


def test_request_fields_keep_the_question_out_unless_opted_in(capsys) -> None:
    configure_logging("INFO", "json")
    log = logging.getLogger("bot.discord_app.answering")
    timings = {"retrieve_ms": 12.34, "total_ms": 2100.0}
    question = "can my 3060 run llama 3.1 8b"
    log.info("answered", extra=request_fields(command="ask", guild=42, mode="generated",
                                              timings=timings, question=question))
    log.info("answered", extra=request_fields(command="ask", guild=42, mode="generated",
                                              question=question, log_questions=True))
    first, second = _json_lines(capsys.readouterr().err)
    assert first["guild"] == 42 and first["command"] == "ask" and first["mode"] == "generated"
    assert first["timings"] == {"retrieve_ms": 12.3, "total_ms": 2100.0}
    assert "question" not in first and "3060" not in json.dumps(first)
    assert second["question"] == question


def test_text_format_appends_request_fields(capsys) -> None:
    configure_logging("INFO", "text")
    logging.getLogger("bot.x").info("rate limited",
                                    extra=request_fields(command="ask", guild=7, status="busy"))
    line = capsys.readouterr().err.strip()
    assert "INFO bot.x: rate limited" in line and 'command="ask"' in line and "guild=7" in line
