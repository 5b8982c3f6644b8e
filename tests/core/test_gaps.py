"""The curators' to-do list groups questions by meaning (the real bundled embedder)."""

from __future__ import annotations

import numpy as np
import pytest

from bot.core.gaps import GAP_SIMILARITY, GapQuestion, build_gaps, group_by_similarity

# The pairs GAP_SIMILARITY was chosen on: the same need in other words...
SAME_NEED = [
    ("How do I fine-tune a model with LoRA?", "What is the way to do LoRA fine-tuning?"),
    ("What license does Mistral Large use?", "Can I use Mistral Large commercially?"),
    ("How do I fine-tune llama?", "fine tuning llama 3 on my own data"),
    ("is vllm faster than ollama", "vllm vs ollama throughput"),
]
# ...and different needs that share words.
DIFFERENT_NEEDS = [
    ("How do I fine-tune llama?", "What license does Llama use?"),
    ("How to run a model on an AMD GPU with ROCm?", "How to run a model on an Nvidia GPU?"),
    ("what is speculative decoding", "what is flash attention"),
]


def _q(i: int, text: str, *, covered: bool = False, down: int = 0,
       reasons: tuple[str, ...] = ()) -> GapQuestion:
    return GapQuestion(i, text, f"2026-11-{10 + i:02d}T10:00:00+00:00", not covered, down,
                       reasons)


def _vectors(embedder, texts: list[str]) -> np.ndarray:  # noqa: ANN001
    return np.asarray(embedder.embed(texts))


@pytest.mark.parametrize(("a", "b"), SAME_NEED)
def test_the_same_need_in_other_words_is_one_gap(embedder, a: str, b: str) -> None:  # noqa: ANN001
    assert group_by_similarity(_vectors(embedder, [a, b])) == [[0, 1]]


@pytest.mark.parametrize(("a", "b"), DIFFERENT_NEEDS)
def test_different_needs_stay_apart(embedder, a: str, b: str) -> None:  # noqa: ANN001
    assert group_by_similarity(_vectors(embedder, [a, b])) == [[0], [1]]


def test_gaps_are_counted_biggest_first_with_a_representative_example(embedder) -> None:  # noqa: ANN001
    questions = [
        _q(1, "What license does Mistral Large use?", down=1, reasons=("outdated",)),
        _q(2, "How do I fine-tune a model with LoRA?"),
        _q(3, "Can I use Mistral Large commercially?"),
        _q(4, "What is the way to do LoRA fine-tuning?", covered=True, down=2,
           reasons=("wrong", "wrong")),
        _q(5, "LoRA fine-tuning steps for a 7B model?"),
    ]
    gaps = build_gaps(questions, _vectors(embedder, [q.question for q in questions]))
    assert [g.count for g in gaps] == [3, 2]
    lora, license_ = gaps
    assert "LoRA" in lora.example and "Mistral" in license_.example
    assert lora.reasons == {"wrong": 2}
    assert lora.why == {"not covered": 2, "voted down": 1}
    assert license_.to_dict()["last_asked"].startswith("2026-11-13")


def test_nothing_to_group_is_an_empty_list_and_mismatched_input_is_refused() -> None:
    assert build_gaps([], np.zeros((0, 384))) == []
    with pytest.raises(ValueError):
        build_gaps([_q(1, "a question")], np.zeros((2, 384)))
    assert 0.5 < GAP_SIMILARITY < 0.9
