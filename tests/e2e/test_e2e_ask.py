"""/ask as a Discord user sees it: fast acknowledgement, streamed edits, cited answer, votes."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from e2e_support import ANSWER_TIMEOUT, MEASURED, Desk, LagTicker

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

SOURCE_LINE = re.compile(r"^\d+\. .+", re.MULTILINE)


async def test_ask_is_acknowledged_fast_and_the_answer_cites_numbered_sources(desk: Desk) -> None:
    fake = desk.fake
    ticker = LagTicker().start()
    beats_before = len(fake.heartbeats)
    inter = await fake.slash(
        "ask", {"question": "Can loading a .pt checkpoint from a stranger run code?"}, user="alice"
    )
    await fake.wait_until(lambda: inter.callback_at, timeout=3)
    ack = inter.callback_at - inter.sent_at
    assert ack < 3.0
    assert inter.callbacks[0]["type"] == 5  # deferred: "ModelDesk is thinking…"
    MEASURED["/ask acknowledgement (s)"] = round(ack, 3)

    await fake.wait_until(lambda: desk.finished(inter), timeout=ANSWER_TIMEOUT)
    await ticker.stop()
    MEASURED["event-loop lag during the first (cold) /ask: max / mean (ms)"] = ticker.describe()
    assert ticker.worst < 0.1
    beats = fake.heartbeats[beats_before:]
    gaps = [b - a for a, b in zip(beats, beats[1:], strict=False)]
    MEASURED["heartbeats during the first /ask: count, longest gap (s)"] = (
        f"{len(beats)}, {max(gaps, default=0):.3f}"
    )
    assert gaps and max(gaps) < fake.heartbeat_interval_ms / 1000 + 0.5
    final = inter.original
    assert final is not None and not inter.followups
    content = final["content"]
    assert "**Sources**" in content
    sources = content.split("**Sources**", 1)[1]
    assert SOURCE_LINE.search(sources), content
    assert "1. " in sources and ("pickle" in sources.lower() or "checkpoint" in sources.lower())
    assert re.search(r"(written by|Quoted from) .*numbered sources", content)
    buttons = [c["custom_id"] for row in final["components"] for c in row["components"]]
    assert len(buttons) == 2 and all(b.startswith("modeldesk:vote:") for b in buttons)

    edits = [r for r in fake.requests
             if r.method == "PATCH" and r.path.endswith(f"{inter.token}/messages/@original")]
    assert edits, "the answer never replaced the thinking message"
    # The first edit after the acknowledgement already shows the sources (a preview), and the
    # final edit is the checked answer, which replaces it.
    first_edit = (edits[0].json or {}).get("content", "")
    assert "**Sources**" in first_edit, first_edit
    MEASURED["/ask first readable text (s)"] = round(edits[0].at - inter.sent_at, 3)
    assert "Writing the answer" not in content
    stream = [r.at for r in edits[:-1]]  # the final edit is not throttled
    gaps = [b - a for a, b in zip(stream, stream[1:], strict=False)]
    assert all(gap >= 0.9 for gap in gaps), gaps
    MEASURED["/ask streaming edits"] = len(edits)
    MEASURED["/ask total (s)"] = round(final_at(fake, inter) - inter.sent_at, 2)

    # A thumbs-up is stored with the answer and acknowledged privately.
    click = await fake.click(final, buttons[0], user="bob")
    await fake.wait_until(lambda: click.callbacks, timeout=10)
    reply = click.callbacks[0]
    assert reply["type"] == 4 and reply["data"]["flags"] & 64
    assert "👍" in reply["data"]["content"]
    summary = await asyncio.to_thread(desk.bot.desk.feedback.summary)
    assert summary["up"] == 1
    rows = await asyncio.to_thread(desk.bot.desk.feedback.rows)
    assert rows[0]["question"].startswith("Can loading a .pt checkpoint")
    assert rows[0]["sources"] and "total_ms" in rows[0]["timings"]
    MEASURED["/ask pipeline timings (ms)"] = {k: round(v) for k, v in rows[0]["timings"].items()}


def final_at(fake, inter) -> float:  # noqa: ANN001 - a test helper
    edits = [r.at for r in fake.requests if inter.token in r.path and r.method == "PATCH"]
    return edits[-1] if edits else time.perf_counter()
