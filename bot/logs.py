"""Logging for every front end: LOG_LEVEL, LOG_FORMAT (text or one JSON object a line), and
a filter that keeps secrets out of every line.

Request fields travel as `extra=` on a record (see :data:`REQUEST_FIELDS`); the JSON format
writes them as keys, the text format appends them as `key=value`. Question text is such a field
only when the operator sets LOG_QUESTIONS (see :func:`request_fields`).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

# Fields an adapter may attach to a record with `extra=`; nothing else from `extra` is written,
# so a stray attribute can never leak into the log.
REQUEST_FIELDS = ("guild", "channel", "command", "mode", "timings", "queue_position",
                  "status", "retry_after_s", "vote", "question")
REDACTED = "[redacted]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class SecretFilter(logging.Filter):
    """Replace every known secret (the bot token, API keys) in a record by `[redacted]`.

    discord.py never logs the token itself; this stands guard for any library that might, and
    for exception texts that quote a URL with a key in it.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 8]

    def _scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        record.msg = self._scrub(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._scrub(record.exc_text)
        return True


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {key: getattr(record, key) for key in REQUEST_FIELDS if hasattr(record, key)}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, then the request fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The classic one-line format, with the request fields appended as key=value."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = _fields(record)
        if not extra:
            return line
        first, sep, rest = line.partition("\n")  # keep a traceback below the fields
        pairs = " ".join(f"{k}={json.dumps(v, default=str)}" for k, v in extra.items())
        return f"{first} {pairs}{sep}{rest}"


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time of the record, not at setup: a test
    runner that swaps stderr per test never leaves it writing to a closed stream."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def level_number(level: str) -> int:
    """LOG_LEVEL as a number; an unknown name means INFO."""
    value = logging.getLevelName(str(level).strip().upper())
    return value if isinstance(value, int) else logging.INFO


def configure_logging(level: str = "WARNING", fmt: str = "text",
                      secrets: Iterable[str] = ()) -> logging.Handler:
    """Send every logger (ours, discord.py's, the libraries') to stderr at `level`.

    Called once by the CLI for every command, so the console, the bot and the tools all honour
    LOG_LEVEL and LOG_FORMAT. Returns the handler (tests read through it).
    """
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(SecretFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level_number(level))
    return handler


def request_fields(*, command: str, guild: int | None, mode: str | None = None,
                   timings: dict[str, float] | None = None, question: str | None = None,
                   log_questions: bool = False, **more: Any) -> dict[str, Any]:
    """The `extra=` of one request's log line; the question only when the operator opted in."""
    fields: dict[str, Any] = {"command": command, "guild": guild, **more}
    if mode is not None:
        fields["mode"] = mode
    if timings:
        fields["timings"] = {k: round(float(v), 1) for k, v in timings.items()}
    if log_questions and question is not None:
        fields["question"] = question
    return fields


def secrets_of(settings: Any) -> list[str]:
    """The values no log line may show: the bot token, the LLM key, passwords in URLs."""
    out = []
    for name in ("discord_token", "llm_api_key"):
        value = getattr(settings, name, None)
        if value is not None:
            out.append(value.get_secret_value().strip())
    for name in ("redis_url", "database_url"):
        url = getattr(settings, name, None)
        password = _url_password(url.get_secret_value() if hasattr(url, "get_secret_value")
                                 else url)
        if password:
            out.append(password)
    return out


def _url_password(url: str | None) -> str | None:
    if not url:
        return None
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).password
    except ValueError:
        return None


__all__ = ["JsonFormatter", "SecretFilter", "TextFormatter", "configure_logging",
           "level_number", "request_fields", "secrets_of"]
