from __future__ import annotations

import pytest

from bot.core.types import source_link


@pytest.mark.parametrize(("source", "link"), [
    ("https://docs.python.org/3/library/pickle.html", "https://docs.python.org/3/library/pickle.html"),
    ("huggingface/safetensors : README.md",
     "https://github.com/huggingface/safetensors/blob/HEAD/README.md"),
    ("ggml-org/llama.cpp : tools/quantize/README.md",
     "https://github.com/ggml-org/llama.cpp/blob/HEAD/tools/quantize/README.md"),
    ("arXiv 2401.05566 (Sleeper Agents)", "arXiv 2401.05566 (Sleeper Agents)"),
])
def test_sources_become_links_people_can_open(source: str, link: str) -> None:
    assert source_link(source) == link
