"""A Chroma server (`chroma run`) on 127.0.0.1, started and stopped by these tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kb_support import expected_chunks

from bot.core.errors import BackendUnavailable
from bot.core.services import build_services

pytestmark = pytest.mark.servers
CHROMA = Path(sys.executable).parent / "chroma"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ChromaServer:
    def __init__(self, path: Path, port: int) -> None:
        self.path, self.port = path, port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ChromaServer:
        self.proc = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port",
             str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/api/v2/heartbeat",
                             timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the Chroma server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.proc = None


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "chroma-server", _free_port()).start()
    try:
        yield server
    finally:
        server.stop()


def _results(services, questions):
    return [[(c.file, c.heading) for c in services.retriever.search(q, k=3)] for q in questions]


QUESTIONS = ["can a .pt checkpoint run code", "llama license 700 million users",
             "why is the kv cache smaller with grouped-query attention"]


def test_server_store_gives_the_same_results_as_embedded(chroma, settings, embedder) -> None:
    embedded = build_services(settings, embedder=embedder)
    embedded.index.reindex()
    remote_settings = settings.model_copy(update={"chroma_host": "127.0.0.1",
                                                  "chroma_port": chroma.port})
    remote = build_services(remote_settings, embedder=embedder)
    report = remote.index.reindex()
    assert report.total_chunks == expected_chunks()
    assert remote.index.stats()["store"] == f"http://127.0.0.1:{chroma.port}"
    assert _results(remote, QUESTIONS) == _results(embedded, QUESTIONS)
    assert remote.index.reindex().chunks_embedded == 0  # the manifest lives in the server


def test_server_stopped_mid_work_then_back(chroma, settings, embedder) -> None:
    s = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": chroma.port})
    services = build_services(s, embedder=embedder)
    services.index.reindex()
    before = _results(services, QUESTIONS)
    chroma.stop()
    with pytest.raises(BackendUnavailable) as exc:
        services.retriever.search(QUESTIONS[0], k=3)
    assert "try again" in str(exc.value)
    with pytest.raises(BackendUnavailable):
        services.index.reindex(full=True)
    chroma.start()
    assert _results(services, QUESTIONS) == before  # nothing lost, nothing corrupted
    assert services.index.reindex().chunks_embedded == 0


WORKER = """
import json, sys, time
from bot.config import load_settings
from bot.core.services import build_services
s = load_settings(None)
svc = build_services(s)
ok = fail = 0
deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline:
    try:
        hits = svc.retriever.search("can a .pt checkpoint run code", k=3)
        ok += bool(hits) and hits[0].file == "security/pickle.md"
        fail += not (bool(hits) and hits[0].file == "security/pickle.md")
    except Exception as exc:
        fail += 1
        print("error", exc, file=sys.stderr)
    time.sleep(0.05)
print(json.dumps({"ok": ok, "fail": fail}))
"""


def test_two_processes_keep_answering_while_a_full_reindex_runs(chroma, settings,
                                                               embedder) -> None:
    s = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": chroma.port})
    services = build_services(s, embedder=embedder)
    services.index.reindex()
    env = {**os.environ, "CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(chroma.port),
           "KNOWLEDGE_DIR": str(settings.knowledge_dir), "DATA_DIR": str(settings.data_dir),
           "HF_HUB_OFFLINE": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, "25"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    try:
        time.sleep(12)  # both processes have loaded their models and are querying
        for _ in range(3):
            services.index.reindex(full=True)
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for out, err in outs:
        counts = json.loads(out.strip().splitlines()[-1])
        assert counts["ok"] > 10 and counts["fail"] == 0, err[-2000:]
