from __future__ import annotations

import threading
import time

from bot.core import llm as llm_module
from bot.core.services import build_services


class _SlowModel:
    name = "slow"

    def close(self) -> None:
        pass


def test_the_model_loads_once_when_threads_ask_at_once(settings, embedder, monkeypatch) -> None:
    loads: list[int] = []

    def slow_build(_settings):
        loads.append(1)
        time.sleep(0.3)  # a real GGUF takes a while to load: long enough for a race
        return _SlowModel()

    monkeypatch.setattr(llm_module, "build_backend", slow_build)
    services = build_services(settings, embedder=embedder)
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(services.pipeline)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1
    assert len({id(p) for p in seen}) == 1
    services.close()
