"""`modeldesk bench [--json]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import Settings


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from bot.bench import format_table, run_bench, to_json

    show = sys.stderr.isatty() and not args.json
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  transient=True, disable=not show) as bar:
        task = bar.add_task("starting", total=None)
        figures = run_bench(settings, questions_file=Path(args.questions) if args.questions
                            else None, answers=args.answers, users=args.users,
                            step=lambda text: bar.update(task, description=text))
    sys.stdout.write((to_json(figures) if args.json else format_table(figures)) + "\n")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("bench", help="measure speed and memory against the raw libraries",
                       description="Measure retrieval, generation, answers, reindex, memory and "
                       "event-loop lag under load, each beside its target.")
    p.add_argument("--json", action="store_true")
    p.add_argument("--questions", help="eval JSONL to draw questions from "
                   "(default eval/questions.jsonl)")
    p.add_argument("--answers", type=int, default=12, help="answers to time (default 12)")
    p.add_argument("--users", type=int, default=8, help="simultaneous users (default 8)")
    p.set_defaults(func=cmd_bench)
