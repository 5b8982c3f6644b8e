"""The eval of computed answers: questions in people's words about running a model on a machine
(eval/real_fit_questions.jsonl), each labelled with the model, machine, GPU count, quantization
and context a careful reader takes from it.

For every labelled fit, speed or money question the calculator is run twice: on the labels
(the expected verdict and figure) and on what ModelDesk understood from the words. The verdict
is right when both say the same about fitting; the figure is right when the totals agree.
Ambiguous questions are right when ModelDesk asks back or names one of the candidates; absurd
ones when it gives a reason instead of a figure.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.core.computed import DEFAULT_CONTEXT, DEFAULT_QUANT, machine_for
from bot.core.costs import estimate_cost
from bot.core.desk import Desk
from bot.core.errors import InvalidInput, ModelDeskError
from bot.core.understand import Understanding

VERDICT_INTENTS = ("fit", "speed", "money", "compare", "cloud")


def load_fit_questions(path: Path) -> list[dict[str, Any]]:
    """Read the labelled questions; a bad line is an InvalidInput naming the line."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            assert isinstance(row["question"], str) and "intent" in row
        except (ValueError, KeyError, AssertionError) as exc:
            raise InvalidInput(f"{path}:{n}: not a labelled fit question ({exc})") from None
        rows.append(row)
    return rows


def _expected(row: dict[str, Any], desk: Desk) -> tuple[bool, int] | None:
    catalog = desk.catalog
    u = Understanding()
    hw = row.get("hardware")
    if not row.get("models") or not hw:
        return None
    u.models = [catalog.model(row["models"][0])]
    try:
        u.cloud = catalog.cloud_named(hw)
    except ModelDeskError:
        u.hardware, u.gpus = catalog.hardware_named(hw), int(row.get("gpus") or 1)
    machine = machine_for(u, catalog)
    if machine is None:
        return None
    model = u.models[0]
    try:
        est = estimate_cost(model, quant=row.get("quant") or DEFAULT_QUANT,
                            context=min(row.get("context") or DEFAULT_CONTEXT, model.context),
                            hardware=machine.hardware, gpus=machine.gpus, catalog=catalog)
    except InvalidInput:  # e.g. two Macs: the calculator does not model them
        return None
    return bool(est.fits), est.total_bytes


def run_fit_eval(rows: list[dict[str, Any]], desk: Desk) -> dict[str, Any]:
    """Score every question; returns metrics and one result per question."""
    results = []
    timings: list[float] = []
    for row in rows:
        started = time.perf_counter()
        answer = desk.compute(row["question"])
        timings.append((time.perf_counter() - started) * 1000)
        est = answer.estimate if answer is not None else None
        result: dict[str, Any] = {"id": row["id"], "intent": row["intent"],
                                  "question": row["question"],
                                  "mode": answer.mode if answer else "knowledge base",
                                  "answer": answer.text.split("\n")[0] if answer else None}
        if row["intent"] == "absurd":
            result["right"] = answer is not None and answer.mode == "clarify"
        elif row.get("ambiguous"):
            result["right"] = answer is not None and (
                answer.mode == "clarify" or (est is not None and est.model.id in row["models"])
                or answer.mode == "computed")
        elif row["intent"] in VERDICT_INTENTS:
            expected = _expected(row, desk)
            if expected is None:
                continue
            result["expected_fits"], result["expected_total_bytes"] = expected
            result["fits"] = None if est is None else bool(est.fits)
            result["total_bytes"] = None if est is None else est.total_bytes
            result["right"] = result["fits"] == expected[0]
            result["figure_right"] = result["total_bytes"] == expected[1]
        else:
            result["right"] = answer is not None and answer.mode in ("computed", "clarify")
        results.append(result)
    verdicts = [r for r in results if "expected_fits" in r]
    metrics = {
        "questions": len(rows),
        "scored": len(results),
        "verdict_right": round(sum(r["right"] for r in verdicts) / max(1, len(verdicts)), 3),
        "figure_right": round(sum(r["figure_right"] for r in verdicts) / max(1, len(verdicts)),
                              3),
        "verdict_questions": len(verdicts),
        "ambiguous_handled": _share(results, rows, lambda r: bool(r.get("ambiguous"))),
        "absurd_refused": _share(results, rows, lambda r: r["intent"] == "absurd"),
        "answered_by_calculator": round(sum(r["mode"] in ("computed", "clarify")
                                            for r in results) / max(1, len(results)), 3),
        "computed_ms_p50": round(statistics.median(timings), 2) if timings else 0.0,
    }
    return {"metrics": metrics, "results": results}


def _share(results: list[dict[str, Any]], rows: list[dict[str, Any]],
           pick: Callable[[dict[str, Any]], bool]) -> float:
    ids = {r["id"] for r in rows if pick(r)}
    chosen = [r for r in results if r["id"] in ids]
    right = sum(1 for r in chosen if r["right"])
    return round(right / max(1, len(chosen)), 3)
