from __future__ import annotations

import pytest

from bot.core.errors import InvalidInput


@pytest.fixture
def indexed(services):
    services.index.reindex()
    return services


@pytest.mark.parametrize(
    ("question", "file", "heading"),
    [
        ("is it safe to load a random .pt file from the internet??", "security/pickle.md",
         "Why a .bin or .pt file can run code"),
        ("torch.load weights_only", "security/pickle.md", "Loading a checkpoint with weights_only"),
        ("whats the 700 million users thing in the llama license", "models/llama-family.md",
         "The Llama license and the 700 million users clause"),
        ("how big is llama 3.1 8b at Q4_K_M", "costs/vram.md",
         "Weights memory at each quantization"),
        ("why does GQA make the kv cache smaller", "costs/vram.md",
         "KV cache memory and grouped-query attention"),
    ],
)
def test_retrieval_finds_the_right_section(indexed, question, file, heading) -> None:
    top = indexed.retriever.search(question, k=3)[0]
    assert (top.file, top.heading) == (file, heading)
    assert top.source.startswith("https://")
    assert 0 < top.score <= 1


def test_follow_up_uses_the_previous_question(indexed) -> None:
    history = [("user", "how much memory does llama 3.1 8b need at Q4_K_M?"),
               ("assistant", "About 4.92 GB.")]
    alone = indexed.retriever.search("and at 8-bit?", k=1)[0]
    followed = indexed.retriever.search("and at 8-bit?", k=1, history=history)[0]
    assert followed.heading == "Weights memory at each quantization"
    assert alone.heading != followed.heading or followed.score > alone.score
    assert followed.score > alone.score  # the earlier question makes the match stronger


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_is_refused(indexed, question) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        indexed.retriever.search(question)


def test_odd_and_huge_input_does_not_break(indexed) -> None:
    assert indexed.retriever.search("🦙" * 50 + " \u202e\u0000 zalgo t̷̛̀e̶x̸t", k=2)
    assert len(indexed.retriever.search("pickle " * 20000, k=2)) == 2


@pytest.mark.parametrize(("question", "follow_up"), [
    ("and at 8-bit?", True), ("what about Q8_0", True), ("is it safe?", True), ("8-bit?", True),
    ("what is a good recipe for banana bread?", False),
    ("how much vram does llama 3.1 8b need at q4_k_m", False),
])
def test_follow_up_detection(question, follow_up) -> None:
    from bot.core.retrieval import looks_like_follow_up

    assert looks_like_follow_up(question) is follow_up


def test_a_new_topic_in_a_thread_does_not_borrow_the_old_subject(indexed) -> None:
    history = [("user", "is a .pt file safe to load?"), ("assistant", "No [1].")]
    alone = indexed.retriever.search("what is a good recipe for banana bread?", k=1)[0]
    threaded = indexed.retriever.search("what is a good recipe for banana bread?", k=1,
                                        history=history)[0]
    assert threaded.score == alone.score < 0.3


def test_a_bug_raises_instead_of_reading_as_a_store_outage(indexed, monkeypatch) -> None:
    # Only store errors are retried and reported as an outage; a programming error surfaces.
    def broken(*_: object, **__: object) -> None:
        raise KeyError("a bug, not an outage")

    monkeypatch.setattr(indexed.retriever, "_rank", broken)
    with pytest.raises(KeyError, match="a bug"):
        indexed.retriever.search("pickle", k=1)


def test_a_store_error_is_retried_then_reported(indexed, monkeypatch) -> None:
    from bot.core.errors import StoreUnavailable

    calls = []

    def down(*_: object, **__: object) -> None:
        calls.append(1)
        raise OSError("connection refused")

    monkeypatch.setattr(indexed.retriever, "_rank", down)
    with pytest.raises(StoreUnavailable, match="knowledge store"):
        indexed.retriever.search("pickle", k=1)
    assert len(calls) > 1


def test_entity_weight_moves_passages_naming_the_entity_up(indexed) -> None:
    """Off by default (it lowered hit@1 on both eval sets); when an operator turns it on, a
    chunk whose heading names the question's entity gains rank, and settings count in bodies."""
    from bot.core.retrieval import Retriever, setting_names

    assert setting_names("OLLAMA_KEEP_ALIVE=-1 and --ctx-size 8192, keep_alive") == [
        "ollamakeepalive", "ctxsize", "keepalive"]
    plain = Retriever(indexed.index, indexed.embedder)
    boosted = Retriever(indexed.index, indexed.embedder, entity_weight=1.0,
                        entities=lambda q: [["llamalicense"]])
    rank = [c.heading for c in boosted.search("what about weights_only", k=5)]
    assert rank[0] == "Loading a checkpoint with weights_only"
    question = "tell me about the terms"
    before = [c.heading for c in plain.search(question, k=10)]
    after = [c.heading for c in boosted.search(question, k=10)]
    assert "license" in after[0].lower()
    assert "license" not in before[0].lower()  # without the entity, another passage leads
