"""Reproduce the eval run that chose the evidence-ranking weights in bot/core/evidence.py.

A grid over OVERLAP_WEIGHT, CHUNK_WEIGHT, CHUNK_RANK_PENALTY and POSITION_PENALTY: for each
combination the answer pipeline answers every question of an eval file with a language model
that writes nothing, so the answer is the best-ranked evidence quoted (what the ranking alone
decides), and the answer keyword recall is reported. The chosen weights are the best row.

    python scripts/tune_answer_weights.py [eval/questions.jsonl] [--quick]

A thin wrapper: the pipeline, retrieval and scoring are the core's own (bot.core.answer,
bot.core.evaluation); nothing here is a second implementation.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import load_settings  # noqa: E402
from bot.core import evidence as answer_module  # noqa: E402
from bot.core.evaluation import load_questions, run_eval  # noqa: E402
from bot.core.services import Services  # noqa: E402

GRID = {
    "OVERLAP_WEIGHT": (0.0, 0.3, 0.6),
    "CHUNK_WEIGHT": (0.5, 1.0),
    "CHUNK_RANK_PENALTY": (0.0, 0.2, 0.3),
    "POSITION_PENALTY": (0.0, 0.035, 0.05),
}


class SilentLLM:
    """Writes nothing: every answer is the ranking's own choice of quotes."""

    name = "silent"
    queue_depth = 0

    def stream_chat(self, messages: list[dict[str, str]], **_: object) -> Iterator[str]:
        return iter(())

    def close(self) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", default="eval/questions.jsonl")
    parser.add_argument("--quick", action="store_true", help="the first 40 questions only")
    args = parser.parse_args()
    questions = load_questions(Path(args.file))
    if args.quick:
        questions = questions[:40]
    services = Services(load_settings(None), llm=SilentLLM())  # type: ignore[arg-type]
    pipeline = services.pipeline
    rows = []
    for values in itertools.product(*GRID.values()):
        for name, value in zip(GRID, values, strict=True):
            setattr(answer_module, name, value)
        pipeline.ranker.clear()  # same sentences, new ranking
        out = run_eval(questions, lambda q, k: services.retriever.search(q, k=k),
                       answer=pipeline.answer_with_evidence)
        recall = out["metrics"]["answer_keyword_recall"]
        rows.append((recall, values))
        sys.stdout.write(" ".join(f"{n}={v:g}" for n, v in zip(GRID, values, strict=True))
                         + f"  recall={recall:.4f}\n")
    best = max(rows)
    sys.stdout.write("best: " + " ".join(f"{n}={v:g}" for n, v in zip(GRID, best[1], strict=True))
                     + f"  recall={best[0]:.4f}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
