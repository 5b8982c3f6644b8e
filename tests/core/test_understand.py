"""Reading a question as people write it: models, machines, counts, quantization, context,
intent; ambiguity and absurd input. Pure: the real catalogs, no models loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.catalog import Catalog
from bot.core.understand import understand

ROOT = Path(__file__).resolve().parents[2]
CATALOG = Catalog.load(ROOT / "knowledge" / "data")


@pytest.mark.parametrize(("question", "model"), [
    ("can I run qwen2.5 72b on a single rtx 4090?", "qwen2.5-72b"),
    ("does llama3.1:70b fit on 2x 3090", "llama-3.1-70b"),
    ("Qwen/Qwen3.6-27B on a 5060 ti 16gb", "qwen3.6-27b"),
    ("meta-llama/Meta-Llama-3.1-405B-Instruct-FP8 on 8xH100", "llama-3.1-405b"),
    ("gemma3:12b-it-qat on my 3060", "gemma-3-12b"),
    ("how fast is gpt-oss 20b on an M2 Ultra 192GB", "gpt-oss-20b"),
    ("Llama3-70B-Instruct on an L40s", "llama-3-70b"),
    ("deepseek-v3 on 8 h100s", "deepseek-v3"),
])
def test_models_are_found_however_written(question: str, model: str) -> None:
    assert [m.id for m in understand(question, CATALOG).models][:1] == [model]


@pytest.mark.parametrize(("question", "hardware", "gpus"), [
    ("qwen2.5 7b on my 4070?", "rtx-4070", 1),
    ("llama 3.1 8b on rtx4070", "rtx-4070", 1),
    ("llama 3.1 8b on a 3060 12GB", "rtx-3060-12gb", 1),
    ("llama 3.1 70b on 2x 3090", "rtx-3090", 2),
    ("llama 3.1 70b on dual 4090", "rtx-4090", 2),
    ("llama 3.1 405b on 8 H100s", "h100-sxm", 8),
    ("llama 3.1 70b on eight T4", "t4", 8),
    ("llama 3.1 405b on 8xH100", "h100-sxm", 8),
    ("gpt-oss 120b on an M2 Ultra 192GB", "apple-m2-ultra-192gb", 1),
    ("qwen3.6 27b on a 5060 ti 16gb", "rtx-5060-ti-16gb", 1),
    ("qwen3.6 27b on an rtx 5080", "rtx-5080", 1),
    ("qwen3.6 35b-a3b on M5 Max", "apple-m5-max-128gb", 1),
    ("gpt-oss 120b on a DGX Spark", "nvidia-dgx-spark", 1),
    ("qwen3.5 122b-a10b on strix halo", "ryzen-ai-max-395-128gb", 1),
    # A spec sheet pasted from a forum post: "GPU: 8" is a count, not a laptop GPU's name.
    ("How large can the Deepseek R1 model be deployed with 8 * 4090,256G memory? CPU: 80 "
     "GPU: 8 * 4090 Memory: 256G", "rtx-4090", 8),
    ("does qwen3 32b fit in an A100GB", "a100-80gb", 1),
])
def test_machines_and_counts(question: str, hardware: str, gpus: int) -> None:
    u = understand(question, CATALOG)
    assert u.hardware is not None and (u.hardware.id, u.gpus) == (hardware, gpus)


def test_a_mac_with_an_unlisted_memory_size_keeps_its_chip() -> None:
    u = understand("llama 4 scout on an M4 Max with 48 GB", CATALOG)
    assert u.hardware is not None and u.hardware.memory_gb == 48
    listed = CATALOG.hardware_named("apple-m4-max-64gb")
    assert u.hardware.bandwidth_gbps == listed.bandwidth_gbps


@pytest.mark.parametrize(("question", "cloud"), [
    ("llama 3.1 8b on g5.2xlarge", "aws-g5.2xlarge"),
    ("gemma 4 31b on colab t4", "colab-free-t4"),
    ("llama 2 13b on a ml.g4dn.12xlarge with sagemaker", "aws-g4dn.12xlarge"),
    ("llama 3.1 405b on ml.p5.48xlarge (8xH100)", "aws-p5.48xlarge"),
])
def test_cloud_instances(question: str, cloud: str) -> None:
    u = understand(question, CATALOG)
    assert u.cloud is not None and u.cloud.id == cloud


@pytest.mark.parametrize(("question", "quant"), [
    ("llama 3.1 8b at 4-bit", "Q4_K_M"), ("llama 3.1 8b q4", "Q4_K_M"),
    ("llama 3.1 8b Q5_K_M", "Q5_K_M"), ("llama 3.1 8b in 8 bit", "Q8_0"),
    ("llama 3.1 8b fp16", "F16"), ("llama 3.1 8b AWQ", "Q4_K_M"), ("llama 3.1 8b FP8", "Q8_0"),
    ("gemma 3 27b Q4KM", "Q4_K_M"), ("llama 3.1 8b with load_4bit=True", "Q4_K_M"),
    ("llama 2 13b on a g4dn.12xlarge (QUANTIZE: bitsandbytes)", "Q8_0"),
    ("llama 2 13b with bitsandbytes 4-bit on a T4", "Q4_K_M"),
    ("llama 2 13b in nf4 on a T4", "Q4_K_M"),
    ("Meta-Llama-3.1-405B-Instruct-FP8 on 8xH100", "Q8_0"),
])
def test_quantization(question: str, quant: str) -> None:
    assert understand(question, CATALOG).quant == quant


@pytest.mark.parametrize(("question", "context"), [
    ("llama 3.1 8b with 64k context", 65536), ("qwen3.6 27b at 120K context", 120000),
    ("llama 3.1 8b, context of 8192", 8192), ("qwen3.6 27b with 20k tokens", 20000),
    ("llama 3.1 8b at 60 tokens/s", None), ("llama 3 8b, 2000 tokens per second", None),
])
def test_context(question: str, context: int | None) -> None:
    assert understand(question, CATALOG).context == context


def test_users_prices_power_and_ram() -> None:
    u = understand("llama 3.1 8b for 10 users at $2.50/hour, $0.30/kWh, 350W, 64GB of RAM",
                   CATALOG)
    assert (u.users, u.usd_per_hour, u.usd_per_kwh, u.power_w, u.ram_gb) == (
        10, 2.5, 0.3, 350, 64)
    assert understand("a 70b model on my 8gb laptop gpu", CATALOG).vram_gb == 8
    assert understand("my GPU has 4GB, can it run llama 3.2 3b", CATALOG).vram_gb == 4
    assert understand("llama 3.1 8b cpu only with 32GB of RAM", CATALOG).cpu_only


@pytest.mark.parametrize(("question", "intent"), [
    ("can I run qwen2.5 72b on a 4090?", "fit"),
    ("how fast is llama 3.1 8b on a 3060 12gb", "speed"),
    ("how much would llama 3.1 70b cost per hour on a g5.12xlarge", "money"),
    ("what's the biggest model I can run on a 3060 12GB", "biggest"),
    ("what gpu do i need for deepseek r1", "needs"),
    ("which cloud instance should I rent for llama 3.3 70b", "cloud"),
    ("llama 3.1 8b vs qwen3 8b on a 4060", "compare"),
])
def test_intent(question: str, intent: str) -> None:
    assert understand(question, CATALOG).intent == intent


def test_ambiguity_is_a_question_not_a_guess() -> None:
    u = understand("qwen 14b on my 4070?", CATALOG)  # Qwen3 14B and Qwen2.5 14B differ in size
    assert not u.models and u.ambiguous
    assert set(u.ambiguous[0]) == {"qwen3-14b", "qwen2.5-14b"}


def test_names_of_the_same_size_are_not_ambiguous() -> None:
    # Llama 3 8B and Llama 3.1 8B have the same layers, heads and parameters: the figures are
    # the same for both, so the newest is computed and the other is named.
    u = understand("3060 12gb enough for llama 8b?", CATALOG)
    assert [m.id for m in u.models] == ["llama-3.1-8b"] and u.same_size == ["Llama 3 8B"]


def test_it_resolves_to_the_subject() -> None:
    u = understand("can i run it on my 3090?", CATALOG, subject="how big is llama 3.1 8b?")
    assert [m.id for m in u.models] == ["llama-3.1-8b"] and u.from_subject
    alone = understand("can i run it on my 3090?", CATALOG)
    assert not alone.models


@pytest.mark.parametrize(("question", "reason"), [
    ("llama 3.1 8b with -5 GB of RAM", "not possible"),
    ("llama 3.1 8b on 10000 GPUs", "beyond what the calculator models"),
    ("llama 3.1 8b with a context of 0 tokens", "not possible"),
    ("mistral 7b on -3 H100s", "at least one GPU"),
    ("llama 3.1 8b at 0-bit", "do not exist"),
])
def test_absurd_input_gets_a_reason(question: str, reason: str) -> None:
    problems = understand(question, CATALOG).problems
    assert problems and reason in problems[0]


def test_questions_that_are_not_for_the_calculator() -> None:
    for q in ("is a .pt file safe to load?", "what is the llama license 700 million clause",
              "why does ollama forget the start of my conversation"):
        assert not understand(q, CATALOG).actionable, q


def test_a_memory_size_the_model_uses_is_not_the_machine() -> None:
    u = understand("18GB model blows up to 145GB VRAM usage for 128K context length. ollama ps: "
                   "glm-4.7-flash:latest", CATALOG)
    assert u.vram_gb is None and u.hardware is None
    assert [m.id for m in u.models] == ["glm-4.7-flash"]


def test_several_cards_given_by_memory_size() -> None:
    u = understand("can I run llama 3.3 70b on 8*24G gpus", CATALOG)
    assert (u.vram_gb, u.gpus) == (24, 8)


def test_an_output_length_is_not_a_context() -> None:
    u = understand("I have a M2 MBP with 8GB memory and llama-7b. It takes more than 3 min to "
                   "just generate 48 tokens.", CATALOG)
    assert u.context is None
    assert understand("qwen3 8b with 20k tokens on a 4070", CATALOG).context == 20000


def test_a_card_the_catalog_does_not_list_keeps_its_memory() -> None:
    u = understand("can I run Qwen 3.8 27b on RTX 2060 8GB + 48GB RAM?", CATALOG)
    assert (u.card_name, u.vram_gb, u.ram_gb) == ("RTX 2060", 8, 48)


@pytest.mark.parametrize(("question", "explains"), [
    ("why speculate decoding is slower than normal decoding? meta-llama/Llama-3.1-8B-Instruct "
     "on 1 H100", True),
    ("[Usage]: why speculate decoding is slower than normal decoding？ MODEL_NAME = "
     "meta-llama/Llama-3.1-8B-Instruct", True),
    ("two L4 GPUs with llama 3.1 8b in Ollama: OLLAMA_NUM_PARALLEL=3 doesn't seem to have any "
     "effect", True),
    ("ValueError: The model's max seq len (131072) is larger than the KV cache. 2 RTX 3090 "
     "(Llama3.1-8B-instruct)", True),
    ("why doesn't llama 3.1 70b fit on my 4090", False),  # asks for the figures
    ("can I run qwen2.5 72b on a single rtx 4090?", False),
])
def test_why_and_how_to_questions_are_for_the_knowledge_base(question: str,
                                                             explains: bool) -> None:
    assert understand(question, CATALOG).explains is explains


def test_a_family_without_a_size_gets_a_question_back() -> None:
    u = understand("can I run gemma 4 on my 4070", CATALOG)
    assert not u.models and len(u.ambiguous[0]) == 3
    assert all(i.startswith("gemma-4-") for i in u.ambiguous[0])
    assert understand("how much vram does qwen3.5 need", CATALOG).ambiguous
    for general in ("can i use llama 3.1 commercially in my app? any strings attached",
                    "how do i turn off the thinking thing in qwen3 its too slow",
                    "olmo 2 context length is it really only 4k"):
        assert not understand(general, CATALOG).ambiguous, general  # not a sizing question
    only = understand("llama 3.3 on 2x h100", CATALOG)  # one model in that family
    assert [m.id for m in only.models] == ["llama-3.3-70b"]


def test_words_people_use_for_counts_and_contexts() -> None:
    u = understand("If I have 30G RAM and 8*24G A10g, can I run llama 2 70b?", CATALOG)
    assert (u.hardware and u.hardware.id, u.gpus) == ("a10g", 8)
    assert understand("2x 24GB 3090 for qwen3 32b?", CATALOG).gpus == 2
    assert understand("I have 24GB 3090, qwen3 32b?", CATALOG).gpus == 1
    u = understand("Qwen3.8-27B on RTX 3060, would want to double the context to 64k", CATALOG)
    assert u.context == 65536
    u = understand("Llama 3 8B on an A100 reached about 2000 tokens per second... this page "
                   "states 6552 tokens", CATALOG)
    assert u.context is None
    assert understand("llama 3.1 8b with 32000 tokens on a 4090", CATALOG).context == 32000


def test_a_kv_cache_question_about_a_named_model_is_for_the_calculator() -> None:
    u = understand("nemotron 3 nano 30b kv cache at 128k context", CATALOG)
    assert [m.id for m in u.models] == ["nemotron-3-nano-30b-a3b"] and u.intent == "memory"
    assert u.actionable


def test_granite_4_sizes_by_the_names_people_use() -> None:
    u = understand("granite 4 small on a 24GB card with 128k context", CATALOG)
    assert [m.id for m in u.models] == ["granite-4.0-h-small"] and u.intent == "fit"
    assert [m.id for m in understand("granite 4 tiny on 8gb", CATALOG).models] == [
        "granite-4.0-h-tiny"]
