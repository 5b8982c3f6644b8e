from __future__ import annotations

from pathlib import Path

from bot.config import Settings, load_settings


def test_settings_come_from_an_env_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    env = tmp_path / ".env"
    env.write_text(
        "DISCORD_TOKEN=abc.def.ghi\nDATA_DIR=/srv/md\nCHROMA_HOST=127.0.0.1\nCHROMA_PORT=9001\n"
        "ADMIN_ROLE_IDS=11, 22\nANSWER_CHANNEL_IDS=33,44\nLLM_BASE_URL=http://127.0.0.1:8080/v1\nTOP_K=7\n"
    )
    s = load_settings(env)
    assert s.discord_token is not None and s.discord_token.get_secret_value() == "abc.def.ghi"
    assert "abc.def.ghi" not in repr(s) and "abc.def.ghi" not in str(s.discord_token)
    assert s.data_dir == Path("/srv/md") and s.chroma_host == "127.0.0.1" and s.chroma_port == 9001
    assert s.admin_role_ids == [11, 22] and s.answer_channel_ids == [33, 44]
    assert s.backend == "openai" and s.top_k == 7


def test_defaults_run_with_nothing_set(monkeypatch) -> None:
    for key in ("DISCORD_TOKEN", "CHROMA_HOST", "LLM_BASE_URL", "MODEL_PATH", "DATA_DIR"):
        monkeypatch.delenv(key, raising=False)
    s = load_settings(None)
    assert s.discord_token is None and s.chroma_host is None
    assert s.data_dir == Path("data") and s.backend == "llamacpp" and s.model_path is None


def test_every_setting_is_documented_in_env_example() -> None:
    text = (Path(__file__).resolve().parent.parent / ".env.example").read_text()
    keys = {line.split("=", 1)[0] for line in text.splitlines() if "=" in line
            and not line.startswith("#")}
    assert keys == {name.upper() for name in Settings.model_fields}
