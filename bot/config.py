"""Settings for ModelDesk, read from the environment and `.env`.

Built by :func:`load_settings`, never at import time, so tests can pass their own values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting ModelDesk reads. `.env.example` documents each one."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # Discord
    discord_token: SecretStr | None = None
    dev_guild_id: int | None = None
    admin_role_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    # Text or forum channels where every question is answered (besides `/channel answer on`).
    answer_channel_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    rate_burst: int = 3  # questions a member may ask at once
    rate_per_minute: float = 3.0  # and then this many a minute
    queue_max: int = 8
    history_turns: int = 6
    discord_api_base: str | None = None  # a REST proxy in front of Discord; None = Discord
    discord_gateway_url: str | None = None  # a gateway proxy; None = Discord's

    # Knowledge and storage
    knowledge_dir: Path = Path("knowledge")
    data_dir: Path = Path("data")
    chroma_host: str | None = None
    chroma_port: int = 8000
    collection: str = "modeldesk"

    # Retrieval
    embedding_model: str | None = None  # a local sentence-transformers folder; None = bundled
    top_k: int = 5
    min_score: float = 0.30  # below this best score the question counts as not covered
    chunk_size: int = 1400
    chunk_overlap: int = 150

    # Language model
    llm_backend: Literal["auto", "llamacpp", "openai"] = "auto"
    model_path: str | None = None  # any GGUF; None = bundled SmolLM2-135M-Instruct
    llm_base_url: str | None = None  # an OpenAI-compatible server; set = used instead of llama.cpp
    llm_model: str = "local"
    llm_api_key: SecretStr | None = None
    llm_threads: int = 2
    llm_context: int = 2048
    llm_max_tokens: int = 160
    llm_temperature: float = 0.2
    llm_top_p: float = 0.9
    llm_timeout_s: float = 60.0

    # Operations
    log_level: str = "WARNING"
    log_format: Literal["text", "json"] = "text"
    log_questions: bool = False  # question text in request log lines (personal data: opt in)
    http_port: int | None = None  # /healthz and /metrics; None = off, 0 = any free port
    http_host: str = "127.0.0.1"
    # Shared state for several bot processes
    redis_url: SecretStr | None = None  # rate limits (and the shared model queue) in Redis
    redis_prefix: str = "modeldesk"  # key prefix, so two deployments can share one Redis
    llm_slots: int = 1  # answers a model server (LLM_BASE_URL) runs at once
    database_url: SecretStr | None = None  # feedback and votes; None = SQLite under data_dir

    @field_validator("admin_role_ids", "answer_channel_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(",", " ").split() if part]
        if isinstance(value, int):
            return [value]
        return value

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / "manifest.json"

    @property
    def feedback_db(self) -> Path:
        return self.data_dir / "feedback.sqlite3"

    @property
    def feedback_target(self) -> str | Path:
        """Where feedback lives: DATABASE_URL, else the SQLite file under DATA_DIR."""
        if self.database_url is not None and self.database_url.get_secret_value().strip():
            return self.database_url.get_secret_value().strip()
        return self.feedback_db

    @property
    def backend(self) -> Literal["llamacpp", "openai"]:
        if self.llm_backend != "auto":
            return self.llm_backend
        return "openai" if self.llm_base_url else "llamacpp"


def load_settings(env_file: str | Path | None = ".env", **overrides: object) -> Settings:
    """Build the settings from the environment, an env file and explicit overrides.

    Args:
        env_file: the `.env` file to read; None reads the environment only.
        **overrides: values that win over both, as tests use them.
    """
    return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg,arg-type]
