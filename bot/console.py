"""The terminal front end: the same commands as Discord, for when no token is set."""

from __future__ import annotations

import logging
import shlex
import sys
from collections.abc import Callable
from typing import TextIO

from bot.config import Settings
from bot.core.desk import Desk
from bot.core.types import Answer
from bot.render.answers import StreamPrinter, format_passages
from bot.render.estimates import format_cost, format_fit

log = logging.getLogger(__name__)

HELP = """Type a question and press Enter. Commands:
  /search QUESTION     the best passages and their sources
  /cost MODEL [QUANT] [CONTEXT] [HARDWARE]   memory, speed and money for a model
  /fit HARDWARE [CONTEXT]                    the models that fit on a GPU or machine
  /kb                  what the knowledge base holds
  /reindex             update the index from knowledge/
  /new                 forget the conversation
  /quit                leave
"""


def stream_answer(desk: Desk, question: str, write: Callable[[str], None], *,
                  history: list[tuple[str, str]] | None = None, subject: str | None = None,
                  stream: bool = True) -> Answer:
    """Answer a question, writing verified text as it comes, then the mode line and sources."""
    printer = StreamPrinter(write)
    answer = desk.ask(question, history=history, subject=subject,
                      on_partial=printer.partial if stream else None,
                      on_preview=printer.preview if stream else None)
    printer.finish(answer)
    return answer


class Console:
    """A read-eval-print loop over the desk (testable with any text streams)."""

    def __init__(self, settings: Settings, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
                 desk: Desk | None = None) -> None:
        self.settings = settings
        self.stdin, self.stdout = stdin, stdout
        self._desk = desk
        self.history: list[tuple[str, str]] = []

    @property
    def desk(self) -> Desk:
        if self._desk is None:
            self._desk = Desk.build(self.settings)
        return self._desk

    def write(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def run(self) -> int:
        self.write("ModelDesk console. Ask about open models; /help lists commands.\n")
        while True:
            self.write("\n> ")
            line = self.stdin.readline()
            if not line:
                self.write("\n")
                return 0
            line = line.strip()
            if not line:
                continue
            if line in ("/quit", "/exit"):
                return 0
            try:
                self.handle(line)
            except Exception as exc:  # noqa: BLE001 - the console must keep going
                self.write(self.desk.error_message(exc) + "\n")

    def handle(self, line: str) -> None:
        if not line.startswith("/"):
            self.ask(line)
            return
        name, _, rest = line.partition(" ")
        handlers: dict[str, Callable[[str], None]] = {
            "/help": lambda _: self.write(HELP),
            "/search": self.search,
            "/cost": self.cost,
            "/fit": self.fit,
            "/kb": self.kb,
            "/reindex": self.reindex,
            "/new": self.new,
            "/ask": self.ask,
        }
        handler = handlers.get(name)
        if handler is None:
            self.write(f"Unknown command {name[:40]}. /help lists the commands.\n")
            return
        handler(rest.strip())

    def new(self, _: str) -> None:
        self.history.clear()
        self.write("Conversation cleared.\n")

    def search(self, question: str) -> None:
        self.write(format_passages(self.desk.search(question, k=5)) + "\n")

    def ask(self, question: str) -> None:
        answer = stream_answer(self.desk, question, self.write, history=self.history)
        self.history = self.desk.trim_history(
            [*self.history, ("user", question), ("assistant", answer.text)])

    def kb(self, _: str) -> None:
        stats = self.desk.status()
        for key in ("documents", "chunks", "last_indexed", "embedding_model", "store",
                    "newest_model", "oldest_reviewed"):
            self.write(f"{key}: {stats.get(key)}\n")

    def reindex(self, _: str) -> None:
        self.write(self.desk.reindex().summary() + "\n")

    def cost(self, rest: str) -> None:
        parts = _split(rest)
        if not parts:
            self.write("Usage: /cost MODEL [QUANT] [CONTEXT] [HARDWARE]\n")
            return
        est = self.desk.cost(parts[0], quant=parts[1] if len(parts) > 1 else None,
                             context=_int(parts[2]) if len(parts) > 2 else None,
                             hardware=parts[3] if len(parts) > 3 else None)
        self.write(format_cost(est) + "\n")

    def fit(self, rest: str) -> None:
        parts = _split(rest)
        if not parts:
            self.write("Usage: /fit HARDWARE [CONTEXT]\n")
            return
        report = self.desk.fit(parts[0], context=_int(parts[1]) if len(parts) > 1 else None)
        self.write(format_fit(report.hardware, report.results) + "\n")


def _split(rest: str) -> list[str]:
    try:
        return shlex.split(rest)
    except ValueError:  # an unclosed quote: split on spaces instead
        return rest.split()


def _int(text: str) -> int:
    from bot.core.errors import InvalidInput

    try:
        return int(text.replace(",", "").replace("_", ""))
    except ValueError:
        msg = f"Context must be a whole number of tokens, not {text[:20]!r}."
        raise InvalidInput(msg) from None


def run_console(settings: Settings) -> int:
    console = Console(settings)
    warming = console.desk.warm_in_background()  # the model loads while the person types
    try:
        return console.run()
    finally:
        warming.join()  # llama.cpp aborts the process if it exits while a model is loading
