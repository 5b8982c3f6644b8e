"""`modeldesk ask`: one grounded, cited answer."""

from __future__ import annotations

import argparse
import json
import sys

from bot.config import Settings


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import stream_answer
    from bot.core.desk import Desk

    with Desk.build(settings) as desk:
        if args.json:
            answer = desk.ask(args.question, subject=args.about)
            sys.stdout.write(json.dumps(answer.to_dict()) + "\n")
            return 0

        def write(text: str) -> None:
            sys.stdout.write(text)
            sys.stdout.flush()

        stream_answer(desk, args.question, write, subject=args.about,
                      stream=sys.stdout.isatty())
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("ask", help="a cited answer from the knowledge base",
                       description="Answer a question from the knowledge base with the local "
                       "model; every sentence is checked against the sources.")
    p.add_argument("question")
    p.add_argument("--about", metavar="SUBJECT",
                   help="what the conversation is about, e.g. a model name (for 'it')")
    p.add_argument("--json", action="store_true", help="print the Answer as JSON")
    p.set_defaults(func=cmd_ask)
