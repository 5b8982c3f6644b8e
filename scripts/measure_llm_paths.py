"""Time one RAG-like prompt through three ways of calling the bundled GGUF.

(a) llama-cpp-python `create_chat_completion(stream=True)` directly, (b) our `LlamaCppBackend`,
(c) langchain-community's `ChatLlamaCpp` (skipped when langchain-community is not installed).
Each path runs the same ~600-token prompt for 128 output tokens at temperature 0, three times,
with llama.cpp's cache emptied before each run so every run pays for the whole prompt. Then it
checks whether an identical system prompt and evidence let llama.cpp reuse its cached prefix.

    .venv/bin/python scripts/measure_llm_paths.py [--model PATH] [--threads 2] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from bot.core.llm import LlamaCppBackend, bundled_model_path

SYSTEM = (
    "You are ModelDesk, an assistant that answers questions about open AI models. Answer only "
    "from the numbered evidence. Cite the evidence numbers in square brackets after each "
    "sentence. If the evidence does not answer the question, say that the knowledge base does "
    "not cover it. Keep the answer under five sentences. Never invent numbers or links."
)
EVIDENCE = [
    "Llama-3.1-8B-Instruct quantised to Q4_K_M is a 4.58 GiB file (4.92 GB in decimal units). "
    "At inference time the weights, the KV cache and a compute buffer must all fit in memory. "
    "For an 8,192-token context the f16 KV cache of Llama-3.1-8B takes 1 GiB, because the model "
    "has 32 layers, 8 key-value heads and a head dimension of 128.",
    "Token generation on a single GPU is limited by memory bandwidth: each new token reads all "
    "the weights once. An RTX 3090 (936 GB/s) generates about 115 tokens per second with "
    "Llama-3-8B Q4_K_M, and an RTX 4090 (1008 GB/s) about 130 tokens per second. On a CPU with "
    "dual-channel DDR5 the same model reaches roughly 10 to 20 tokens per second.",
    "Prompt processing is compute-bound and much faster per token than generation on a GPU, "
    "but on a CPU it can dominate the time to the first token for long prompts. Keeping the "
    "fixed part of the prompt identical across requests lets llama.cpp reuse its cached prefix.",
    "Quantisation trades accuracy for size. Q8_0 stores 8.5 bits per weight, Q4_K_M about 4.9, "
    "and Q2_K about 3.2 for Llama-3.1-8B. Below 4 bits per weight perplexity rises quickly for "
    "small models, so Q4_K_M is the usual default for 7B to 8B models on consumer hardware.",
    "The GGUF format stores weights and metadata, including a Jinja chat template. Templates "
    "are rendered by the loader; llama-cpp-python before 0.2.72 rendered them without a "
    "sandbox (CVE-2024-34359), so loading an untrusted GGUF could run code. Use a current "
    "version and review the template of any model from an unknown publisher.",
]


def messages(question: str, evidence_order: list[str] = EVIDENCE) -> list[dict[str, str]]:
    """The RAG prompt: fixed system text, then evidence, then the question."""
    evidence = "\n\n".join(f"[{i}] {text}" for i, text in enumerate(evidence_order, 1))
    user = f"Evidence:\n{evidence}\n\nQuestion: {question}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


QUESTION = "Will Llama-3.1-8B in Q4_K_M with an 8k context fit on a 6 GB GPU, and how fast is it?"
OTHER_QUESTION = "Which quantisation should I choose for an 8B model on a laptop?"


def timed(pieces: Iterable[str]) -> tuple[float, float, int]:
    """Consume a stream: (first-piece ms, decode tokens/s after the first piece, piece count)."""
    start = time.perf_counter()
    first = last = 0.0
    count = 0
    for piece in pieces:
        if not piece:
            continue
        last = time.perf_counter()
        if count == 0:
            first = last
        count += 1
    rate = (count - 1) / (last - first) if count > 1 and last > first else 0.0
    return (first - start) * 1000, rate, count


def direct_stream(llm: Any, msgs: list[dict[str, str]]) -> Iterator[str]:
    for chunk in llm.create_chat_completion(
        messages=msgs, max_tokens=128, temperature=0.0, top_p=0.9, stream=True
    ):
        yield chunk["choices"][0]["delta"].get("content") or ""


def report(label: str, runs: list[tuple[float, float, int]]) -> None:
    ttft = statistics.median(r[0] for r in runs)
    rate = statistics.median(r[1] for r in runs)
    each = ", ".join(f"{r[0]:.0f} ms/{r[1]:.0f} t/s/{r[2]} tok" for r in runs)
    sys.stdout.write(
        f"{label:<40} first token {ttft:7.0f} ms   decode {rate:6.1f} tok/s   [{each}]\n"
    )
    sys.stdout.flush()


Path = tuple[str, Callable[[], None], Callable[[], Iterable[str]]]


def measure(paths: list[Path], n: int) -> None:
    """Run every path n times, interleaved so that load from other processes hits all alike."""
    results: dict[str, list[tuple[float, float, int]]] = {label: [] for label, _, _ in paths}
    for _ in range(n):
        for label, reset, run in paths:
            reset()  # empty llama.cpp's cached prefix so each run processes the whole prompt
            results[label].append(timed(run()))
    for label, runs in results.items():
        report(label, runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(bundled_model_path()))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ctx", type=int, default=2048)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    from llama_cpp import Llama, __version__

    msgs = messages(QUESTION)
    backend = LlamaCppBackend(args.model, n_threads=args.threads, n_ctx=args.ctx)
    llm: Any = backend._llm
    prompt_tokens = len(llm.tokenize("\n".join(m["content"] for m in msgs).encode()))
    sys.stdout.write(
        f"llama-cpp-python {__version__}, model {backend.name}, {args.threads} threads, "
        f"prompt about {prompt_tokens} tokens (+ template), 128 output tokens, temperature 0\n"
    )

    direct = Llama(
        model_path=args.model, n_threads=args.threads, n_ctx=args.ctx, seed=0, verbose=False
    )
    paths: list[Path] = [
        ("(a) llama-cpp-python direct", direct.reset, lambda: direct_stream(direct, msgs)),
        (
            "(b) LlamaCppBackend",
            llm.reset,
            lambda: backend.stream_chat(msgs, max_tokens=128, temperature=0.0),
        ),
    ]
    chats: list[Any] = []
    try:
        from langchain_community.chat_models import ChatLlamaCpp
    except ImportError:
        sys.stdout.write("(c) langchain ChatLlamaCpp: skipped, langchain-community not installed\n")
    else:
        # ChatLlamaCpp defaults to n_batch=8 (llama-cpp-python: 512), which slows prompt
        # processing; measured both as shipped and with llama-cpp-python's batch size.
        lc_msgs = [(m["role"], m["content"]) for m in msgs]
        for n_batch in (8, 512):
            chat = ChatLlamaCpp(
                model_path=args.model, n_threads=args.threads, n_ctx=args.ctx, max_tokens=128,
                temperature=0.0, top_p=0.9, seed=0, verbose=False, n_batch=n_batch,
            )  # fmt: skip
            chats.append(chat)
            paths.append(
                (
                    f"(c) langchain ChatLlamaCpp n_batch={n_batch}",
                    chat.client.reset,
                    lambda chat=chat: (str(c.content) for c in chat.stream(lc_msgs)),
                )
            )
    measure(paths, args.runs)
    direct.close()
    for chat in chats:
        chat.client.close()

    sys.stdout.write("\nPrefix reuse (LlamaCppBackend, same system prompt and evidence):\n")
    llm.reset()
    cold = timed(backend.stream_chat(msgs, max_tokens=128, temperature=0.0))
    same = timed(backend.stream_chat(msgs, max_tokens=128, temperature=0.0))
    other_msgs = messages(OTHER_QUESTION)
    new_question = timed(backend.stream_chat(other_msgs, max_tokens=128, temperature=0.0))
    # What a RAG bot really sends next: the same system text, other evidence, another question.
    new_evidence_msgs = messages(OTHER_QUESTION, EVIDENCE[::-1])
    new_evidence = timed(backend.stream_chat(new_evidence_msgs, max_tokens=128, temperature=0.0))
    llm.reset()
    new_evidence_cold = timed(
        backend.stream_chat(new_evidence_msgs, max_tokens=128, temperature=0.0)
    )
    llm.reset()
    new_question_cold = timed(backend.stream_chat(other_msgs, max_tokens=128, temperature=0.0))
    for label, r in [
        ("cold, empty cache", cold),
        ("same prompt again", same),
        ("new question, same evidence", new_question),
        ("new question, empty cache", new_question_cold),
        ("other evidence, same system", new_evidence),
        ("other evidence, empty cache", new_evidence_cold),
    ]:
        sys.stdout.write(f"  {label:<30} first token {r[0]:7.0f} ms\n")
    backend.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
