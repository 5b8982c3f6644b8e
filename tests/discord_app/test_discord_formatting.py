"""What users read: mention-safe text, messages under 2,000 characters, honest source lists."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.types import Answer, Citation
from bot.discord_app.formatting import (
    DISCORD_LIMIT,
    ZWSP,
    answer_messages,
    format_answer,
    preview,
    sanitize,
    split_message,
    strip_reply_extras,
)

# Anything Discord would turn into a ping (or a channel link).
PING = re.compile(r"@everyone|@here|<@!?\d+>|<@&\d+>|<#\d+>", re.IGNORECASE)


def test_sanitize_neutralizes_every_kind_of_mention() -> None:
    text = "hi @everyone and @HERE, <@123> <@!456> <@&789> <#1011>"
    out = sanitize(text)
    assert not PING.search(out)
    assert out.replace(ZWSP, "") == text  # still readable, only defused


@given(st.text(alphabet=st.sampled_from(list("@<>#&!0123456789everyonhr x")), max_size=80))
def test_sanitize_never_leaves_a_ping(text: str) -> None:
    assert not PING.search(sanitize(text))


def _code(lines: list[str]) -> str:
    return "```py\n" + "\n".join(lines) + "\n```"


words = st.text(alphabet=st.sampled_from(list("abcdefgh ")), min_size=1, max_size=12).map(
    str.strip
).filter(bool)
sentence = st.lists(words, min_size=1, max_size=30).map(lambda ws: " ".join(ws) + ".")
paragraph = st.lists(sentence, min_size=1, max_size=40).map(" ".join)
code_block = st.lists(st.text(alphabet="xyz =()", min_size=0, max_size=60), min_size=1,
                      max_size=25).map(_code)
document = st.lists(st.one_of(paragraph, code_block), min_size=1, max_size=12).map("\n\n".join)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("```py", "").replace("```", ""))


@settings(max_examples=60, deadline=None)
@given(document)
def test_split_keeps_every_message_short_and_every_code_block_whole(text: str) -> None:
    parts = split_message(text)
    assert all(0 < len(p) <= DISCORD_LIMIT for p in parts)
    assert all(p.count("```") % 2 == 0 for p in parts), "a message ends inside a code block"
    assert _squash("".join(parts)) == _squash(text), "text was lost or duplicated"
    for block in re.findall(r"```py\n.*?\n```", text, flags=re.S):
        if len(block) <= DISCORD_LIMIT:
            assert any(block in p for p in parts), "a code block that fits was cut"


@settings(max_examples=40, deadline=None)
@given(st.lists(sentence, min_size=30, max_size=50).map(" ".join).filter(lambda t: len(t) > 300))
def test_long_prose_is_cut_between_sentences(text: str) -> None:
    parts = split_message(text, limit=300)
    assert len(parts) > 1
    for part in parts[:-1]:
        assert part.rstrip().endswith("."), part[-40:]


def test_a_code_block_longer_than_a_message_is_closed_and_reopened() -> None:
    block = _code([f"line_{i} = {i} * 2" for i in range(300)])
    parts = split_message(block)
    assert len(parts) > 1
    assert all(p.startswith("```py") and p.endswith("```") for p in parts)
    assert all(len(p) <= DISCORD_LIMIT for p in parts)


def _answer(**kw: object) -> Answer:
    base: dict = dict(
        question="How much VRAM for a 7B model?",
        text="About 5 GB at Q4_K_M [1]. Add the KV cache [2].",
        mode="generated",
        citations=[
            Citation(1, "Memory basics", "Weights", "costs/memory.md", "https://example.org/mem"),
            Citation(2, "KV cache", "KV cache", "costs/kv.md", ""),
        ],
        timings={"total_ms": 2345.0},
        model="SmolLM2-135M",
    )
    base.update(kw)
    return Answer(**base)


def test_answer_shows_numbered_sources_and_the_mode_honestly() -> None:
    out = format_answer(_answer())
    assert "**Sources**" in out
    assert "1. [Memory basics — Weights](<https://example.org/mem>)" in out
    assert "2. KV cache (`costs/kv.md`)" in out
    assert "written by SmolLM2-135M" in out and "2.3 s" in out
    quoted = format_answer(_answer(mode="extractive"))
    assert "Quoted from the numbered sources" in quoted


def test_unknown_answer_says_so_and_lists_closest_topics() -> None:
    out = format_answer(_answer(mode="unknown", text="That is not in the knowledge base.",
                                citations=[], closest_topics=["Llama 3", "Mistral"]))
    assert "Not covered by the knowledge base" in out
    assert "Closest topics in the knowledge base: Llama 3, Mistral" in out
    assert "**Sources**" not in out


def test_model_text_cannot_ping_through_an_answer() -> None:
    out = "\n".join(answer_messages(_answer(text="Hello @everyone <@123> [1].")))
    assert not PING.search(out)


def test_long_answer_puts_sources_in_the_last_message() -> None:
    text = " ".join(f"Sentence number {i} is here [1]." for i in range(200))
    parts = answer_messages(_answer(text=text))
    assert len(parts) > 1
    assert "**Sources**" in parts[-1]
    assert all(len(p) <= DISCORD_LIMIT for p in parts)


def test_preview_fits_one_message_and_history_strips_the_extras() -> None:
    assert len(preview("word " * 1000)) <= DISCORD_LIMIT
    assert preview("so far").endswith("▌")
    assert strip_reply_extras(format_answer(_answer())) == _answer().text
