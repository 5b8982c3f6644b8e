"""Cooldowns and the model queue: users over the limit are told, nobody is dropped silently."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.errors import Busy
from bot.discord_app.limits import ModelQueue, RateLimiter, wait_message


def test_three_quick_questions_pass_and_the_fourth_is_told_when() -> None:
    now = [100.0]
    limit = RateLimiter(burst=3, per_minute=3, clock=lambda: now[0])
    assert [limit.hit(1) for _ in range(3)] == [0, 0, 0]  # a burst people do not notice
    assert limit.hit(1) == pytest.approx(20)  # one token every 20 s at 3 a minute
    assert limit.hit(2) == 0  # per user
    assert wait_message(limit.retry_after(1)) == "Please wait 20 s before asking again."
    now[0] += 5
    assert limit.retry_after(1) == pytest.approx(15)
    limit.refund(1)  # a failed answer gives its token back
    assert limit.hit(1) == 0
    now[0] += 60
    assert limit.retry_after(1) == 0
    assert [limit.hit(1) for _ in range(3)] == [0, 0, 0]  # refilled, never beyond the burst
    assert limit.hit(1) > 0


async def test_queue_serves_in_order_and_tells_each_caller_its_place() -> None:
    queue = ModelQueue(max_waiting=2)
    order: list[str] = []
    places: dict[str, int] = {}
    gate = asyncio.Event()

    async def job(name: str) -> None:
        async def told(position: int) -> None:
            places[name] = position

        async with queue.turn(on_queued=told):
            order.append(name)
            if name == "a":
                await gate.wait()

    first = asyncio.create_task(job("a"))
    await asyncio.sleep(0)
    others = [asyncio.create_task(job(n)) for n in ("b", "c")]
    await asyncio.sleep(0.01)
    assert places == {"b": 1, "c": 2}
    with pytest.raises(Busy, match="full"):
        async with queue.turn():
            pass
    gate.set()
    await asyncio.gather(first, *others)
    assert order == ["a", "b", "c"]
    assert not queue.busy and queue.waiting == 0


async def test_a_cancelled_waiter_does_not_block_the_queue() -> None:
    queue = ModelQueue(max_waiting=3)
    gate = asyncio.Event()
    served: list[str] = []

    async def job(name: str) -> None:
        async with queue.turn():
            served.append(name)
            if name == "a":
                await gate.wait()

    a = asyncio.create_task(job("a"))
    await asyncio.sleep(0)
    b = asyncio.create_task(job("b"))
    c = asyncio.create_task(job("c"))
    await asyncio.sleep(0.01)
    b.cancel()
    gate.set()
    await asyncio.gather(a, c)
    assert served == ["a", "c"]
    assert not queue.busy


async def test_a_model_server_with_two_slots_answers_two_at_once() -> None:
    queue = ModelQueue(max_waiting=2, slots=2)
    running: list[str] = []
    places: dict[str, int] = {}
    gate = asyncio.Event()

    async def job(name: str) -> None:
        async def told(position: int) -> None:
            places[name] = position

        async with queue.turn(on_queued=told):
            running.append(name)
            await gate.wait()

    tasks = [asyncio.create_task(job(n)) for n in ("a", "b", "c")]
    await asyncio.sleep(0.01)
    assert running == ["a", "b"] and places == {"c": 1}  # two run, the third is next
    gate.set()
    await asyncio.gather(*tasks)
    assert running == ["a", "b", "c"] and not queue.busy and queue.waiting == 0
