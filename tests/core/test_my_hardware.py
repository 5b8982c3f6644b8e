"""/myhardware: a saved machine feeds fit questions that name none; nothing else is forced."""

from __future__ import annotations

import pytest

from bot.core.desk import NO_MODEL_IN_TEXT, Desk
from bot.core.errors import InvalidInput
from bot.core.services import Services


@pytest.fixture
def desk(settings) -> Desk:  # noqa: ANN001
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    return Desk(Services(settings.model_copy(update={"knowledge_dir": root / "knowledge"})))


def test_a_machine_is_read_as_people_write_it_and_nonsense_is_refused(desk: Desk) -> None:
    saved = desk.save_hardware(7, "2x rtx 3090, 64 GB RAM")
    assert saved.machine.gpus == 2 and saved.machine.hardware.id == "rtx-3090"
    assert saved.ram_gb == 64.0
    assert desk.saved_hardware(7) == "2x rtx 3090, 64 GB RAM"
    for text in ("my laptop", "", "x" * 300):
        with pytest.raises(InvalidInput):
            desk.save_hardware(8, text)
    assert desk.saved_hardware(8) is None
    assert desk.clear_hardware(7) and desk.my_machine(7) is None


def test_a_fit_question_without_a_machine_uses_the_saved_one(desk: Desk) -> None:
    plain = desk.compute("can I run llama 3.1 70b?")
    mine = desk.compute("can I run llama 3.1 70b?", machine="2x rtx 3090")
    assert plain is not None and mine is not None
    assert "3090" not in plain.text
    assert "2 x RTX 3090" in mine.text and "saved machine" in mine.text
    # A machine named in the question wins; a memory question is not about the asker's box.
    named = desk.compute("can I run llama 3.1 70b on an rtx 4090?", machine="2x rtx 3090")
    assert named is not None and "4090" in named.text and "saved machine" not in named.text
    memory = desk.compute("how much vram does llama 3.1 70b need?", machine="2x rtx 3090")
    assert memory is not None and "saved machine" not in memory.text
    # "What is the biggest model I can run" only has an answer with a machine.
    assert desk.compute("what is the biggest model I can run?") is None
    biggest = desk.compute("what is the biggest model I can run?", machine="rtx 4090")
    assert biggest is not None and "RTX 4090" in biggest.text


def test_estimate_text_finds_the_model_in_any_message(desk: Desk) -> None:
    est = desk.estimate_text("Just tried Qwen2.5 32B, it is amazing", machine="rtx 4090")
    assert est.mode == "computed" and "RTX 4090" in est.text and est.estimate is not None
    bare = desk.estimate_text("Qwen2.5 32B dropped today")
    assert bare.mode == "computed" and "GB" in bare.text
    none = desk.estimate_text("good morning everyone")
    assert none.mode == "clarify" and none.text == NO_MODEL_IN_TEXT
