"""Help channels: questions get an answer, chatter is left alone."""

from __future__ import annotations

import pytest

from bot.core.question_detect import reads_as_question


@pytest.mark.parametrize("text", [
    "Which model fits in 8 GB of VRAM?",
    "vram for 70b?",
    "how do I run qwen2.5 on my laptop",
    "Can a .pt file run code when I load it",
    "I need a model for German OCR that runs on a 3060",
    "Getting an error: CUDA out of memory with llama 3.1 8B.",
    "Hi all. What is the best coding model under 20B",
    "Qual modelo roda numa RTX 3060",
    "¿Cuál modelo cabe en 12 GB?",
    "Anyone tried gpt-oss 20b on a Mac mini",
])
def test_questions_are_recognised(text: str) -> None:
    assert reads_as_question(text)


@pytest.mark.parametrize("text", [
    "thanks!",
    "lol same",
    "ok?",
    "that worked, thank you so much",
    "https://huggingface.co/Qwen/Qwen3-32B",
    "Llama 3.1 is great, no question for the bot",
    "Just released our new fine-tune, enjoy",
    "",
    "   ",
])
def test_chatter_is_not_a_question(text: str) -> None:
    assert not reads_as_question(text)
