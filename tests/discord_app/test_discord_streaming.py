"""Streaming edits: at most about one per second, the latest text wins, nothing after close."""

from __future__ import annotations

import asyncio

from bot.discord_app.streaming import ThrottledEditor


async def test_edits_are_throttled_and_show_the_latest_text() -> None:
    edits: list[tuple[float, str]] = []
    loop = asyncio.get_running_loop()

    async def edit(text: str) -> None:
        edits.append((loop.time(), text))

    editor = ThrottledEditor(edit, interval=0.2)
    for i in range(30):
        editor.push(f"text {i}")
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.25)
    await editor.close()
    assert 2 <= len(edits) <= 5
    gaps = [b[0] - a[0] for a, b in zip(edits, edits[1:], strict=False)]
    assert all(gap >= 0.19 for gap in gaps)
    assert edits[-1][1] == "text 29"


async def test_no_edit_after_close() -> None:
    edits: list[str] = []

    async def edit(text: str) -> None:
        edits.append(text)

    editor = ThrottledEditor(edit, interval=0.5)
    editor.push("first")
    await asyncio.sleep(0.01)
    editor.push("second")  # waits for the interval
    await editor.close()
    editor.push("third")
    await asyncio.sleep(0.6)
    assert edits == ["first"]


async def test_pusher_hands_texts_from_a_worker_thread_to_the_loop() -> None:
    edits: list[str] = []

    async def edit(text: str) -> None:
        edits.append(text)

    editor = ThrottledEditor(edit, interval=0.05)
    push = editor.pusher(asyncio.get_running_loop())
    await asyncio.to_thread(push, "from a thread")
    await asyncio.sleep(0.1)
    await editor.close()
    assert edits == ["from a thread"]
