"""`modeldesk bench`: every speed claim as a measured figure beside the raw library it stands on.

All figures come from one run on the same question set and prompts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.core.answer import STOP
from bot.core.desk import Desk
from bot.core.evaluation import load_questions, percentile

log = logging.getLogger(__name__)

# (key, floor, direction): "<=" means lower is better. The first seven are the floors of the
# issue "Feel instant" (this machine, one bench run); the rest are earlier targets.
FLOORS: dict[str, tuple[float, str]] = {
    "first_visible_ms_p50": (500.0, "<="),
    "first_token_overhead_ratio": (1.05, "<="),
    "computed_answer_ms_p50": (100.0, "<="),
    "answer_ms_p50": (2500.0, "<="),
    "generation_overhead_ratio": (1.05, "<="),
    "retrieval_overhead_ratio": (1.10, "<="),
    "event_loop_max_lag_ms": (50.0, "<="),
    "first_token_ms_p50": (1500.0, "<="),
    "reindex_noop_s": (3.0, "<="),
    "peak_rss_mb": (1500.0, "<="),
}

Step = Callable[[str], None]


def _questions(settings: Settings, path: Path | None) -> list[str]:
    file = path or Path("eval/questions.jsonl")
    if file.exists():
        return [q.question for q in load_questions(file) if q.answerable]
    return ["how much vram does llama 3.1 8b need at q4_k_m", "is a .pt file safe to load",
            "what is the 700 million users clause in the llama license"]


def bench_retrieval(services: Any, questions: list[str], k: int) -> dict[str, float]:
    """Our hybrid retrieval against raw sentence-transformers encode + raw chromadb query."""
    retriever = services.retriever
    retriever.search(questions[0], k=k)  # warm caches on both paths
    coll = services.index.collection()
    model = services.embedder._model
    ours, raw = [], []
    for q in questions:
        t0 = time.perf_counter()
        vec = model.encode([q], normalize_embeddings=True, convert_to_numpy=True,
                           show_progress_bar=False)
        coll.query(query_embeddings=vec.tolist(), n_results=k,
                   include=["documents", "metadatas", "distances"])
        raw.append((time.perf_counter() - t0) * 1000)
        services.embedder.forget_recent()  # time the embedding, as the raw path does
        t0 = time.perf_counter()
        retriever.search(q, k=k)
        ours.append((time.perf_counter() - t0) * 1000)
    p50, raw50 = statistics.median(ours), statistics.median(raw)
    return {"retrieval_ms_p50": round(p50, 2), "raw_retrieval_ms_p50": round(raw50, 2),
            "retrieval_overhead_ratio": round(p50 / raw50, 3)}


def bench_generation(pipeline: Any, question: str, runs: int = 3) -> dict[str, float]:
    """Our backend's decode speed against raw llama-cpp-python on the same prompt and settings."""
    llm = pipeline.llm
    messages = pipeline.prompt_for(question)
    n_tokens = 96
    kwargs = {"max_tokens": n_tokens, "temperature": 0.0, "top_p": 1.0}

    def timed(stream: Any) -> tuple[float, int]:
        first = None
        count = 0
        for _ in stream:
            count += 1
            if first is None:
                first = time.perf_counter()
        end = time.perf_counter()
        return (end - (first or end)), count

    ours, raw = [], []
    for _ in range(runs):
        with llm.exclusive() as raw_llama:  # the same model instance, used directly
            if raw_llama is not None:  # only the in-process backend has a raw model
                seconds, count = timed(
                    c for c in raw_llama.create_chat_completion(messages=messages, stream=True,
                                                                **kwargs)
                    if c["choices"][0]["delta"].get("content"))
                if count > 1:
                    raw.append(seconds / (count - 1))
        seconds, count = timed(llm.stream_chat(messages, **kwargs))
        if count > 1:
            ours.append(seconds / (count - 1))
    out: dict[str, float] = {}
    if ours:
        out["tokens_per_second"] = round(1 / statistics.median(ours), 1)
    if raw:
        out["raw_tokens_per_second"] = round(1 / statistics.median(raw), 1)
        out["generation_overhead_ratio"] = round(statistics.median(ours) / statistics.median(raw),
                                                 3)
    return out


def _raw_first_token_ms(raw_llama: Any, messages: list[dict[str, str]], settings: Settings
                        ) -> float:
    """Milliseconds from calling raw llama-cpp-python to its first streamed text, with the
    pipeline's own sampling settings and stop strings."""
    t0 = time.perf_counter()
    stream = raw_llama.create_chat_completion(
        messages=messages, stream=True, max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature, top_p=settings.llm_top_p, stop=STOP)
    try:
        for chunk in stream:
            if chunk["choices"][0]["delta"].get("content"):
                break
        return (time.perf_counter() - t0) * 1000
    finally:
        stream.close()


