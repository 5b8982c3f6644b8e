"""Computed answers: the calculator answers questions that name a model or a machine, in the
desk, the CLI and the console, with the verdict and its figures first."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_settings
from bot.core.costs import GB, estimate_cost
from bot.core.desk import Desk
from bot.core.text import has_mention_markup

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> Desk:  # noqa: ANN001
    data = tmp_path_factory.mktemp("computed")
    return Desk.build(load_settings(None, knowledge_dir=ROOT / "knowledge", data_dir=data))


def test_the_issue_example_word_for_word(desk: Desk) -> None:
    answer = desk.ask("can I run qwen2.5 72b on a single rtx 4090?")
    assert answer.mode == "computed"
    first = answer.text.split("\n")[0]
    assert first.startswith("No. Qwen2.5 72B at Q4_K_M needs about 48.8 GB with an 8,192-token "
                            "context; an RTX 4090 has 24 GB")
    est = estimate_cost("qwen2.5-72b", hardware="rtx-4090", catalog=desk.catalog)
    assert f"{est.total_bytes / GB:.1f} GB" in first and est.fits is False
    assert "Offloading works" in answer.text and "tokens/s" in answer.text
    assert "3 x RTX 4090 hold it" in answer.text
    assert "largest catalog model that fits entirely" in answer.text
    assert "llama-fit-params" in answer.text  # how to check it on your own machine
    assert [c.file for c in answer.citations] == ["knowledge/data/models.yaml",
                                                  "knowledge/data/hardware.yaml"]
    assert all(c.url.startswith("https://") for c in answer.citations)
    assert not desk.services.pipeline_loaded  # no language model was needed


def test_yes_with_what_is_left(desk: Desk) -> None:
    answer = desk.ask("does llama3.1:70b fit on 2x 3090")
    assert answer.text.startswith("Yes. Llama 3.1 70B at Q4_K_M needs about 47.3 GB")
    assert "2 x RTX 3090 has 48 GB" in answer.text and "Decode speed" in answer.text
    assert answer.estimate is not None and answer.estimate.gpus == 2


def test_the_attention_layout_explains_a_small_cache(desk: Desk) -> None:
    # A latent-attention model: the answer says why its cache is small, with the catalog's
    # figures (47 layers x 576 values x 2 bytes x 131,072 tokens = 7.1 GB).
    text = desk.ask("can glm 4.7 flash run on my 3090 with 128k context").text
    assert "KV cache: 7.1 GB at 131,072 tokens" in text
    assert "multi-head latent attention (MLA)" in text and "576 values per token" in text
    plain = desk.ask("does llama 3.1 8b fit on a 3060 12gb").text
    assert "KV cache:" not in plain  # full attention everywhere: nothing to explain


def test_several_cards_of_a_given_size(desk: Desk) -> None:
    answer = desk.ask("can I run llama 3.3 70b on 8*24G gpus")
    assert answer.mode == "computed" and "8 GPUs with 24 GB each has 192 GB" in answer.text


def test_speed_money_cloud_biggest_and_needs(desk: Desk) -> None:
    money = desk.ask("llama 3.1 8b on g5.2xlarge, what does it cost per hour?").text
    first = money.split("\n")[0]  # a cost question reads its answer first
    assert first.startswith("Llama 3.1 8B on an AWS g5.2xlarge") and "costs $1.21 an hour (on " \
        "demand, as of" in first and "per 1M output tokens" in first
    assert money.split("\n")[1].startswith("It fits: ")
    too_big = desk.ask("cost of llama 3.1 405b on a 4090").text  # does not fit: the verdict first
    assert too_big.startswith("No. Llama 3.1 405B")
    biggest = desk.ask("what's the biggest model I can run on a 3060 12GB").text
    assert biggest.startswith("The largest catalog models that fit entirely on an RTX 3060")
    needs = desk.ask("what gpu do i need for gemma 3 27b").text
    assert "The smallest single GPUs in the catalog that hold it" in needs
    cloud = desk.ask("which cloud instance should I rent for llama 3.3 70b").text
    assert "The cheapest listed instance that holds it is" in cloud
    assert re.search(r"\(1 x (L40S|L4|A10G|H100|A100)\b", cloud), cloud  # the card's name


def test_ambiguous_and_absurd_get_short_replies(desk: Desk) -> None:
    ambiguous = desk.ask("qwen 14b on my 4070?")
    assert ambiguous.mode == "clarify"
    assert ambiguous.text == "Which model do you mean: Qwen2.5 14B or Qwen3 14B?"
    same = desk.ask("3060 12gb enough for llama 8b?")
    assert same.mode == "computed" and "Llama 3 8B has the same size" in same.text
    for question in ("llama 3.1 8b on 10000 GPUs", "llama 3.1 8b with -5 GB of RAM"):
        reply = desk.ask(question)
        assert reply.mode == "clarify" and "\n" not in reply.text and len(reply.text) < 200


def test_follow_ups_use_the_subject(desk: Desk) -> None:
    history = [("user", "how big is gemma 3 27b at Q4_K_M?"), ("assistant", "About 16.5 GB.")]
    answer = desk.ask("and can i run it on my 4090?", history=history)
    assert answer.mode == "computed" and "Gemma 3 27B" in answer.text.split("\n")[0]
    about = desk.ask("will it fit on a 3060 12gb?", subject="llama 3.1 8b")
    assert about.text.startswith("Yes. Llama 3.1 8B")


def test_computed_answers_are_fast_and_safe(desk: Desk) -> None:
    desk.ask("llama 3.1 8b on a 4090")  # warm the fit cache
    answer = desk.ask("<@123> @everyone can I run qwen2.5 72b on an rtx 4090?")
    assert answer.timings["computed_ms"] < 200  # the bench holds the real target (p50)
    assert not has_mention_markup(answer.text)


def test_questions_without_a_model_or_machine_go_to_the_knowledge_base(desk: Desk) -> None:
    assert desk.compute("is a .pt file safe to load?") is None


def test_cli_ask_prints_the_computed_answer(monkeypatch, tmp_path, capsys) -> None:  # noqa: ANN001
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert main(["--env-file", "/nonexistent", "ask", "can I run qwen2.5 72b on a 4090?"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("No. Qwen2.5 72B") and "computed by the ModelDesk calculator" in out
    assert "Sources:" in out and "models.yaml" not in out.split("Sources:")[0]
    assert main(["--env-file", "/nonexistent", "ask", "will it fit on a 3090?", "--about",
                 "gemma 3 27b", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mode"] == "computed" and data["computed"]["model"]["id"] == "gemma-3-27b"


@pytest.fixture(scope="module")
def ollama_desk(tmp_path_factory, local_llm) -> Desk:  # noqa: ANN001
    """The real catalogs and the real Ollama page, indexed, with the bundled model."""
    import shutil

    from bot.core.services import Services

    root = tmp_path_factory.mktemp("ollama-kb")
    shutil.copytree(ROOT / "knowledge" / "data", root / "knowledge" / "data")
    (root / "knowledge" / "practice").mkdir()
    shutil.copy(ROOT / "knowledge" / "practice" / "ollama.md", root / "knowledge" / "practice")
    settings = load_settings(None, knowledge_dir=root / "knowledge", data_dir=root / "data")
    desk = Desk(Services(settings, llm=local_llm))
    desk.reindex()
    return desk


def test_a_why_question_is_answered_from_the_knowledge_base_with_the_verdict_after(
        ollama_desk: Desk) -> None:
    desk = ollama_desk
    question = ("I have two Nvidia L4 GPUs running Llama 3.1 8B in Ollama. I've set "
                "OLLAMA_NUM_PARALLEL to 3, but it doesn't seem to have any effect.")
    assert desk.quick(question) is None  # not the calculator's question: it goes to the queue
    answer, _ = desk.ask_with_evidence(question)
    assert answer.mode in ("generated", "extractive")
    assert "OLLAMA_NUM_PARALLEL" in answer.text.split("From the ModelDesk calculator:")[0]
    verdict = answer.text.split("From the ModelDesk calculator: ", 1)[1]
    assert verdict.startswith("Yes. Llama 3.1 8B at Q4_K_M needs about")
    assert "2 x L4 has 48 GB" in verdict
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert numbers == {c.number for c in answer.citations}  # every mark has its source


def test_a_dense_model_that_must_offload_hears_of_a_mixture_of_experts(desk: Desk) -> None:
    text = desk.ask("can I run gemma 4 31b on a 4060 8gb with 64gb ram").text
    line = next(x for x in text.split("\n") if "is dense" in x)
    dense = float(re.search(r"runs at about ([\d.]+) tokens/s", text).group(1))
    moe = float(re.search(r"Gemma 4 26B A4B at \S+ reads about 3.8B parameters per token and "
                          r"runs, offloaded the same way, at about ([\d.]+) tokens/s",
                          line).group(1))
    assert moe >= 2 * dense
    general = desk.ask("llama 3.3 70b on a 3090 with 64GB RAM").text
    assert "Coder" not in general.split("From the knowledge base")[0]
    on_3090 = desk.ask("will gemma 4 31b fit on a 3090 with 32k context").text
    assert "Gemma 4 26B A4B at Q4_K_M reads about 3.8B parameters per token and fits entirely" \
        in on_3090
    moe_asked = desk.ask("can I run qwen3.5 35b-a3b on my 4070 with 64gb ram").text
    assert "is dense" not in moe_asked
