"""`modeldesk run`: the Discord bot when DISCORD_TOKEN is set, the console otherwise."""

from __future__ import annotations

import argparse
import sys

from bot.config import Settings


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if settings.discord_token and not args.console:
        from bot.discord_app import run_bot

        run_bot(settings)
        return 0
    from bot.console import run_console

    if not settings.discord_token:
        sys.stderr.write("DISCORD_TOKEN is not set: starting the console. Type /help.\n")
    return run_console(settings)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("run", help="start the bot (Discord, or the console without a token)",
                       description="Start the Discord bot when DISCORD_TOKEN is set, else the "
                       "console.")
    p.add_argument("--console", action="store_true", help="the console even with a token")
    p.set_defaults(func=cmd_run)
