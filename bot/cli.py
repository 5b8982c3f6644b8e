"""The `modeldesk` command line: one router; each command lives in `bot/commands/`.

Exit codes: 0 success, 1 a failure (one line on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from bot.core.errors import InvalidInput, ModelDeskError

log = logging.getLogger(__name__)

# Each module exposes `register(subparsers)`, which adds its commands with `func=handler`.
# A handler takes (args, settings) and returns an exit code.
COMMAND_MODULES = (
    "bot.commands.run",
    "bot.commands.index",
    "bot.commands.answer",
    "bot.commands.estimates",
    "bot.commands.discord",
    "bot.commands.bench",
    "bot.commands.catalog",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line, exit code 2, as the CLI contract says.
        sys.stderr.write(f"modeldesk: error: {message} (see --help)\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="modeldesk",
        description="Answers about open AI models from a curated knowledge base.",
    )
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command whose module is not there yet
        module.register(sub)
    return parser


def _say(error: ModelDeskError) -> str:
    from bot.core.errors import user_message
    from bot.core.text import neutralize_mentions

    return neutralize_mentions(user_message(error))


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from bot.config import load_settings

    try:
        settings = load_settings(args.env_file if os.path.exists(args.env_file) else None)
    except Exception as exc:  # noqa: BLE001 - a bad setting is the user's to fix, in one line
        sys.stderr.write(f"modeldesk: invalid settings: {str(exc).splitlines()[0]}\n")
        return 2
    from bot.logs import configure_logging, secrets_of

    configure_logging("DEBUG" if args.verbose else settings.log_level, settings.log_format,
                      secrets_of(settings))
    try:
        return int(args.func(args, settings) or 0)
    except InvalidInput as exc:
        sys.stderr.write(f"modeldesk: {_say(exc)}\n")
        return 2
    except ModelDeskError as exc:
        sys.stderr.write(f"modeldesk: {_say(exc)}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the log has the traceback, the user one line
        log.exception("command failed")
        sys.stderr.write(f"modeldesk: unexpected error: {exc.__class__.__name__}: {exc}\n")
        return 1
