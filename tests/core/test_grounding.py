"""The grounding check on its own: sentence splitting, numbers, URLs, mentions and thresholds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.grounding import (
    MIN_SIMILARITY,
    EvidenceSentence,
    Grounder,
    has_subword_repetition,
    is_repetitive,
    numbers_in,
    repeated_run,
    split_sentences,
    unknown_words,
    unsupported_numbers_and_urls,
    urls_in,
)
from bot.core.text import has_mention_markup, neutralize_mentions

EVIDENCE = [
    "Qwen 2.5 comes in 0.5B, 1.5B, 3B, 7B, 14B, 32B and 72B sizes.",
    "Qwen2.5-Coder and Qwen2.5-Math are specialised variants of Qwen 2.5.",
    "Qwen2.5 72B at Q4_K_M needs about 47 GB of memory for its weights.",
]
QUESTION = "can I run qwen2.5 72b on a single rtx 4090?"


@pytest.fixture(scope="module")
def grounder(embedder) -> Grounder:  # noqa: ANN001 - the session embedder fixture
    return Grounder(embedder.embed, vocabulary=embedder.vocabulary())


@pytest.fixture(scope="module")
def evidence(embedder) -> tuple[list[EvidenceSentence], np.ndarray]:  # noqa: ANN001
    return ([EvidenceSentence(t, i + 1) for i, t in enumerate(EVIDENCE)],
            np.asarray(embedder.embed(EVIDENCE)))


def _judge(grounder: Grounder, evidence, sentence: str):  # noqa: ANN001, ANN202
    ev, vecs = evidence
    return grounder.check([sentence], ev, vecs, "", QUESTION)[0]


# -- the gibberish the review found ------------------------------------------------------------

GIBBERISH = [
    "The Qwen 2.5 is a Qen 2.5, which is a Qen 2.5-Coder, and Qwen 2.5-Math is a Qen "
    "2.5-Math-Math [1].",
    "The Qwen 2.5-Math is a Qen 2.5-Math-Math-Math-Math-Math.",
    "Qwen2.5-Coder-Coder-Coder is a variant of Qwen 2.5.",
    "Qwen 2.5 comes in 7B sizes and Qwen 2.5 comes in 7B sizes and Qwen 2.5 comes in 7B.",
    "Qwen 2.5 comes in many sizes from Alibabba Clowd.",
]


@pytest.mark.parametrize("sentence", GIBBERISH)
def test_gibberish_does_not_pass(grounder, evidence, sentence) -> None:  # noqa: ANN001
    verdict = _judge(grounder, evidence, sentence)
    assert not verdict.supported, verdict


def test_a_faithful_paraphrase_still_passes(grounder, evidence) -> None:  # noqa: ANN001
    verdict = _judge(grounder, evidence,
                     "Qwen2.5-Coder and Qwen2.5-Math are specialised variants of Qwen 2.5.")
    assert verdict.supported, verdict
    assert verdict.number == 2


def test_a_misspelled_name_is_unknown() -> None:
    known = {"qwen", "coder", "math"}
    assert unknown_words("The Qwen model is a Qen model.", known, frozenset({"the", "model"})) \
        == ["Qen"]
    assert unknown_words("The Qwen model runs.", known, frozenset({"the", "model", "runs"})) == []


@pytest.mark.parametrize(("text", "repeats"), [
    ("2.5-Math-Math", True), ("is is", True), ("Qwen 2.5 and Qwen 3", False),
    ("Llama 3.1 8B and Llama 3.1 70B are both open", False),
])
def test_subword_repetition(text: str, repeats: bool) -> None:
    assert has_subword_repetition(text) is repeats


def test_a_long_stretch_said_twice_is_repetition() -> None:
    assert repeated_run("the model needs memory; the model needs memory") is not None
    assert repeated_run("Llama 3.1 8B and Llama 3.1 70B differ in size") is None
    assert is_repetitive("abc" * 20)


@settings(max_examples=60, deadline=None)
@given(word=st.from_regex(r"[A-Z][a-z]{2,8}", fullmatch=True), times=st.integers(3, 8))
def test_any_word_chained_by_hyphens_is_repetitive(word: str, times: int) -> None:
    assert is_repetitive(f"The {word}-" + "-".join([word] * times) + " is a model.")


@settings(max_examples=60, deadline=None)
@given(chunk=st.text(st.characters(whitelist_categories=("Ll",)), min_size=6, max_size=12),
       times=st.integers(3, 6))
def test_any_repeated_run_is_caught(chunk: str, times: int) -> None:
    assert is_repetitive("It is " + (chunk + " ") * times)


# -- sentences, numbers, URLs, mentions --------------------------------------------------------

@pytest.mark.parametrize(("text", "sentences"), [
    ("Llama 3.1 8B needs 4.92 GB. It fits.", ["Llama 3.1 8B needs 4.92 GB.", "It fits."]),
    ("Use v0.3 of the tool. Then run it.", ["Use v0.3 of the tool.", "Then run it."]),
    ("Pick Q4_K_M. It is 4.89 bits.", ["Pick Q4_K_M.", "It is 4.89 bits."]),
    ("Big models, e.g. Llama 70B, need more. Small ones less.",
     ["Big models, e.g. Llama 70B, need more.", "Small ones less."]),
])
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_numbers_keep_their_units() -> None:
    assert "4k" in numbers_in("a 4k context", claims=True)
    assert "4" not in numbers_in("a 4k context", claims=True)
    assert {"8gb", "8"} <= numbers_in("8 GB of VRAM")
    assert "4.92" in numbers_in("4.92 GB") and "4.920" not in numbers_in("4.92 GB")
    nums, _ = unsupported_numbers_and_urls("It needs 16 GB.", ["It needs 8 GB."])
    assert nums == ["16gb"]


def test_urls_must_be_in_the_evidence() -> None:
    assert urls_in("see https://example.org/a.") == {"https://example.org/a"}
    _, urls = unsupported_numbers_and_urls("See https://evil.example/x", ["no links here"])
    assert urls == ["https://evil.example/x"]


def test_mention_markup_is_detected_and_neutralised() -> None:
    for text in ("@everyone", "@here", "<@123>", "<@!123>", "<@&9>", "<#42>"):
        assert has_mention_markup(text)
        assert not has_mention_markup(neutralize_mentions(text))


def test_thresholds_decide(grounder, evidence, embedder) -> None:  # noqa: ANN001
    ev, vecs = evidence
    close = "Qwen2.5-Coder and Qwen2.5-Math are variants of Qwen 2.5."
    sim = float(np.asarray(embedder.embed([close]))[0] @ vecs[1])
    assert sim >= MIN_SIMILARITY
    assert grounder.check([close], ev, vecs, "", QUESTION)[0].supported
    strict = Grounder(embedder.embed, min_similarity=0.999, min_overlap=1.01,
                      vocabulary=embedder.vocabulary())
    assert not strict.check([close], ev, vecs, "", QUESTION)[0].supported
