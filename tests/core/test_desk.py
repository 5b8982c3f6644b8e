"""Desk: the one facade. Defaults, the one question limit, the history policy, cleaning at the
boundary and the sentence a person reads for each error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.core.desk import DEFAULT_CONTEXT, DEFAULT_QUANT, MAX_QUESTION_CHARS, Desk
from bot.core.errors import InvalidInput, ModelUnavailable, StoreUnavailable
from bot.core.services import build_services
from bot.core.text import clean_text, has_mention_markup

ROOT = Path(__file__).resolve().parents[2]


class RecordingLLM:
    """Streams a fixed reply and records the prompts it was given."""

    name = "recording"
    queue_depth = 0

    def __init__(self, reply: str = "Unpickling can call any Python function.") -> None:
        self.reply = reply
        self.prompts: list[list[dict[str, str]]] = []

    def stream_chat(self, messages, **_: object) -> Iterator[str]:  # noqa: ANN001
        self.prompts.append(messages)
        yield from (w + " " for w in self.reply.split(" "))

    def close(self) -> None:
        pass


@pytest.fixture
def desk_for(indexed_settings, embedder):  # noqa: ANN001, ANN201
    def make(llm: RecordingLLM, **overrides: object) -> Desk:
        settings = indexed_settings.model_copy(update=overrides)
        return Desk(build_services(settings, embedder=embedder, llm=llm))  # type: ignore[arg-type]

    return make


def test_lone_surrogates_are_cleaned_not_a_crash(desk_for) -> None:  # noqa: ANN001
    # discord.py's JSON decoding can hand over lone surrogates; the embedder raised TypeError.
    desk = desk_for(RecordingLLM())
    answer = desk.ask("what is gguf \ud800 and is a .pt file safe?")
    assert answer.text
    assert "\ud800" not in answer.question
    assert clean_text("a\ud83d\ude00b") == "a\U0001f600b"  # a valid pair survives as one char


@pytest.mark.parametrize("question", ["", "   ", "\ud800\udfff\ud800", "\x00\x07", "?!"])
def test_empty_after_cleaning_is_one_sentence(desk_for, question: str) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput) as info:
        desk_for(RecordingLLM()).ask(question)
    assert str(info.value) == "Ask a question: the message was empty."


def test_one_question_limit_everywhere(desk_for) -> None:  # noqa: ANN001
    desk = desk_for(RecordingLLM())
    desk.clean_question("x" * MAX_QUESTION_CHARS)
    for call in (desk.ask, desk.search):
        with pytest.raises(InvalidInput, match=f"keep it under {MAX_QUESTION_CHARS:,}"):
            call("x" * (MAX_QUESTION_CHARS + 1))


def test_history_turns_zero_means_no_history(desk_for) -> None:  # noqa: ANN001
    llm = RecordingLLM()
    desk = desk_for(llm, history_turns=0)
    history = [("user", "how big is llama 3.1 8b at Q4_K_M?"), ("assistant", "About 4.92 GB.")]
    desk.ask("is a .pt file safe to load?", history=history, subject="llama 3.1 8b")
    assert "Earlier question" not in llm.prompts[-1][1]["content"]
    assert desk.trim_history(history) == []


def test_history_keeps_the_last_exchanges(desk_for) -> None:  # noqa: ANN001
    llm = RecordingLLM()
    desk = desk_for(llm, history_turns=1)
    history = [("user", "first question about pickles"), ("assistant", "a"),
               ("user", "how big is llama 3.1 8b at Q4_K_M?"), ("assistant", "About 4.92 GB.")]
    assert desk.trim_history(history) == history[-2:]
    desk.ask("and is a .pt file safe?", history=history)
    assert "Earlier question: how big is llama 3.1 8b" in llm.prompts[-1][1]["content"]


def test_subject_stands_in_for_an_earlier_question(desk_for) -> None:  # noqa: ANN001
    llm = RecordingLLM()
    desk_for(llm).ask("is it safe to load?", subject="a .pt checkpoint from a stranger")
    assert "Earlier question: a .pt checkpoint from a stranger" in llm.prompts[-1][1]["content"]


def test_defaults_live_in_the_desk(tmp_path: Path) -> None:
    desk = Desk.build(load_settings(None, knowledge_dir=ROOT / "knowledge",
                                    data_dir=tmp_path))
    est = desk.cost("llama-3.1-8b")
    assert (est.quant.id, est.context) == (DEFAULT_QUANT, DEFAULT_CONTEXT)
    assert desk.fit("rtx-4090").context == DEFAULT_CONTEXT
    assert desk.services._embedder is None  # the calculator never loads the embedding model


def test_a_store_outage_is_named_as_the_store(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    desk = Desk.build(load_settings(None, knowledge_dir=ROOT / "knowledge", data_dir=tmp_path,
                                    chroma_host="127.0.0.1", chroma_port=port))
    with pytest.raises(StoreUnavailable) as info:
        desk.search("is a .pt file safe?")
    text = desk.error_message(info.value)
    assert "knowledge store" in text and "model" not in text.lower().replace("modeldesk", "")
    assert "language model" in desk.error_message(ModelUnavailable())


def test_error_messages_never_ping(tmp_path: Path) -> None:
    desk = Desk.build(load_settings(None, knowledge_dir=ROOT / "knowledge", data_dir=tmp_path))
    with pytest.raises(InvalidInput) as info:
        desk.cost("<@123456789> @everyone")
    text = desk.error_message(info.value)
    assert "Unknown model" in text and not has_mention_markup(text)
    assert desk.error_message(RuntimeError("boom")).startswith("Sorry")


def test_status_does_not_load_the_model(indexed_settings, embedder) -> None:  # noqa: ANN001
    desk = Desk(build_services(indexed_settings, embedder=embedder))
    stats = desk.status()
    assert stats["documents"] >= 1 and "llm" not in stats
    assert not desk.services.pipeline_loaded


def test_votes_go_through_the_desk(tmp_path: Path) -> None:
    from bot.core.types import Answer

    desk = Desk.build(load_settings(None, knowledge_dir=ROOT / "knowledge", data_dir=tmp_path))
    answer_id = desk.record_answer(Answer(question="q", text="a", mode="extractive"), "slash")
    desk.record_vote(answer_id, 42, 1)
    desk.record_vote(answer_id, 42, -1)  # a second vote by the same person replaces the first
    assert desk.feedback.summary()["down"] == 1
    with pytest.raises(InvalidInput):
        desk.record_vote(answer_id, 42, 5)


def test_warm_prepares_every_passages_evidence_before_the_first_question(
        indexed_settings, embedder, monkeypatch) -> None:  # noqa: ANN001
    services = build_services(indexed_settings, embedder=embedder, llm=RecordingLLM())
    desk = Desk(services)
    desk.warm()
    passages = services.retriever.passages()
    assert passages and services.pipeline_loaded
    calls: list[list[str]] = []
    real_embed = embedder.embed
    monkeypatch.setattr(embedder, "embed", lambda texts: calls.append(list(texts))
                        or real_embed(texts))
    for chunk in passages:  # every passage's sentences come from memory, not the model
        sentences, vectors = services.ranker.sentences(chunk)
        assert sentences and len(sentences) == len(vectors)
    assert calls == []
