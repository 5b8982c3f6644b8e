"""Per-user rate limits (a token bucket) and the bounded queue in front of the one model."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from bot.config import Settings
from bot.core.errors import Busy

log = logging.getLogger(__name__)


class RateLimiter:
    """A token bucket per user: `burst` questions at once, refilled at `per_minute` a minute.

    Three quick questions pass (the default burst); a fourth waits for the next token, and the
    person is told how long. A failed answer gives its token back.
    """

    def __init__(self, burst: int = 3, per_minute: float = 3.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = max(1, int(burst))
        self.rate = max(per_minute, 0.001) / 60.0  # tokens a second
        self._clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # user -> (tokens, at)

    def _tokens(self, user_id: int) -> float:
        tokens, at = self._buckets.get(user_id, (float(self.burst), self._clock()))
        return min(float(self.burst), tokens + (self._clock() - at) * self.rate)

    def retry_after(self, user_id: int) -> float:
        """Seconds until the user may ask again; 0 when they may ask now."""
        missing = 1.0 - self._tokens(user_id)
        return 0.0 if missing <= 0 else missing / self.rate

    def hit(self, user_id: int) -> float:
        """Take a token; returns the wait instead when the user has none left."""
        wait = self.retry_after(user_id)
        if wait > 0:
            return wait
        self._buckets[user_id] = (self._tokens(user_id) - 1.0, self._clock())
        if len(self._buckets) > 10_000:  # forget full buckets rather than grow forever
            self._buckets = {u: b for u, b in self._buckets.items()
                             if self._tokens(u) < self.burst}
        return 0.0

    def refund(self, user_id: int) -> None:
        """Give the token back (the answer failed through no fault of the user)."""
        if user_id in self._buckets:
            tokens = self._tokens(user_id)
            self._buckets[user_id] = (min(float(self.burst), tokens + 1.0), self._clock())

    # The adapter's interface, shared with the Redis limiter (whose calls are network I/O).
    async def ahit(self, user_id: int) -> float:
        """:meth:`hit`, awaitable like the shared limiter's."""
        return self.hit(user_id)

    async def arefund(self, user_id: int) -> None:
        """:meth:`refund`, awaitable like the shared limiter's."""
        self.refund(user_id)

    async def aclose(self) -> None:
        """Nothing to release in process."""


def wait_message(seconds: float) -> str:
    """What a user over the cooldown reads."""
    return f"Please wait {max(1, round(seconds))} s before asking again."


class ModelQueue:
    """A FIFO of at most `max_waiting` callers in front of `slots` workers (one for the
    in-process model; a model server may run several answers at once).

    `turn()` raises Busy when the queue is full; a queued caller hears its place through
    `on_queued(position)` (1 = next).
    """

    def __init__(self, max_waiting: int, slots: int = 1) -> None:
        self.max_waiting = max(0, max_waiting)
        self.slots = max(1, slots)
        self._holders = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return sum(1 for f in self._waiting if not f.done())

    @property
    def busy(self) -> bool:
        return self._holders >= self.slots

    def check(self) -> None:
        """Raise Busy now if a new caller could not even wait in line."""
        if self.busy and self.waiting >= self.max_waiting:
            raise Busy(
                f"The answer desk is full ({self.waiting} questions waiting); "
                "try again in a minute."
            )

    @asynccontextmanager
    async def turn(
        self, on_queued: Callable[[int], Awaitable[None]] | None = None
    ) -> AsyncIterator[None]:
        """Hold the model for the duration of the block."""
        self.check()
        if self.busy or self._waiting:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.append(future)
            if on_queued is not None:
                try:
                    await on_queued(self.waiting)
                except Exception:  # noqa: BLE001 - telling the place is best effort
                    log.warning("could not tell a caller its place in the queue", exc_info=True)
            try:
                await future
            except BaseException:
                if future in self._waiting:
                    self._waiting.remove(future)
                elif future.done() and not future.cancelled():
                    self._release()  # we were handed the turn while being cancelled
                raise
        else:
            self._holders += 1
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        while self._waiting:
            nxt = self._waiting.popleft()
            if not nxt.done():
                nxt.set_result(None)  # the turn passes on; the holder count stays
                return
        self._holders -= 1


def build_rate_limiter(settings: Settings) -> Any:
    """The per-member limiter: in Redis when REDIS_URL is set (shared by every process),
    else in this process's memory. Both have `ahit`, `arefund` and `aclose`."""
    if settings.redis_url:
        from bot.discord_app.shared_limits import RedisRateLimiter, connect

        return RedisRateLimiter(connect(settings.redis_url.get_secret_value()), settings.rate_burst,
                                settings.rate_per_minute, namespace=settings.redis_prefix)
    return RateLimiter(settings.rate_burst, settings.rate_per_minute)


def build_model_queue(settings: Settings) -> Any:
    """The line in front of the model. With REDIS_URL and a model server shared by every
    process (LLM_BASE_URL), one line in Redis; an in-process model has its own line."""
    if settings.redis_url and settings.backend == "openai":
        from bot.discord_app.shared_limits import RedisModelQueue, connect

        return RedisModelQueue(connect(settings.redis_url.get_secret_value()), settings.queue_max,
                               slots=settings.llm_slots, namespace=settings.redis_prefix)
    slots = settings.llm_slots if settings.backend == "openai" else 1
    return ModelQueue(settings.queue_max, slots=slots)
