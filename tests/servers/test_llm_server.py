"""OpenAICompatibleBackend against a real `python -m llama_cpp.server` with the bundled GGUF."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from bot.core.errors import BackendUnavailable
from bot.core.llm import bundled_model_path
from bot.core.llm_server import OpenAICompatibleBackend

pytestmark = pytest.mark.servers

LONG_ANSWER = [
    {"role": "user", "content": "Write a long essay about graphics cards, with many details."}
]
SHORT_ANSWER = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(proc: subprocess.Popen[bytes], base_url: str, log_file: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited early:\n{log_file.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base_url}/v1/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"llama_cpp.server did not start:\n{log_file.read_text()[-2000:]}")


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[[int], subprocess.Popen[bytes]]]:
    """Start llama_cpp.server on a port and wait for it; every server is stopped at teardown."""
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"llama-cpp-python[server] is not installed: {exc}")
    procs: list[subprocess.Popen[bytes]] = []

    def start(port: int) -> subprocess.Popen[bytes]:
        log_file = tmp_path / f"server-{len(procs)}.log"
        cmd = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(bundled_model_path()),
            "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", "2048", "--n_threads", "2",
        ]  # fmt: skip
        with log_file.open("wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        procs.append(proc)
        _wait_ready(proc, f"http://127.0.0.1:{port}", log_file)
        return proc

    try:
        yield start
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)


def test_stream_survives_a_server_restart(
    start_server: Callable[[int], subprocess.Popen[bytes]],
) -> None:
    port = _free_port()
    proc = start_server(port)
    backend = OpenAICompatibleBackend(
        f"http://127.0.0.1:{port}", model="smollm2", api_key=None, timeout_s=30
    )
    assert backend.ping()

    stream = backend.stream_chat(LONG_ANSWER, max_tokens=600, temperature=0.0)
    first = next(stream)
    assert first
    proc.kill()  # the server dies while the answer is still being written
    proc.wait(timeout=30)
    with pytest.raises(BackendUnavailable):
        for _ in stream:
            pass

    with pytest.raises(BackendUnavailable):  # nothing listens now
        backend.complete_chat(SHORT_ANSWER, max_tokens=16, temperature=0.0)
    assert not backend.ping()

    start_server(port)
    pieces = list(backend.stream_chat(SHORT_ANSWER, max_tokens=24, temperature=0.0))
    assert len(pieces) > 1
    assert "Paris" in "".join(pieces)
    backend.close()


def test_ask_streams_through_llm_base_url(
    start_server: Callable[[int], subprocess.Popen[bytes]], indexed_settings, embedder,
) -> None:
    """The whole answer pipeline with the model behind an OpenAI-compatible server."""
    from bot.core.services import build_services

    port = _free_port()
    start_server(port)
    settings = indexed_settings.model_copy(
        update={"llm_base_url": f"http://127.0.0.1:{port}/v1", "llm_model": "smollm2"})
    services = build_services(settings, embedder=embedder)
    assert services.pipeline.backend_name == "OpenAICompatibleBackend"
    partials: list[str] = []
    answer = services.pipeline.answer("Can loading a .pt checkpoint run code?",
                                      on_partial=partials.append)
    assert answer.mode in ("generated", "extractive") and answer.model == "smollm2"
    assert answer.citations[0].file == "security/pickle.md"
    assert answer.timings["first_token_ms"] > 0
    assert all(answer.text.startswith(p) for p in partials)
