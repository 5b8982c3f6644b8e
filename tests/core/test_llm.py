"""LLM backends: the bundled GGUF through llama.cpp, and a fake OpenAI-compatible server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.core.errors import BackendUnavailable, ModelDeskError
from bot.core.llm import (
    LlamaCppBackend,
    PromptStats,
    build_backend,
    bundled_model_path,
    estimate_tokens,
    token_counter,
)
from bot.core.llm_server import OpenAICompatibleBackend
from bot.devtools.fake_openai import DEFAULT_PIECES, FakeOpenAIServer

QUESTION = [
    {"role": "system", "content": "You are a helpful assistant. Answer in plain sentences."},
    {"role": "user", "content": "Explain what a GPU is and why it helps to run language models."},
]


# --- llama.cpp in-process, with the real bundled model ----------------------------------------


@pytest.fixture(scope="session")
def llama() -> Iterator[LlamaCppBackend]:
    backend = LlamaCppBackend(None, n_threads=2, n_ctx=1024)
    yield backend
    backend.close()


def test_bundled_model_path_is_a_gguf_file() -> None:
    path = bundled_model_path()
    assert path.is_absolute() and path.suffix == ".gguf"
    with path.open("rb") as fh:
        assert fh.read(4) == b"GGUF"


@pytest.mark.slow
def test_llama_streams_several_pieces_and_stops_at_max_tokens(llama: LlamaCppBackend) -> None:
    short = list(llama.stream_chat(QUESTION, max_tokens=8, temperature=0.0))
    assert len(short) > 1
    assert all(short)
    assert len(short) <= 8
    longer = llama.complete_chat(QUESTION, max_tokens=40, temperature=0.0)
    # The 8-token reply was cut by the limit: the same greedy reply goes on when allowed.
    assert len(longer) > len("".join(short))
    assert longer.startswith("".join(short))
    assert llama.name == bundled_model_path().stem


@pytest.mark.slow
def test_llama_uses_the_chat_template_from_the_gguf(llama: LlamaCppBackend) -> None:
    # With a wrong template SmolLM2 answers these with code fragments or nothing at all.
    reply = llama.complete_chat(
        [{"role": "user", "content": "What is the capital of France? Answer in one word."}],
        max_tokens=24,
        temperature=0.0,
    )
    assert "Paris" in reply
    greeting = list(
        llama.stream_chat([{"role": "user", "content": "Hi!"}], max_tokens=40, temperature=0.0)
    )
    assert len(greeting) < 40  # the reply ended by itself at the template's end-of-turn token
    assert "Hello" in "".join(greeting)
    assert "<|im_" not in "".join(greeting) + reply


@pytest.mark.slow
def test_two_callers_are_served_one_after_the_other(llama: LlamaCppBackend) -> None:
    pieces: dict[str, list[tuple[float, str]]] = {"first": [], "second": []}
    first_started = threading.Event()

    def ask(who: str) -> None:
        for piece in llama.stream_chat(QUESTION, max_tokens=48, temperature=0.0):
            pieces[who].append((time.monotonic(), piece))
            first_started.set()

    first = threading.Thread(target=ask, args=("first",))
    first.start()
    assert first_started.wait(60)
    second = threading.Thread(target=ask, args=("second",))
    second.start()
    depths = []
    while first.is_alive():
        depths.append(llama.queue_depth)
        time.sleep(0.002)
    first.join()
    second.join(60)
    assert max(depths) >= 1  # the second caller was seen waiting in the queue
    assert llama.queue_depth == 0
    a = "".join(p for _, p in pieces["first"])
    b = "".join(p for _, p in pieces["second"])
    # Each caller got a whole answer of its own, from its first word, not a share of pieces.
    # (Not compared for equality: a reused cached prefix can change a greedy near-tie.)
    assert a.startswith("A GPU") and b.startswith("A GPU")
    assert len(pieces["first"]) > 30 and len(pieces["second"]) > 30
    assert pieces["first"][-1][0] <= pieces["second"][0][0]


@pytest.mark.slow
def test_a_prompt_longer_than_the_context_is_refused_and_the_model_stays_usable(
    llama: LlamaCppBackend,
) -> None:
    too_long = [{"role": "user", "content": "tell me about GPUs " * 400}]
    with pytest.raises(ModelDeskError, match="LLM_CONTEXT"):
        llama.complete_chat(too_long, max_tokens=8, temperature=0.0)
    assert llama.complete_chat(QUESTION, max_tokens=4, temperature=0.0)


@pytest.mark.slow
def test_waiting_callers_are_served_first_come_first_served(llama: LlamaCppBackend) -> None:
    holder = llama.stream_chat(QUESTION, max_tokens=16, temperature=0.0)
    next(holder)  # this caller now holds the model
    assert llama.busy
    started: list[str] = []

    def ask(who: str) -> None:
        llama.complete_chat(QUESTION, max_tokens=2, temperature=0.0)
        started.append(who)

    threads = []
    for depth, who in enumerate(["second", "third", "fourth"], 1):
        thread = threading.Thread(target=ask, args=(who,))
        thread.start()
        threads.append(thread)
        deadline = time.monotonic() + 10
        while llama.queue_depth < depth and time.monotonic() < deadline:
            time.sleep(0.005)
        assert llama.queue_depth == depth  # the place in the queue a user would be shown
    holder.close()  # the first caller is done (or gave up): the model passes on in order
    for thread in threads:
        thread.join(60)
    assert started == ["second", "third", "fourth"]
    assert llama.queue_depth == 0 and not llama.busy


@pytest.mark.slow
def test_exclusive_use_waits_its_turn_and_holds_the_queue(llama: LlamaCppBackend) -> None:
    done: list[str] = []
    with llama.exclusive() as raw:
        assert raw.n_ctx() == llama.n_ctx
        thread = threading.Thread(
            target=lambda: done.append(llama.complete_chat(QUESTION, max_tokens=2, temperature=0))
        )
        thread.start()
        deadline = time.monotonic() + 10
        while llama.queue_depth < 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert llama.queue_depth == 1 and not done  # the caller waits while the model is held
    thread.join(60)
    assert done and done[0]


def test_missing_model_path_names_the_path_and_the_setting(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "model.gguf"
    with pytest.raises(ModelDeskError) as err:
        LlamaCppBackend(str(missing), n_threads=1, n_ctx=256)
    assert str(missing) in str(err.value)
    assert "MODEL_PATH" in str(err.value)


def test_a_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_text("not a model")
    with pytest.raises(ModelDeskError, match="MODEL_PATH") as err:
        LlamaCppBackend(str(fake), n_threads=1, n_ctx=256)
    assert str(fake) in str(err.value)


# --- OpenAI-compatible server ----------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


def _backend(
    url: str, api_key: str | None = None, timeout_s: float = 5.0
) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(url, model="fake-model", api_key=api_key, timeout_s=timeout_s)


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/"])
def test_streams_the_server_pieces_in_order(fake: FakeOpenAIServer, suffix: str) -> None:
    backend = _backend(fake.url + suffix)
    got = list(backend.stream_chat(QUESTION, max_tokens=32, temperature=0.2, stop=["\n\n"]))
    assert got == list(DEFAULT_PIECES)
    request = fake.requests[-1]
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["stream"] is True
    assert request["body"]["messages"] == QUESTION
    assert request["body"]["max_tokens"] == 32
    assert request["body"]["stop"] == ["\n\n"]
    assert request["body"]["model"] == "fake-model"
    assert backend.complete_chat(QUESTION, max_tokens=32, temperature=0.2) == "".join(
        DEFAULT_PIECES
    )
    assert backend.ping()
    backend.close()


def test_sends_the_api_key_only_when_set(fake: FakeOpenAIServer) -> None:
    _backend(fake.url, api_key="sk-test-123").complete_chat(QUESTION, max_tokens=8, temperature=0)
    assert fake.requests[-1]["headers"].get("Authorization") == "Bearer sk-test-123"
    _backend(fake.url).complete_chat(QUESTION, max_tokens=8, temperature=0)
    assert "Authorization" not in fake.requests[-1]["headers"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_refused_is_backend_unavailable(caplog: pytest.LogCaptureFixture) -> None:
    backend = _backend(f"http://127.0.0.1:{_closed_port()}", api_key="sk-secret-key")
    with pytest.raises(BackendUnavailable) as err:
        backend.complete_chat(QUESTION, max_tokens=8, temperature=0)
    assert str(err.value) == "The language model is unavailable right now; try again shortly."
    assert "sk-secret-key" not in caplog.text
    assert not backend.ping()


@pytest.mark.parametrize("mode", ["error500", "cut", "no_done"])
def test_server_failures_are_backend_unavailable(
    fake: FakeOpenAIServer, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake.mode = mode
    backend = _backend(fake.url, api_key="sk-secret-key")
    received: list[str] = []
    with pytest.raises(BackendUnavailable):
        for piece in backend.stream_chat(QUESTION, max_tokens=8, temperature=0):
            received.append(piece)
    if mode == "cut":
        assert 0 < len(received) < len(DEFAULT_PIECES)  # the pieces before the cut arrived
    if mode == "no_done":
        assert received == list(DEFAULT_PIECES)  # all text came, but no end: not trusted
    assert "sk-secret-key" not in caplog.text


def test_a_server_that_stops_answering_times_out(fake: FakeOpenAIServer) -> None:
    fake.mode = "slow"
    fake.delay_s = 2.0
    backend = _backend(fake.url, timeout_s=0.3)
    started = time.monotonic()
    with pytest.raises(BackendUnavailable):
        backend.complete_chat(QUESTION, max_tokens=8, temperature=0)
    assert time.monotonic() - started < 1.5


# --- choosing the backend from settings ------------------------------------------------------


def test_base_url_selects_the_openai_backend(fake: FakeOpenAIServer) -> None:
    settings = load_settings(
        env_file=None, llm_base_url=fake.url, llm_model="served", llm_api_key="sk-x"
    )
    backend = build_backend(settings)
    assert isinstance(backend, OpenAICompatibleBackend)
    assert backend.name == "served"
    backend.complete_chat(QUESTION, max_tokens=8, temperature=0)
    assert fake.requests[-1]["headers"]["Authorization"] == "Bearer sk-x"
    assert fake.requests[-1]["body"]["model"] == "served"


def test_openai_backend_without_url_says_what_to_set() -> None:
    settings = load_settings(env_file=None, llm_backend="openai", llm_base_url=None)
    with pytest.raises(ModelDeskError, match="LLM_BASE_URL"):
        build_backend(settings)


def test_default_settings_use_llama_cpp_with_model_path(tmp_path: Path) -> None:
    missing = tmp_path / "custom.gguf"
    settings = load_settings(env_file=None, model_path=str(missing))
    with pytest.raises(ModelDeskError, match="custom.gguf"):
        build_backend(settings)


@pytest.mark.slow
def test_a_shared_system_prompt_is_evaluated_once(llama: LlamaCppBackend) -> None:
    system = QUESTION[0]
    follow = [system, {"role": "user", "content": "What does a GPU's memory hold?"}]
    pirate = [{"role": "system", "content": "Talk like a pirate in every reply you write."},
              follow[1]]
    first, second, other = PromptStats(), PromptStats(), PromptStats()
    list(llama.stream_chat(QUESTION, max_tokens=4, temperature=0.0, stats=first))
    list(llama.stream_chat(follow, max_tokens=4, temperature=0.0, stats=second))
    list(llama.stream_chat(pirate, max_tokens=4, temperature=0.0, stats=other))
    for stats in (first, second, other):
        assert stats.prompt_tokens and 0 < (stats.prefill_tokens or 0) <= stats.prompt_tokens
    assert second.prompt_tokens - second.prefill_tokens >= llama.count_tokens(system["content"])
    # A different system prompt shares only the template's first tokens: nearly all is paid.
    assert other.prompt_tokens - other.prefill_tokens < llama.count_tokens(system["content"])


def test_a_server_backend_budgets_with_an_estimate() -> None:
    backend = OpenAICompatibleBackend("http://127.0.0.1:9", model="m", api_key=None,
                                      timeout_s=1)
    count = token_counter(backend)
    text = "GGUF weights are plain numbers, so a .gguf file cannot hide a pickle payload."
    assert count is estimate_tokens
    assert count("") == 0 and 15 <= count(text) <= 30
