"""The terminal console: the same powers as Discord, typed at a prompt."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from bot.console import Console
from bot.core.desk import Desk
from bot.core.services import build_services


def _run(settings, services, lines: str) -> str:
    out = io.StringIO()
    Console(settings, stdin=io.StringIO(lines), stdout=out, desk=Desk(services)).run()
    return out.getvalue()


def test_console_answers_with_sources_and_keeps_going(indexed_settings, embedder,
                                                      local_llm, fixture_chunks) -> None:
    services = build_services(indexed_settings, embedder=embedder, llm=local_llm)
    text = _run(indexed_settings, services,
                "\n/help\nis a .pt file safe to load?\n/bogus\n/search weights_only\n/kb\n"
                "what is a good recipe for banana bread?\n/quit\n")
    assert "/search QUESTION" in text
    assert "Sources:\n  [1] Running pickle-based checkpoints safely" in text
    assert "Unknown command /bogus" in text
    assert "Loading a checkpoint with weights_only" in text
    assert "documents: 3" in text and f"chunks: {fixture_chunks}" in text
    assert "does not cover that" in text


def test_console_cost_and_fit_use_the_engine(indexed_settings, embedder) -> None:
    root = Path(__file__).resolve().parent.parent
    settings = indexed_settings.model_copy(update={"knowledge_dir": root / "knowledge"})
    services = build_services(settings, embedder=embedder)
    text = _run(settings, services,
                "/cost llama-3.1-8b Q4_K_M 8192 rtx-3060-12gb\n/fit rtx-4090\n/cost nosuchmodel\n")
    assert "Llama 3.1 8B" in text and "GiB" in text and "tokens/s" in text
    assert "RTX 4090" in text
    assert "nosuchmodel" in text.lower() and "Traceback" not in text


def test_modeldesk_run_without_a_token_opens_the_console(indexed_settings) -> None:
    env = {**os.environ, "KNOWLEDGE_DIR": str(indexed_settings.knowledge_dir),
           "DATA_DIR": str(indexed_settings.data_dir), "HF_HUB_OFFLINE": "1"}
    env.pop("DISCORD_TOKEN", None)
    exe = Path(sys.executable).parent / "modeldesk"
    proc = subprocess.run([str(exe), "--env-file", "/nonexistent", "run"],
                          input="/search can a pickle run code\n/quit\n", capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "DISCORD_TOKEN is not set" in proc.stderr
    assert "Why a .bin or .pt file can run code" in proc.stdout
