"""The terminal front end: the same commands as Discord, for when no token is set."""

from __future__ import annotations

import logging
import shlex
import sys
from collections.abc import Callable
from typing import Any, TextIO

from bot.config import Settings
from bot.core.errors import ModelDeskError
from bot.core.types import Answer

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

MODE_LABEL = {
    "generated": "answer written by the local model, checked against the sources",
    "extractive": "quoted from the sources",
    "unknown": "not covered by the knowledge base",
}


def format_sources(answer: Answer) -> str:
    lines = []
    for c in answer.citations:
        lines.append(f"  [{c.number}] {c.title} — {c.heading}  <{c.url}>")
    return "\n".join(lines)


def stream_answer(pipeline: Any, question: str, write: Callable[[str], None], *,
                  history: list[tuple[str, str]] | None = None, stream: bool = True) -> Answer:
    """Answer a question, writing verified text as it comes, then the mode line and sources."""
    shown = {"text": ""}

    def on_partial(text: str) -> None:
        if text.startswith(shown["text"]):
            write(text[len(shown["text"]):])
            shown["text"] = text

    answer = pipeline.answer(question, history=history, on_partial=on_partial if stream else None)
    if answer.text.startswith(shown["text"]):
        write(answer.text[len(shown["text"]):])
    else:  # the streamed text did not survive the check: show the final answer instead
        write("\n\n[replaced by the checked answer]\n" + answer.text)
    write(f"\n\n({MODE_LABEL[answer.mode]}; {answer.timings.get('total_ms', 0):.0f} ms, "
          f"{answer.model})\n")
    if answer.citations:
        write("Sources:\n" + format_sources(answer) + "\n")
    return answer


class Console:
    """A read-eval-print loop over the services (testable with any text streams)."""

    def __init__(self, settings: Settings, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
                 services: object | None = None) -> None:
        self.settings = settings
        self.stdin, self.stdout = stdin, stdout
        self._services = services
        self.history: list[tuple[str, str]] = []

    @property
    def services(self):  # type: ignore[no-untyped-def]
        if self._services is None:
            from bot.core.services import build_services

            self._services = build_services(self.settings)
        return self._services

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
            except ModelDeskError as exc:
                self.write(f"{exc}\n")
            except Exception:  # noqa: BLE001 - the console must keep going
                log.exception("console command failed")
                self.write("Sorry, something went wrong; the log has the details.\n")

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
            self.write(f"Unknown command {name}. /help lists the commands.\n")
            return
        handler(rest.strip())

    def new(self, _: str) -> None:
        self.history.clear()
        self.write("Conversation cleared.\n")

    def search(self, question: str) -> None:
        for n, c in enumerate(self.services.retriever.search(question, k=5), 1):
            body = c.text.split("\n\n", 1)[-1].strip().replace("\n", " ")
            self.write(f"[{n}] {c.title} — {c.heading} (score {c.score:.2f})\n")
            self.write(f"    {body[:280]}{'…' if len(body) > 280 else ''}\n    <{c.source}>\n")

    def ask(self, question: str) -> None:
        answer = stream_answer(self.services.pipeline, question, self.write,
                               history=self.history)
        self.history.extend([("user", question), ("assistant", answer.text)])
        self.history = self.history[-2 * self.settings.history_turns :]

    def kb(self, _: str) -> None:
        stats = self.services.index.stats()
        for key in ("documents", "chunks", "last_indexed", "embedding_model", "store"):
            self.write(f"{key}: {stats.get(key)}\n")

    def reindex(self, _: str) -> None:
        report = self.services.index.reindex()
        self.write(report.summary() + "\n")

    def cost(self, rest: str) -> None:
        from bot.core.costs import estimate_cost, format_cost

        parts = shlex.split(rest)
        if not parts:
            self.write("Usage: /cost MODEL [QUANT] [CONTEXT] [HARDWARE]\n")
            return
        catalog = self.services.catalog
        model = catalog.model(parts[0])
        quant = parts[1] if len(parts) > 1 else "Q4_K_M"
        context = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 8192
        hardware = catalog.hardware_named(parts[3]) if len(parts) > 3 else None
        est = estimate_cost(model, quant=quant, context=context, hardware=hardware,
                            catalog=catalog)
        self.write(format_cost(est) + "\n")

    def fit(self, rest: str) -> None:
        from bot.core.costs import fit_models, format_fit

        parts = shlex.split(rest)
        if not parts:
            self.write("Usage: /fit HARDWARE [CONTEXT]\n")
            return
        catalog = self.services.catalog
        hardware = catalog.hardware_named(parts[0])
        context = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 8192
        self.write(format_fit(hardware, fit_models(catalog, hardware, context=context)) + "\n")


def run_console(settings: Settings) -> int:
    return Console(settings).run()
