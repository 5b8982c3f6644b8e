"""`modeldesk ask`: one grounded, cited answer."""

from __future__ import annotations

import argparse
import json
import sys

from bot.config import Settings


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import MODE_LABEL, format_sources
    from bot.core.services import build_services

    services = build_services(settings)
    stream = not args.json and sys.stdout.isatty()
    shown = {"text": ""}

    def on_partial(text: str) -> None:
        if text.startswith(shown["text"]):
            sys.stdout.write(text[len(shown["text"]):])
            sys.stdout.flush()
            shown["text"] = text

    answer = services.pipeline.answer(args.question, on_partial=on_partial if stream else None)
    if args.json:
        sys.stdout.write(json.dumps(answer.to_dict()) + "\n")
        return 0
    if answer.text.startswith(shown["text"]):
        sys.stdout.write(answer.text[len(shown["text"]):] + "\n")
    else:  # what streamed did not survive the check: print the checked answer
        sys.stdout.write("\n\n" + answer.text + "\n")
    sys.stdout.write(f"({MODE_LABEL[answer.mode]}; {answer.timings.get('total_ms', 0):.0f} ms, "
                     f"{answer.model})\n")
    if answer.citations:
        sys.stdout.write("Sources:\n" + format_sources(answer) + "\n")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("ask", help="a cited answer from the knowledge base",
                       description="Answer a question from the knowledge base with the local "
                       "model; every sentence is checked against the sources.")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the Answer as JSON")
    p.set_defaults(func=cmd_ask)