def _settle(raw_llama: Any, messages: list[dict[str, str]]) -> None:
    """Leave the model's cache as the previous answer would: another question's prompt.

    llama.cpp reuses the longest token prefix of the previous call, so without this the second
    of two runs on one prompt would find all of it cached."""
    for _ in raw_llama.create_chat_completion(messages=messages, stream=True, max_tokens=1):
        pass


def _raw_run(llm: Any, previous: list[dict[str, str]], messages: list[dict[str, str]],
             settings: Settings) -> float | None:
    """Raw llama-cpp-python's first-token time on `messages`, from the cache state our answer
    started from; None for a backend without an in-process model."""
    with llm.exclusive() as raw_llama:
        if raw_llama is None:
            return None
        _settle(raw_llama, previous)
        return _raw_first_token_ms(raw_llama, messages, settings)


def bench_answers(pipeline: Any, questions: list[str], n: int, step: Step) -> dict[str, float]:
    """Whole answers, each followed by raw llama-cpp-python on the identical messages.

    Both runs start from the same cache state, the previous question's prompt (the raw run
    before ours left it there), so the system prompt is cached for both and nothing more.
    """
    first, total, visible, prefill, prompt, raw_first = [], [], [], [], [], []
    pipeline.answer(questions[0])  # load and warm the model once
    previous = pipeline.prompt_for(questions[0])
    for i, q in enumerate(questions[:n], 1):
        answer = pipeline.answer(q, on_preview=lambda _: None)
        step(f"answers {i}/{n}")
        if answer.mode != "unknown":
            first.append(answer.timings.get("first_token_ms", 0.0))
            messages = pipeline.prompt_for(q)
            raw = _raw_run(pipeline.llm, previous, messages, pipeline.settings)
            if raw is not None:
                raw_first.append(raw)
            previous = messages
        if "prefill_tokens" in answer.timings:
            prefill.append(answer.timings["prefill_tokens"])
            prompt.append(answer.timings["prompt_tokens"])
        # The first readable text: the preview with sources, or the "not covered" answer.
        visible.append(answer.timings.get("preview_ms", answer.timings["total_ms"]))
        total.append(answer.timings["total_ms"])
    out = {"first_visible_ms_p50": round(percentile(visible, 0.5), 1),
           "first_token_ms_p50": round(percentile(first, 0.5), 1),
           "answer_ms_p50": round(percentile(total, 0.5), 1),
           "answer_ms_p95": round(percentile(total, 0.95), 1), "answers_timed": len(total)}
    if prefill:
        out["prefill_tokens_p50"] = percentile(prefill, 0.5)
        out["prompt_tokens_p50"] = percentile(prompt, 0.5)
    if raw_first:
        out["raw_first_token_ms_p50"] = round(percentile(raw_first, 0.5), 1)
        out["first_token_overhead_ratio"] = round(
            percentile(first, 0.5) / percentile(raw_first, 0.5), 3)
    return out


# Fit, speed and cost questions as people write them (the calculator answers these).
COMPUTED_QUESTIONS = (
    "can I run qwen2.5 72b on a single rtx 4090?", "does llama3.1:70b fit on 2x 3090",
    "how fast is gpt-oss 20b on an M2 Ultra 192GB", "what's the biggest model I can run on a "
    "3060 12GB", "Qwen/Qwen3.6-27B on a 5060 ti 16gb with 64k context",
    "llama 3.1 8b on g5.2xlarge, what does it cost per hour?", "what gpu do i need for gemma 3 27b",
    "gemma 4 31b on colab t4",
)


def bench_computed(desk: Desk, runs: int = 5) -> dict[str, float]:
    """A fit question end to end through Desk.ask (understanding, calculator, composition)."""
    times: list[float] = []
    if desk.compute(COMPUTED_QUESTIONS[0]) is None:  # no catalog here: nothing to measure
        return {}
    for _ in range(runs):
        for q in COMPUTED_QUESTIONS:
            desk.services.embedder.forget_recent()  # each ask embeds its question again
            t0 = time.perf_counter()
            answer = desk.ask(q)
            times.append((time.perf_counter() - t0) * 1000)
            assert answer.mode in ("computed", "clarify"), q
    return {"computed_answer_ms_p50": round(percentile(times, 0.5), 2),
            "computed_answer_ms_p95": round(percentile(times, 0.95), 2)}


