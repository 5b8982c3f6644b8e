"""`modeldesk bench [--json]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import Settings


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from bot.bench import format_table, run_bench, to_json

    if args.load:
        return _load(args, settings)
    show = sys.stderr.isatty() and not args.json
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  transient=True, disable=not show) as bar:
        task = bar.add_task("starting", total=None)
        figures = run_bench(settings, questions_file=Path(args.questions) if args.questions
                            else None, answers=args.answers, users=args.users or 8,
                            step=lambda text: bar.update(task, description=text))
    sys.stdout.write((to_json(figures) if args.json else format_table(figures)) + "\n")
    return 0


def _load(args: argparse.Namespace, settings: Settings) -> int:
    """The Discord load run: every interaction acknowledged in time, none lost."""
    from bot.bench import to_json
    from bot.load_bench import bench_load, format_load

    if (args.users is not None and args.users < 1) or args.per_user < 1:
        from bot.core.errors import InvalidInput

        raise InvalidInput("--users and --per-user must be at least 1.")
    figures = bench_load(settings, users=args.users or 50, per_user=args.per_user,
                         questions_file=Path(args.questions) if args.questions else None)
    sys.stdout.write((to_json(figures) if args.json else format_load(figures)) + "\n")
    ok = (figures["load_missed_acks"] == 0 and figures["load_lost"] == 0
          and figures["load_queue_places_went_up"] == 0)
    return 0 if ok else 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("bench", help="measure speed and memory against the raw libraries",
                       description="Measure retrieval, generation, answers, reindex, memory and "
                       "event-loop lag under load, each beside its target.")
    p.add_argument("--json", action="store_true")
    p.add_argument("--questions", help="eval JSONL to draw questions from "
                   "(default eval/questions.jsonl)")
    p.add_argument("--answers", type=int, default=12, help="answers to time (default 12)")
    p.add_argument("--users", type=int, default=None,
                   help="simultaneous users (default 8; 50 with --load)")
    p.add_argument("--load", action="store_true",
                   help="members asking through a Discord API on loopback against one bot "
                   "process and an OpenAI-compatible server (LLM_BASE_URL, else a fake one)")
    p.add_argument("--per-user", type=int, default=3,
                   help="questions each member asks with --load (default 3)")
    p.set_defaults(func=cmd_bench)
