"""Desk: the one object every front end (console, CLI, chat adapter) calls.

It owns every default (quantization Q4_K_M, 8,192 tokens of context), every limit (one
question length), the history policy (`HISTORY_TURNS=0` means no history anywhere), the
cleaning of text at the boundary (lone surrogates, control characters) and the sentence a
person reads for each error. Front ends only render what it returns.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import Settings
from bot.core.catalog import Catalog, Hardware, Model, Quant
from bot.core.computed import computed_answer
from bot.core.costs import DEFAULT_USD_PER_KWH, CostEstimate, FitResult, estimate_cost
from bot.core.documents import load_documents
from bot.core.errors import InvalidInput, ModelDeskError, user_message
from bot.core.evaluation import CALCULATOR_MARK, KNOWLEDGE_MARK
from bot.core.evidence import USABLE_MARGIN, Evidence
from bot.core.feedback import MAX_NOTE_CHARS, REASONS, FeedbackStore
from bot.core.fit import fit_models
from bot.core.gaps import Gap, GapQuestion, build_gaps
from bot.core.gguf_file import model_from_gguf
from bot.core.index import Progress, ReindexReport
from bot.core.my_hardware import SavedMachine, lend_machine, read_machine
from bot.core.services import Services
from bot.core.text import clean_text, neutralize_mentions
from bot.core.types import Answer, Chunk
from bot.core.understand import Understanding, understand

log = logging.getLogger(__name__)

DEFAULT_QUANT = "Q4_K_M"
DEFAULT_CONTEXT = 8192
DEFAULT_KV_TYPE = "f16"
MAX_QUESTION_CHARS = 2000  # the one question limit, for every front end
MIN_QUESTION_CHARS = 2
MAX_NAME_CHARS = 120  # a model or hardware name as typed
MAX_SEARCH_K = 20
# Knowledge quotes beside a computed answer: among the best-ranked evidence sentences, only those
# this close to the question (cosine), so a fit question does not quote a release history.
# Chosen on the computed questions of both eval sets (answer keyword recall 0.56 -> 0.73 on
# eval/questions.jsonl with 2 quotes at 0.5 vs 4 at 0.35; see the issue note).
KNOWLEDGE_CANDIDATES = 10
KNOWLEDGE_MIN_SIMILARITY = 0.35
KNOWLEDGE_QUOTES = 4
# Passages whose sentences `warm` splits and embeds ahead of the first questions (the evidence
# ranker keeps 2,000; the knowledge base has about 570). Unwarmed, the first question on a
# passage spends most of its time before the preview embedding that passage's sentences.
WARM_PASSAGES = 1000

Reply = Answer
_COUNT_WORDS = {"dual": 2, "two": 2, "twin": 2, "triple": 3, "three": 3, "quad": 4, "four": 4,
                "six": 6, "eight": 8}
# "2x rtx-3090", "dual 4090", "8 h100-sxm": a GPU count before a machine's name.
COUNT_PREFIX = re.compile(r"^\s*(\d{1,3}|dual|two|twin|triple|three|quad|four|six|eight)"
                          r"\s*(?:[x×*]\s*|\s+)(\S.*)$", re.IGNORECASE)
History = Sequence[tuple[str, str]]
# A computed answer that used the asker's saved machine says so (they may have a second one).
SAVED_MACHINE_NOTE = "Using your saved machine ({label}); name another one in the question to " \
    "use that instead."
NO_MODEL_IN_TEXT = ("No model from the catalog is named there; the calculator needs one, for "
                    "example \"Qwen2.5 32B on a 4090\".")
GAP_DAYS = 30  # the curators' to-do list looks back a month unless told otherwise
MAX_GAP_DAYS = 3650
MAX_GAP_QUESTIONS = 2000  # the newest ones: embedding them stays a few seconds


@dataclass(frozen=True)
class FitReport:
    """The models that fit on one machine, best first."""

    hardware: Hardware
    context: int
    results: list[FitResult]
    gpus: int = 1

    def to_dict(self) -> dict[str, Any]:
        """The JSON object `modeldesk fit --json` prints."""
        return {"hardware": self.hardware.to_dict(), "gpus": self.gpus, "context": self.context,
                "results": [r.to_dict() for r in self.results]}


class Desk:
    """Questions, estimates, search, reindex, status and votes behind one typed facade."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings: Settings = services.settings
        self._feedback: FeedbackStore | None = None
        self._lock = threading.Lock()

    @classmethod
    def build(cls, settings: Settings, **kwargs: Any) -> Desk:
        """A desk over freshly built services (kwargs go to `Services`)."""
        return cls(Services(settings, **kwargs))

    # -- boundaries -----------------------------------------------------------------------
    def clean_question(self, question: object) -> str:
        """The question as the core uses it, or InvalidInput with one sentence saying why."""
        text = clean_text(question)
        if len(text) < MIN_QUESTION_CHARS or not any(ch.isalnum() for ch in text):
            raise InvalidInput("Ask a question: the message was empty.")
        if len(text) > MAX_QUESTION_CHARS:
            raise InvalidInput(f"That question is {len(text):,} characters long; keep it under "
                               f"{MAX_QUESTION_CHARS:,}.")
        return text

    def trim_history(self, history: History | None) -> list[tuple[str, str]]:
        """The turns the answer may use: the last HISTORY_TURNS exchanges; none when it is 0."""
        turns = max(0, self.settings.history_turns)
        if not history or turns == 0:
            return []
        kept = [(role, clean_text(text, keep_lines=True)[:MAX_QUESTION_CHARS])
                for role, text in history
                if role in ("user", "assistant")]
        return [t for t in kept if t[1]][-2 * turns:]

    def _name(self, name: str, what: str) -> str:
        text = clean_text(name)
        if not text:
            raise InvalidInput(f"Give a {what} name.")
        if len(text) > MAX_NAME_CHARS:
            raise InvalidInput(f"That {what} name is too long; keep it under {MAX_NAME_CHARS} "
                               "characters.")
        return text

    def error_message(self, error: BaseException) -> str:
        """The one short sentence a person reads for an error; never pings anyone."""
        if not isinstance(error, ModelDeskError):
            log.error("unexpected error", exc_info=error)
        return neutralize_mentions(user_message(error))

    # -- answers --------------------------------------------------------------------------
    def warm(self) -> None:
        """Load the language model and embed every passage's sentences now, so that the first
        answers pay only for their own question (preview and first token); a missing index or
        model is logged and left for the first question to report."""
        started = time.perf_counter()
        try:
            _ = self.services.pipeline
            ranker = self.services.ranker
            for chunk in self.services.retriever.passages()[:WARM_PASSAGES]:
                ranker.sentences(chunk)
        except ModelDeskError as exc:
            log.warning("warm-up stopped: %s", exc)
            return
        log.info("warm in %.1f s", time.perf_counter() - started)

    def warm_in_background(self) -> threading.Thread:
        """`warm` in a daemon thread, for front ends that start taking questions at once."""
        thread = threading.Thread(target=self.warm, name="modeldesk-warm", daemon=True)
        thread.start()
        return thread

    def ask(self, question: str, *, history: History | None = (), subject: str | None = None,
            on_partial: Callable[[str], None] | None = None,
            on_preview: Callable[[Answer], None] | None = None,
            machine: str | None = None) -> Reply:
        """A grounded, cited answer.

        Args:
            question: what the person asked.
            history: earlier (role, text) turns, oldest first; trimmed by HISTORY_TURNS.
            subject: what the conversation is about (a thread's first question, a message
                someone right-clicked); used like an earlier question.
            on_partial: called with the verified text so far while the answer is generated.
            on_preview: called once with the best evidence quoted and its sources, as soon as
                retrieval is done and before the language model runs.
            machine: the asker's saved machine, used by fit questions that name none.
        """
        verdict, computed = self._quick(question, history, subject, machine)
        if computed is not None:
            return computed
        text = self.clean_question(question)
        turns = self.trim_history(history)
        if subject and not turns and self.settings.history_turns > 0:
            about = clean_text(subject)[:MAX_QUESTION_CHARS]
            if about:
                turns = [("user", about)]
        answer = self.services.pipeline.answer(text, history=turns, on_partial=on_partial,
                                               on_preview=on_preview)
        return self._with_verdict(answer, verdict)

    def quick(self, question: str, *, history: History | None = (),
              subject: str | None = None, machine: str | None = None) -> Reply | None:
        """The calculator's reply when the question names a model or a machine (milliseconds,
        no language model, no queue); None when the question is for the knowledge base.
        `machine` is the asker's saved machine, for fit questions that name none."""
        return self._quick(question, history, subject, machine)[1]

    def _quick(self, question: str, history: History | None, subject: str | None,
               machine: str | None) -> tuple[Reply | None, Reply | None]:
        """(the calculator's verdict to follow a knowledge answer, the calculator's reply): a
        why / how-to question that names a model and a machine gets the first, a question for
        the calculator the second, any other question neither."""
        started = time.perf_counter()
        text = self.clean_question(question)
        turns = self.trim_history(history)
        u, computed = self._understand(text, subject or _last_user_turn(turns), machine)
        if u is not None and u.explains and computed is not None and computed.mode == "computed":
            return computed, None  # the knowledge base answers, the figures follow
        if computed is not None:
            self._finish_computed(computed, text, started)
        return None, computed

    def _finish_computed(self, computed: Reply, text: str, started: float) -> None:
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        if computed.mode == "computed":
            self._add_knowledge(computed, text)
        computed.timings = {"computed_ms": elapsed,
                            "total_ms": round((time.perf_counter() - started) * 1000, 1)}

    def _add_knowledge(self, answer: Reply, question: str) -> None:
        """What the knowledge base says beside the calculator's figures: up to four quoted
        evidence sentences close to the question, cited after the catalog entries."""
        try:
            chunks = self.services.retriever.search(question, k=self.settings.top_k)
        except ModelDeskError as exc:  # no index or no store: the figures stand alone
            log.info("computed answer without knowledge quotes: %s", exc)
            return
        if not chunks or chunks[0].score < self.settings.min_score:
            return
        floor = max(self.settings.min_score, chunks[0].score - USABLE_MARGIN)
        ranker = self.services.ranker
        evidence = ranker.select(question, [c for c in chunks if c.score >= floor])
        qvec = np.asarray(self.services.embedder.embed_one(question))
        close = [i for i in evidence.ranked[:KNOWLEDGE_CANDIDATES]
                 if float(evidence.vectors[i] @ qvec) >= KNOWLEDGE_MIN_SIMILARITY]
        if not close:
            return
        picked = Evidence(evidence.chunks, evidence.sentences, evidence.vectors, close)
        text, citations = ranker.render([], evidence.chunks,
                                        ranker.quotes(picked, [], KNOWLEDGE_QUOTES))
        offset = len(answer.citations)
        text = re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)) + offset}]", text)
        answer.citations.extend(dataclasses.replace(c, number=c.number + offset)
                                for c in citations)
        answer.text += "\n\n" + KNOWLEDGE_MARK + text

    def compute(self, question: str, *, subject: str | None = None,
                machine: str | None = None) -> Reply | None:
        """The calculator's answer when the question names a model or a machine, else None.
        A fit, speed or "biggest model" question that names no machine uses `machine` (the
        asker's saved one) when given."""
        return self._understand(question, subject, machine)[1]

    def _understand(self, question: str, subject: str | None, machine: str | None = None
                    ) -> tuple[Understanding | None, Reply | None]:
        try:
            catalog = self.catalog
        except ModelDeskError:
            log.warning("no catalog: questions go to the knowledge base only", exc_info=True)
            return None, None
        u = understand(question, catalog, subject)
        return self._calculate(u, question, catalog, machine)

    @staticmethod
    def _calculate(u: Understanding, question: str, catalog: Catalog, machine: str | None
                   ) -> tuple[Understanding, Reply | None]:
        """The calculator's reply, on the asker's saved machine when the question names none
        and needs one (the reply then says so)."""
        lent = lend_machine(u, machine, catalog) if machine else None
        if lent is None:
            return u, computed_answer(u, question, catalog)
        answer = computed_answer(lent[0], question, catalog)
        if answer is not None and answer.mode == "computed":
            answer.text += "\n" + SAVED_MACHINE_NOTE.format(label=lent[1].label)
        return lent[0], answer

    @staticmethod
    def _with_verdict(answer: Reply, computed: Reply | None) -> Reply:
        """A knowledge answer followed by the calculator's verdict (its first line, cited)."""
        if computed is None:
            return answer
        verdict = computed.text.split("\n", 1)[0]
        offset = len(answer.citations)
        verdict = re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)) + offset}]", verdict)
        answer.citations.extend(dataclasses.replace(c, number=c.number + offset)
                                for c in computed.citations)
        answer.text += "\n\n" + CALCULATOR_MARK + verdict
        answer.estimate = computed.estimate
        return answer

    def estimate_text(self, text: str, *, machine: str | None = None) -> Reply:
        """The calculator run on any text that names a model, such as a message someone
        right-clicked: its verdict on the machine named there (or the saved `machine`), else
        what the model needs. A short reply when no model is named."""
        started = time.perf_counter()
        cleaned = clean_text(text)[:MAX_QUESTION_CHARS]
        u = understand(cleaned, self.catalog)
        if not (u.models or u.ambiguous or u.bare_size_b or u.problems):
            return Answer(question=cleaned, text=NO_MODEL_IN_TEXT, mode="clarify")
        if u.intent not in ("fit", "speed", "money", "memory", "cloud", "compare", "needs"):
            u.intent = "fit" if (u.names_machine or machine) else "memory"
        answer = self._calculate(u, cleaned, self.catalog, machine)[1] or Answer(
            question=cleaned, text=NO_MODEL_IN_TEXT, mode="clarify")
        self._finish_computed(answer, cleaned, started)
        return answer

    def ask_with_evidence(self, question: str,
                          on_preview: Callable[[Answer], None] | None = None,
                          ) -> tuple[Reply, list[Chunk]]:
        """An answer and the passages it was checked against (the eval reads both); with
        `on_preview`, the preview is made as for a person, so its time is measured."""
        text = self.clean_question(question)
        verdict, computed = self._quick(text, (), None, None)
        if computed is not None:
            try:
                return computed, self.services.retriever.search(text, k=self.settings.top_k)
            except ModelDeskError:
                return computed, []
        answer, chunks = self.services.pipeline.answer_with_evidence(text, on_preview=on_preview)
        return self._with_verdict(answer, verdict), chunks

    def search(self, question: str, *, k: int | None = None) -> list[Chunk]:
        """The best passages for a question, best first."""
        text = self.clean_question(question)
        k = self.settings.top_k if k is None else k
        if isinstance(k, bool) or not 1 <= int(k) <= MAX_SEARCH_K:
            raise InvalidInput(f"k must be between 1 and {MAX_SEARCH_K}, not {k}.")
        return self.services.retriever.search(text, k=int(k))

    # -- the calculator -------------------------------------------------------------------
    @property
    def catalog(self) -> Catalog:
        return self.services.catalog

    def model(self, name: str | Model) -> Model:
        return name if isinstance(name, Model) else self.catalog.model(self._name(name, "model"))

    def hardware(self, name: str | Hardware) -> Hardware:
        if isinstance(name, Hardware):
            return name
        return self.catalog.hardware_named(self._name(name, "hardware"))

    def machine(self, spec: str | Hardware, gpus: int | None = None) -> tuple[Hardware, int]:
        """A machine and its GPU count from text like "2x rtx-3090", "dual 4090", "rtx-4090"."""
        if isinstance(spec, Hardware):
            return spec, gpus or 1
        text = self._name(spec, "hardware")
        match = COUNT_PREFIX.match(text)
        count = 1
        if match:
            word = match.group(1).lower()
            count = _COUNT_WORDS.get(word) or int(word)
            text = match.group(2)
        if gpus is not None and match and gpus != count:
            raise InvalidInput(f"'{spec}' names {count} GPUs but --gpus says {gpus}.")
        return self.hardware(text), gpus or count

    def cost(self, model: str | Model | None = None, *, quant: str | None = None,
             context: int | None = None, hardware: str | Hardware | None = None,
             kv_type: str | None = None, usd_per_hour: float | None = None,
             usd_per_kwh: float | None = None, api_usd_per_mtok: float | None = None,
             parallel: int = 1, gpus: int | None = None, ram_gb: float | None = None,
             gguf: str | None = None) -> CostEstimate:
        """Memory, fit, speed, money and energy for one model (defaults: Q4_K_M, 8,192).

        `gguf` sizes a local GGUF file from its own header instead of a catalog model;
        `hardware` may carry a count ("2x rtx-3090"); `parallel` is llama-server's slots.
        """
        hw, count = (None, gpus or 1) if hardware is None else self.machine(hardware, gpus)
        if gguf:
            mdl, file_quant = model_from_gguf(gguf)
            qnt: str | Quant = Quant(file_quant, mdl.gguf_file_gb["file"] * 8e9 / (
                mdl.params_b * 1e9), note="the file's own size")
            if context is None:
                context = min(DEFAULT_CONTEXT, mdl.context)
        elif model is None:
            raise InvalidInput("Name a model (e.g. llama-3.1-8b) or give a GGUF file.")
        else:
            mdl, qnt = self.model(model), self._name(quant or DEFAULT_QUANT, "quantization")
        return estimate_cost(
            mdl, quant=qnt, context=DEFAULT_CONTEXT if context is None else context,
            hardware=hw, kv_type=kv_type or DEFAULT_KV_TYPE, usd_per_hour=usd_per_hour,
            usd_per_kwh=DEFAULT_USD_PER_KWH if usd_per_kwh is None else usd_per_kwh,
            api_usd_per_mtok=api_usd_per_mtok, parallel=parallel, gpus=count, ram_gb=ram_gb,
            catalog=self.catalog)

    def fit(self, hardware: str | Hardware, *, context: int | None = None,
            gpus: int | None = None) -> FitReport:
        """Every catalog model that fits on the machine ("2x rtx-3090" works), best first."""
        hw, count = self.machine(hardware, gpus)
        ctx = DEFAULT_CONTEXT if context is None else context
        return FitReport(hw, ctx, fit_models(self.catalog, hw, context=ctx, gpus=count), count)

    def quant_ids(self) -> list[str]:
        """Every quantization the calculator knows, as listed in quants.yaml."""
        return [q.id for q in self.catalog.quants]

    # -- the index ------------------------------------------------------------------------
    def reindex(self, *, full: bool = False, progress: Progress | None = None) -> ReindexReport:
        """Index knowledge/ (incremental by content hash, or a full rebuild)."""
        return self.services.index.reindex(full=full, progress=progress)

    def status(self, *, load_model: bool = False) -> dict[str, Any]:
        """What the desk holds and runs on; the model is named only once loaded (or asked)."""
        stats = dict(self.services.index.stats())
        try:
            released = [m for m in self.catalog.models if m.released]
            newest = max(released, key=lambda m: str(m.released), default=None)
            stats["catalog"] = {"models": len(self.catalog.models),
                                "hardware": len(self.catalog.hardware)}
            if newest is not None:
                stats["newest_model"] = f"{newest.name} ({newest.released})"
        except ModelDeskError as exc:  # the index still answers without the calculator
            stats["catalog"] = {"error": str(exc)}
        reviewed = [d.reviewed for d in load_documents(self.settings.knowledge_dir).documents]
        stats["oldest_reviewed"] = min(reviewed, default=None)
        if load_model or self.services.pipeline_loaded:
            pipeline = self.services.pipeline
            stats["llm"] = pipeline.model_name
            stats["llm_backend"] = pipeline.backend_name
            stats["queue_depth"] = pipeline.queue_depth
        return stats

    def health(self) -> dict[str, str | None]:
        """What stops the desk from answering: per part, None when usable, else the reason.

        Cheap enough for a health probe: it never loads the in-process model (a file check
        stands in until the first question loads it) and reads only the index manifest.
        """
        return {"index": self._index_problem(), "model": self._model_problem()}

    def _index_problem(self) -> str | None:
        try:
            self.services.index.collection()  # the manifest, and that it matches the embedder
        except ModelDeskError as exc:
            return str(exc)
        return None

    def _model_problem(self) -> str | None:
        services = self.services
        if services.pipeline_loaded or self.settings.backend == "openai":
            try:
                reachable = services.pipeline.llm.ping()
            except ModelDeskError as exc:
                return str(exc)
            return None if reachable else "The language model server does not answer."
        from bot.core.llm import bundled_model_path

        path = Path(self.settings.model_path) if self.settings.model_path else None
        try:
            found = (path or bundled_model_path()).is_file()
        except ModelDeskError as exc:
            return str(exc)
        return None if found else f"The model file {path} does not exist."

    # -- feedback -------------------------------------------------------------------------
    @property
    def feedback(self) -> FeedbackStore:
        with self._lock:
            if self._feedback is None:
                self._feedback = FeedbackStore(self.settings.feedback_target)
            return self._feedback

    def record_answer(self, answer: Answer, channel: str = "") -> int:
        """Store an answer so votes can refer to it; returns its id."""
        return self.feedback.record_answer(answer, channel)

    def record_vote(self, answer_id: int, voter_id: int | str, vote: int) -> None:
        """A 👍 (1) or 👎 (-1) on a stored answer; a second vote by the same person replaces it."""
        if vote not in (1, -1):
            raise InvalidInput("A vote is 1 (helpful) or -1 (not helpful).")
        self.feedback.record_vote(answer_id, voter_id, vote)

    def record_reason(self, answer_id: int, voter_id: int | str, reason: str,
                      note: str = "") -> None:
        """Why someone voted an answer down: one of REASONS plus up to 300 characters."""
        if reason not in REASONS:
            raise InvalidInput(f"Pick one of: {', '.join(REASONS.values())}.")
        cleaned = clean_text(note)
        if len(cleaned) > MAX_NOTE_CHARS:
            raise InvalidInput(f"Keep the note under {MAX_NOTE_CHARS} characters.")
        self.feedback.record_reason(answer_id, voter_id, reason, cleaned)

    def gaps(self, *, days: int | None = GAP_DAYS) -> list[Gap]:
        """The curators' to-do list: questions answered "not covered" or voted down in the last
        `days` days (None: ever), grouped by meaning, biggest first, each with its nearest page.
        """
        if days is not None and (isinstance(days, bool) or not 1 <= int(days) <= MAX_GAP_DAYS):
            raise InvalidInput(f"days must be between 1 and {MAX_GAP_DAYS}, not {days}.")
        since = datetime.now(UTC) - timedelta(days=int(days)) if days is not None else None
        rows = self.feedback.gap_candidates(since)[-MAX_GAP_QUESTIONS:]
        questions = [GapQuestion.from_row(row) for row in rows]
        if not questions:
            return []
        vectors = self.services.embedder.embed([q.question for q in questions])
        gaps = build_gaps(questions, vectors)
        for gap in gaps:
            try:
                best = self.services.retriever.search(gap.example, k=1)
            except ModelDeskError as exc:  # no index: the groups still help
                log.info("gaps without nearest pages: %s", exc)
                break
            if best:
                gap.nearest_title, gap.nearest_file = best[0].title, best[0].file
                gap.nearest_score = round(best[0].score, 3)
        return gaps

    # -- members' machines and the channels a guild answers in ----------------------------
    def save_hardware(self, user_id: int | str, text: str) -> SavedMachine:
        """Read and keep a member's machine (only their id and the text); InvalidInput when the
        text names no machine the calculator knows."""
        saved = read_machine(text, self.catalog)
        self.feedback.save_hardware(user_id, saved.text)
        return saved

    def saved_hardware(self, user_id: int | str) -> str | None:
        """The text of a member's saved machine, or None."""
        return self.feedback.saved_hardware(user_id)

    def my_machine(self, user_id: int | str) -> SavedMachine | None:
        """A member's saved machine as the calculator reads it, or None (none saved, or the
        catalog no longer knows it)."""
        text = self.saved_hardware(user_id)
        if text is None:
            return None
        try:
            return read_machine(text, self.catalog)
        except InvalidInput:
            log.info("a saved machine no longer reads: %r", text)
            return None

    def clear_hardware(self, user_id: int | str) -> bool:
        """Forget a member's machine; True when one was saved."""
        return self.feedback.clear_hardware(user_id)

    def set_answer_channel(self, guild_id: int, channel_id: int, enabled: bool) -> None:
        """Answer every question in a channel (or stop), for one guild."""
        self.feedback.set_answer_channel(guild_id, channel_id, enabled)

    def answer_channels(self) -> dict[int, bool]:
        """Channels turned on (True) or off (False) with `/channel answer`, by id."""
        return self.feedback.answer_channels()

    def close(self) -> None:
        """Free the model and connections."""
        self.services.close()
        if self._feedback is not None:
            self._feedback.close()

    def __enter__(self) -> Desk:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _last_user_turn(turns: Sequence[tuple[str, str]]) -> str | None:
    """The newest earlier question of a conversation, for "it" and "this model"."""
    users = [text for role, text in turns if role == "user"]
    return users[-1] if users else None
