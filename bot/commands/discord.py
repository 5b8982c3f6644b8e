"""`modeldesk sync` (publish the slash commands), `modeldesk feedback` (the votes so far) and
`modeldesk gaps` (the curators' to-do list)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.config import Settings
from bot.core.desk import GAP_DAYS


def register(subparsers: Any) -> None:
    """Add the `sync` and `feedback` commands."""
    p = subparsers.add_parser("sync", help="publish the Discord slash commands globally")
    p.add_argument("--guild", type=int, default=None,
                   help="sync to this one guild instead (instant; global sync can take an hour)")
    p.set_defaults(func=sync)
    p = subparsers.add_parser("feedback", help="the 👍/👎 votes given to answers on Discord")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--limit", type=int, default=20, help="answers to list (default 20)")
    p.set_defaults(func=feedback)
    p = subparsers.add_parser(
        "gaps", help="questions answered 'not covered' or voted down, grouped by meaning")
    p.add_argument("--days", type=int, default=GAP_DAYS,
                   help=f"look back this many days (default {GAP_DAYS})")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=gaps)


def sync(args: argparse.Namespace, settings: Settings) -> int:
    """Sync the command tree with Discord."""
    from bot.discord_app import sync_commands

    count = sync_commands(settings, guild_id=args.guild)
    where = f"guild {args.guild}" if args.guild else "all guilds (may take up to an hour to show)"
    sys.stdout.write(f"Synced {count} commands to {where}.\n")
    return 0


def _line(row: dict[str, Any]) -> str:
    question = " ".join(str(row["question"]).split())
    if len(question) > 70:
        question = question[:69] + "…"
    total = (row.get("timings") or {}).get("total_ms")
    took = f", {total / 1000:.1f} s" if total else ""
    return f"  +{row['up']} -{row['down']}  [{row['mode']}{took}] {question}"


def feedback(args: argparse.Namespace, settings: Settings) -> int:
    """Report the votes stored under DATA_DIR (or in DATABASE_URL)."""
    from bot.core.feedback import FeedbackStore

    store = FeedbackStore(settings.feedback_target)
    summary = store.summary()
    rows = store.rows(limit=args.limit)
    if args.json:
        sys.stdout.write(json.dumps({"summary": summary, "answers": rows}, indent=2) + "\n")
        return 0
    out = [
        f"{summary['answers']} answers recorded; {summary['up']} 👍 and {summary['down']} 👎.",
    ]
    for mode, tally in sorted(summary["by_mode"].items()):
        out.append(f"  {mode}: {tally['up']} 👍, {tally['down']} 👎")
    if rows:
        out.append("Latest answers with votes:")
        out.extend(_line(row) for row in rows)
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def gaps(args: argparse.Namespace, settings: Settings) -> int:
    """Print the groups of unanswered or voted-down questions, biggest first."""
    from bot.core.desk import Desk
    from bot.render.gaps import format_gaps

    with Desk.build(settings) as desk:
        found = desk.gaps(days=args.days)
    if args.json:
        sys.stdout.write(json.dumps({"days": args.days, "gaps": [g.to_dict() for g in found]},
                                    indent=2, ensure_ascii=False) + "\n")
        return 0
    sys.stdout.write(format_gaps(found, args.days) + "\n")
    return 0
