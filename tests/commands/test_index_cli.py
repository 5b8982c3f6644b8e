from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from kb_support import expected_chunks

from bot.cli import main


@pytest.fixture
def cli_env(monkeypatch, kb_dir: Path, tmp_path: Path, embedder):
    monkeypatch.setenv("KNOWLEDGE_DIR", str(kb_dir))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _json(capsys) -> dict:
    out = capsys.readouterr().out
    return json.loads(out)


def test_reindex_then_search_json(cli_env, capsys) -> None:
    assert main(["reindex", "--json"]) == 0
    report = _json(capsys)
    assert report["total_chunks"] == expected_chunks()
    assert len(report["added"]) == 3 and report["full"]
    assert (cli_env / "data" / "manifest.json").exists()
    assert main(["search", "can a pickle file run code", "--k", "2", "--json"]) == 0
    out = _json(capsys)
    assert len(out["results"]) == 2
    first = out["results"][0]
    assert set(first) >= {"text", "source", "title", "heading", "score"}
    assert first["title"] == "Running pickle-based checkpoints safely"


def test_eval_retrieval_only_json_shape(cli_env, capsys, tmp_path: Path) -> None:
    qs = tmp_path / "q.jsonl"
    qs.write_text(
        json.dumps({"id": "a", "question": "is loading a .pt file dangerous",
                    "evidence": [["pickle"], ["run code"]], "answer": [["pickle"]],
                    "answerable": True}) + "\n"
        + json.dumps({"id": "b", "question": "who won the football", "evidence": [],
                      "answer": [], "answerable": False}) + "\n"
    )
    assert main(["reindex"]) == 0
    capsys.readouterr()
    assert main(["eval", str(qs), "--retrieval-only", "--k", "3", "--json"]) == 0
    out = _json(capsys)
    m = out["metrics"]
    assert m["hit@1"] == 1.0 and m["hit@3"] == 1.0 and m["mrr"] == 1.0
    assert m["retrieval_ms_p50"] > 0
    r = out["results"][0]
    assert set(r) >= {"id", "question", "retrieved", "answer", "mode", "citations", "timings"}
    assert r["answer"] is None and r["mode"] == "retrieval" and len(r["retrieved"]) == 3
    assert set(r["retrieved"][0]) >= {"text", "source", "title", "heading", "score"}


@pytest.mark.slow  # answers load the real GGUF
def test_eval_records_each_answers_timings(cli_env, capsys, tmp_path: Path) -> None:
    qs = tmp_path / "q.jsonl"
    qs.write_text(
        json.dumps({"id": "a", "question": "is loading a .pt file dangerous",
                    "evidence": [["pickle"]], "answer": [["pickle"]], "answerable": True})
        + "\n" + json.dumps({"id": "b", "question": "who won the football", "evidence": [],
                             "answer": [], "answerable": False}) + "\n")
    assert main(["reindex"]) == 0
    capsys.readouterr()
    assert main(["eval", str(qs), "--json"]) == 0
    out = _json(capsys)
    known, unknown = out["results"]
    t = known["timings"]
    # The preview with sources came first, then the model's first token, then the answer.
    assert 0 < t["first_visible_ms"] == t["preview_ms"] <= t["first_token_ms"] <= t["total_ms"]
    assert 0 < t["prefill_tokens"] <= t["prompt_tokens"]
    assert unknown["mode"] == "unknown"
    assert unknown["timings"]["first_visible_ms"] == unknown["timings"]["total_ms"]
    assert out["metrics"]["first_visible_ms_p50"] > 0


def test_bad_usage_exits_2_with_one_line(cli_env, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["search"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "question" in err
    assert main(["eval", "missing.jsonl", "--retrieval-only"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_failure_exits_1_with_one_line(cli_env, capsys) -> None:
    assert main(["search", "anything"]) == 1  # nothing indexed yet
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "modeldesk reindex" in err


def test_console_script_help() -> None:
    exe = Path(sys.executable).parent / "modeldesk"
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True)
    for command in ("reindex", "search", "eval", "run"):
        assert command in out.stdout


def test_log_level_is_honoured(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    main(["--env-file", "/nonexistent", "fit", "rtx-4090", "--json"])
    assert "DEBUG bot.core.catalog" in capsys.readouterr().err
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    main(["--env-file", "/nonexistent", "fit", "rtx-4090", "--json"])
    assert "DEBUG" not in capsys.readouterr().err
