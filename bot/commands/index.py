"""`modeldesk reindex`, `search` and `eval`."""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.core.errors import InvalidInput
from bot.core.types import Answer

if TYPE_CHECKING:
    from bot.core.desk import Desk


def _progress_bar(enabled: bool) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    transient=True, disable=not enabled, console=None)


def _desk(settings: Settings) -> Desk:
    from bot.core.desk import Desk

    return Desk.build(settings)


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    show = sys.stderr.isatty() and not args.json
    with _desk(settings) as desk, _progress_bar(show) as bar:
        task = bar.add_task("embedding", total=None)

        def progress(done: int, total: int, message: str) -> None:
            bar.update(task, completed=done, total=total, description=message)

        report = desk.reindex(full=args.full, progress=progress)
    if args.json:
        sys.stdout.write(json.dumps(report.to_dict()) + "\n")
    else:
        sys.stdout.write(report.summary() + "\n")
    return 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    with _desk(settings) as desk:
        chunks = desk.search(args.question, k=args.k)
    if args.json:
        rows = [{"text": c.text, "source": c.source, "title": c.title, "heading": c.heading,
                 "file": c.file, "score": c.score} for c in chunks]
        sys.stdout.write(json.dumps({"question": args.question, "results": rows}) + "\n")
        return 0
    from bot.render.answers import format_passages

    sys.stdout.write(format_passages(chunks, width=300) + "\n")
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.evaluation import load_questions, run_eval

    if args.k < 1:
        raise InvalidInput("--k must be at least 1")
    if _is_fit_file(Path(args.file)):
        return _fit_eval(args, settings)
    questions = load_questions(Path(args.file))
    show = sys.stderr.isatty() and not args.json
    with _desk(settings) as desk, _progress_bar(show) as bar:
        answer = None if args.retrieval_only else partial(desk.ask_with_evidence,
                                                          on_preview=_no_preview)
        task = bar.add_task("eval", total=len(questions))
        out = run_eval(questions, lambda q, k: desk.services.retriever.search(q, k=k), k=args.k,
                       answer=answer, progress=lambda d, t: bar.update(task, completed=d))
    if args.json:
        sys.stdout.write(json.dumps(out) + "\n")
        return 0
    m = out["metrics"]
    for key, value in m.items():
        sys.stdout.write(f"{key:>24}: {value}\n")
    misses = [r for r in out["results"] if r["answerable"] and not r["hit_rank"]]
    for r in misses:
        top = r["retrieved"][0] if r["retrieved"] else {}
        sys.stdout.write(f"  miss {r['id']}: {r['question']!r} -> {top.get('file')} "
                         f"/ {top.get('heading')}\n")
    return 0


def _no_preview(_: Answer) -> None:
    """The eval makes the preview a person would see (so it is timed) but shows nothing."""


def _is_fit_file(path: Path) -> bool:
    """Labelled fit questions (eval/real_fit_questions.jsonl) carry an "intent" per line."""
    try:
        first = next(line for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
        return "intent" in json.loads(first)
    except (OSError, StopIteration, ValueError, TypeError):
        return False


def _fit_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.fit_eval import load_fit_questions, run_fit_eval

    with _desk(settings) as desk:
        out = run_fit_eval(load_fit_questions(Path(args.file)), desk)
    if args.json:
        sys.stdout.write(json.dumps(out) + "\n")
        return 0
    for key, value in out["metrics"].items():
        sys.stdout.write(f"{key:>24}: {value}\n")
    for r in out["results"]:
        if not r["right"]:
            sys.stdout.write(f"  wrong {r['id']}: {r['question'][:90]!r} -> {r['answer']!r}\n")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("reindex", help="build or update the knowledge index",
                       description="Index knowledge/ into Chroma (incremental by content hash).")
    p.add_argument("--full", action="store_true", help="rebuild into a new collection and swap")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser("search", help="the best passages for a question",
                       description="Show the k best knowledge passages for a question.")
    p.add_argument("question")
    p.add_argument("--k", type=int, default=5, help="how many passages (default 5)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("eval", help="measure retrieval (and answers) on an eval file",
                       description="Run the eval contract over a JSONL file of questions.")
    p.add_argument("file")
    p.add_argument("--retrieval-only", action="store_true", help="skip the language model")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)
