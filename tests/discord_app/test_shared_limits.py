"""Rate limits and the model queue in a real Redis-compatible server (Valkey), shared by two
clients as two bot processes would share them."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.core.errors import BackendUnavailable, Busy
from bot.discord_app.shared_limits import RedisModelQueue, RedisRateLimiter, connect

pytestmark = [pytest.mark.servers, pytest.mark.asyncio]
ALICE, BOB = 111, 222


@pytest.fixture
def namespace() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


async def _limiters(url: str, namespace: str, n: int = 2, **kw) -> list[RedisRateLimiter]:
    return [RedisRateLimiter(connect(url), namespace=namespace, **kw) for _ in range(n)]


async def test_a_members_burst_holds_across_two_processes(redis_server, namespace) -> None:
    one, two = await _limiters(redis_server.url, namespace, burst=3, per_minute=3.0)
    try:
        assert await one.ahit(ALICE) == 0 and await two.ahit(ALICE) == 0
        assert await one.ahit(ALICE) == 0
        wait = await two.ahit(ALICE)
        assert 0 < wait <= 20.0  # 3 a minute: the next token in at most 20 s
        assert await one.ahit(ALICE) > 0
        assert await two.ahit(BOB) == 0  # another member has their own bucket
        await one.arefund(ALICE)  # a failed answer gives the token back, seen by both
        assert await two.ahit(ALICE) == 0
    finally:
        await one.aclose()
        await two.aclose()


async def test_simultaneous_questions_never_pass_more_than_the_burst(redis_server,
                                                                     namespace) -> None:
    limiters = await _limiters(redis_server.url, namespace, n=4, burst=3, per_minute=1.0)
    try:
        waits = await asyncio.gather(*(limiters[i % 4].ahit(ALICE) for i in range(40)))
        assert sum(1 for w in waits if w == 0) == 3
    finally:
        for lim in limiters:
            await lim.aclose()


async def test_an_unreachable_store_is_a_sentence_not_a_crash(namespace) -> None:
    from real_servers import free_port

    from bot.discord_app.errors import user_message

    (lim,) = await _limiters(f"redis://127.0.0.1:{free_port()}/0", namespace, n=1)
    with pytest.raises(BackendUnavailable) as exc:
        await lim.ahit(ALICE)
    assert "try again" in user_message(exc.value)
    await lim.arefund(ALICE)  # best effort: logged, never raised
    await lim.aclose()


async def test_the_shared_queue_is_first_come_first_served_and_places_only_go_down(
        redis_server, namespace) -> None:
    queues = [RedisModelQueue(connect(redis_server.url), 5, namespace=namespace, poll_s=0.02)
              for _ in range(2)]
    order: list[int] = []
    told: dict[int, list[int]] = {}
    release = asyncio.Event()

    async def ask(n: int) -> None:
        async def on_queued(place: int) -> None:
            told.setdefault(n, []).append(place)

        async with queues[n % 2].turn(on_queued=on_queued):
            order.append(n)
            if n == 0:
                await release.wait()
            else:
                await asyncio.sleep(0.05)

    try:
        tasks = []
        for n in range(5):
            tasks.append(asyncio.create_task(ask(n)))
            await asyncio.sleep(0.1)  # join in order 0..4
        assert order == [0] and sorted(told) == [1, 2, 3, 4]
        assert [told[n][0] for n in range(1, 5)] == [1, 2, 3, 4]
        release.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=20)
        assert order == [0, 1, 2, 3, 4]
        for places in told.values():
            assert places == sorted(places, reverse=True) and len(set(places)) == len(places)
    finally:
        for q in queues:
            await q.aclose()


async def test_a_full_shared_line_refuses_and_a_dead_holder_frees_it(redis_server,
                                                                     namespace) -> None:
    q = RedisModelQueue(connect(redis_server.url), 0, namespace=namespace, poll_s=0.05)
    # A process that took the model and died: its ticket stays until the lease lapses.
    await q._join(keys=[q._line, q._lease, q._counter], args=["dead:1", 0, 1, 1])
    try:
        with pytest.raises(Busy):
            async with q.turn():
                pass
        await asyncio.sleep(1.2)
        async with q.turn():  # the dead ticket is dropped, the line is free
            pass
    finally:
        await q.aclose()