def bench_reindex(settings: Settings, embedder: Any) -> dict[str, float]:
    from bot.core.services import build_services

    tmp = Path(tempfile.mkdtemp(prefix="modeldesk-bench-"))
    try:
        shutil.copytree(settings.knowledge_dir, tmp / "knowledge")
        s = settings.model_copy(update={"knowledge_dir": tmp / "knowledge",
                                        "data_dir": tmp / "data", "chroma_host": None})
        svc = build_services(s, embedder=embedder)
        t0 = time.perf_counter()
        report = svc.index.reindex(full=True)
        full = time.perf_counter() - t0
        t0 = time.perf_counter()
        svc.index.reindex()
        noop = time.perf_counter() - t0
        return {"reindex_full_s": round(full, 2), "reindex_noop_s": round(noop, 3),
                "reindex_chunks": report.total_chunks}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


async def _load(settings: Settings, desk: Desk, questions: list[str], users: int
                ) -> dict[str, float]:
    """`users` people ask at once through the Discord adapter's answer path; the loop's lag."""
    from bot.discord_app.answering import generate
    from bot.discord_app.client import ModelDeskBot

    # Voice support warnings from discord.py say nothing about this measurement.
    logging.getLogger("discord.client").setLevel(logging.ERROR)
    bot = ModelDeskBot(settings.model_copy(update={"queue_max": max(users, 1)}), desk)
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        interval = 0.02
        while not stop.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(interval)
            lags.append((time.perf_counter() - t0 - interval) * 1000)

    async def edit(_: str) -> None:
        await asyncio.sleep(0)

    tick = asyncio.create_task(ticker())
    t0 = time.perf_counter()
    try:
        answers = await asyncio.gather(*(generate(bot, questions[i % len(questions)], None, edit)
                                         for i in range(users)))
    finally:
        elapsed = time.perf_counter() - t0
        stop.set()
        await tick
        bot.executor.shutdown(wait=False)
    return {"event_loop_max_lag_ms": round(max(lags), 1) if lags else 0.0,
            "answers_per_minute": round(len(answers) * 60 / elapsed, 1), "load_users": users}


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_bench(settings: Settings, *, questions_file: Path | None = None, answers: int = 12,
              users: int = 8, step: Step = lambda _: None) -> dict[str, Any]:
    """Measure everything; returns the figures by key."""
    started = time.perf_counter()
    desk = Desk.build(settings)
    services = desk.services
    qs = _questions(settings, questions_file)
    out: dict[str, Any] = {}
    step("reindex")
    out.update(bench_reindex(settings, services.embedder))
    if services.index.read_manifest() is None:
        services.index.reindex()
    step("loading the model and the evidence vectors")
    t0 = time.perf_counter()
    desk.warm()  # as `modeldesk run` does at start
    out["warm_s"] = round(time.perf_counter() - t0, 1)
    step("retrieval")
    out.update(bench_retrieval(services, qs, settings.top_k))
    step("computed answers")
    out.update(bench_computed(desk))
    pipeline = services.pipeline
    out["backend"] = pipeline.backend_name
    out["model"] = pipeline.model_name
    step("generation")
    out.update(bench_generation(pipeline, qs[0]))
    out.update(bench_answers(pipeline, qs[1:] + qs[:1], answers, step))
    out["peak_rss_mb"] = peak_rss_mb()
    step("8 users at once")
    out.update(asyncio.run(_load(settings, desk, qs[3:] or qs, users)))
    desk.close()
    out["bench_s"] = round(time.perf_counter() - started, 1)
    return out


def format_table(figures: dict[str, Any]) -> str:
    """The human table: each figure beside its target."""
    order = ["computed_answer_ms_p50", "computed_answer_ms_p95",
             "retrieval_ms_p50", "raw_retrieval_ms_p50", "retrieval_overhead_ratio",
             "first_visible_ms_p50",
             "tokens_per_second", "raw_tokens_per_second", "generation_overhead_ratio",
             "first_token_ms_p50", "raw_first_token_ms_p50", "first_token_overhead_ratio",
             "prefill_tokens_p50", "prompt_tokens_p50", "answer_ms_p50", "answer_ms_p95",
             "reindex_full_s", "reindex_noop_s", "reindex_chunks", "peak_rss_mb",
             "event_loop_max_lag_ms", "answers_per_minute", "warm_s", "backend", "model"]
    lines = [f"{'figure':<28}{'measured':>14}  {'floor':<12}{'ok'}"]
    for key in order:
        if key not in figures:
            continue
        value = figures[key]
        target, ok = "", ""
        if key in FLOORS:
            limit, op = FLOORS[key]
            target = f"{op} {limit:g}"
            ok = "yes" if isinstance(value, int | float) and value <= limit else "MISSED"
        lines.append(f"{key:<28}{value!s:>14}  {target:<12}{ok}")
    return "\n".join(lines)


def to_json(figures: dict[str, Any]) -> str:
    return json.dumps(figures)
