"""The eval contract: JSONL questions in, metrics and per-question results out.

Input lines: {"id", "question", "evidence": [[alt, ...], ...], "answer": [[alt, ...], ...],
"answerable"}. A chunk holds the evidence when every group has an alternative in its text,
case-insensitively.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.errors import InvalidInput
from bot.core.types import Answer, Chunk

# Computed answers put what the knowledge base adds after this mark.
KNOWLEDGE_MARK = "From the knowledge base: "
# Where a knowledge answer ends and the calculator's figures for the machine it names begin.
CALCULATOR_MARK = "From the ModelDesk calculator: "


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    evidence: list[list[str]]
    answer: list[list[str]]
    answerable: bool


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read an eval file; a bad line is an InvalidInput naming the line."""
    if not path.exists():
        raise InvalidInput(f"eval file {str(path)!r} does not exist")
    out: list[EvalQuestion] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            out.append(
                EvalQuestion(
                    id=str(obj["id"]),
                    question=str(obj["question"]),
                    evidence=[[str(a) for a in g] for g in obj.get("evidence", [])],
                    answer=[[str(a) for a in g] for g in obj.get("answer", [])],
                    answerable=bool(obj.get("answerable", True)),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"{path}:{n}: not an eval question ({exc})") from None
    if not out:
        raise InvalidInput(f"eval file {str(path)!r} holds no questions")
    return out


def _norm(text: str) -> str:
    # A phrase broken across a line in the source text still counts.
    return " ".join(text.lower().split())


def groups_match(groups: Sequence[Sequence[str]], text: str) -> bool:
    low = _norm(text)
    return bool(groups) and all(any(_norm(alt) in low for alt in g) for g in groups)


def group_recall(groups: Sequence[Sequence[str]], text: str) -> float:
    if not groups:
        return 1.0
    low = _norm(text)
    return sum(any(_norm(alt) in low for alt in g) for g in groups) / len(groups)


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _retrieved_json(chunks: Sequence[Chunk]) -> list[dict[str, Any]]:
    return [
        {"text": c.text, "source": c.source, "title": c.title, "heading": c.heading,
         "file": c.file, "score": c.score}
        for c in chunks
    ]


def answer_timings(ans: Answer) -> dict[str, float]:
    """The answer's timings with `first_visible_ms`: when the first readable text appeared.

    That is the preview (best quote and sources) when there was one; a computed or "not
    covered" answer appears whole, so then it is the answer's total time.
    """
    timings = dict(ans.timings)
    visible = timings.get("preview_ms", timings.get("total_ms"))
    if visible is not None:
        timings["first_visible_ms"] = visible
    return timings


def run_eval(
    questions: Sequence[EvalQuestion],
    search: Callable[[str, int], list[Chunk]],
    *,
    k: int = 5,
    answer: Callable[[str], tuple[Answer, list[Chunk]]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Evaluate retrieval, and answers when `answer` is given.

    Args:
        questions: the eval set.
        search: question, k -> ranked chunks.
        k: cut-off for hit@k.
        answer: question -> (Answer, evidence chunks the answer was checked against).
        progress: called with (done, total).
    """
    results: list[dict[str, Any]] = []
    hits1 = hitsk = 0
    rr: list[float] = []
    retrieval_ms: list[float] = []
    answer_ms: list[float] = []
    first_token_ms: list[float] = []
    first_visible_ms: list[float] = []
    recalls: list[float] = []
    unknown_right = 0
    unsupported_numbers = unsupported_urls = 0
    answerable = [q for q in questions if q.answerable]
    for n, q in enumerate(questions, 1):
        t0 = time.perf_counter()
        chunks = search(q.question, k)
        retrieval_ms.append((time.perf_counter() - t0) * 1000)
        rank = next((i for i, c in enumerate(chunks, 1) if groups_match(q.evidence, c.text)), None)
        if q.answerable:
            hits1 += rank == 1
            hitsk += rank is not None
            rr.append(1.0 / rank if rank else 0.0)
        row: dict[str, Any] = {
            "id": q.id,
            "question": q.question,
            "answerable": q.answerable,
            "hit_rank": rank,
            "retrieved": _retrieved_json(chunks),
            "answer": None,
            "mode": "retrieval",
            "citations": [],
            "timings": {"retrieve_ms": round(retrieval_ms[-1], 2)},
        }
        if answer is not None:
            from bot.core.grounding import unsupported_numbers_and_urls

            ans, evidence = answer(q.question)
            timings = answer_timings(ans)
            row.update(answer=ans.text, mode=ans.mode,
                       citations=[c.__dict__ for c in ans.citations],
                       timings={**row["timings"], **timings})
            answer_ms.append(ans.timings.get("total_ms", 0.0))
            if "first_visible_ms" in timings:
                first_visible_ms.append(timings["first_visible_ms"])
            if "first_token_ms" in ans.timings:
                first_token_ms.append(ans.timings["first_token_ms"])
            unknown_right += (ans.mode == "unknown") == (not q.answerable)
            if q.answerable:
                recalls.append(group_recall(q.answer, ans.text))
            checked = ans.text
            if ans.mode in ("computed", "clarify"):
                # The calculator's figures are evidence themselves; only the knowledge quotes
                # after them must be in the retrieved passages.
                checked = ans.text.split(KNOWLEDGE_MARK, 1)[1] if KNOWLEDGE_MARK in ans.text \
                    else ""
            # The calculator's figures after a knowledge answer are evidence themselves too.
            checked = checked.split(CALCULATOR_MARK, 1)[0]
            if ans.mode != "unknown":
                nums, urls = unsupported_numbers_and_urls(checked, [c.text for c in evidence])
                unsupported_numbers += len(nums)
                unsupported_urls += len(urls)
                row["unsupported"] = nums + urls
        results.append(row)
        if progress:
            progress(n, len(questions))
    m = max(1, len(answerable))
    metrics: dict[str, Any] = {
        "questions": len(questions),
        "answerable": len(answerable),
        "k": k,
        "hit@1": round(hits1 / m, 4),
        f"hit@{k}": round(hitsk / m, 4),
        "mrr": round(sum(rr) / m, 4),
        "retrieval_ms_p50": round(percentile(retrieval_ms, 0.5), 2),
        "retrieval_ms_p95": round(percentile(retrieval_ms, 0.95), 2),
    }
    if answer is not None:
        metrics.update(
            {
                "answer_keyword_recall": round(statistics.fmean(recalls), 4) if recalls else 0.0,
                "unknown_accuracy": round(unknown_right / max(1, len(questions)), 4),
                "unsupported_numbers": unsupported_numbers,
                "unsupported_urls": unsupported_urls,
                "answer_ms_p50": round(percentile(answer_ms, 0.5), 1),
                "answer_ms_p95": round(percentile(answer_ms, 0.95), 1),
                "first_token_ms_p50": round(percentile(first_token_ms, 0.5), 1),
                "first_visible_ms_p50": round(percentile(first_visible_ms, 0.5), 1),
                "modes": {mode: sum(r["mode"] == mode for r in results)
                          for mode in ("generated", "extractive", "unknown", "computed",
                                       "clarify")},
            }
        )
    return {"metrics": metrics, "results": results}
