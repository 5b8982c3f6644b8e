"""Rate limits and the model queue in Redis, shared by every bot process (REDIS_URL).

Each operation is one Lua script, so two processes can never both take a member's last token or
both think they are first in line. Time comes from the Redis server (`TIME`), not from each
process's clock. Keys expire on their own: a member who stops asking leaves nothing behind, and a
process that dies mid-wait drops out of the queue when its lease runs out.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.core.errors import BackendUnavailable, Busy

log = logging.getLogger(__name__)

PREFIX = "modeldesk"
SOCKET_TIMEOUT_S = 2.0
REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
STORE_DOWN = "The rate-limit store is unavailable right now; try again shortly."

# KEYS[1] bucket hash; ARGV burst, tokens a second, "hit" | "refund". Returns the wait (a string:
# Lua numbers would reach the client truncated to integers).
TOKEN_BUCKET = """
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
if ARGV[3] == 'refund' and not b[1] then return '0' end
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
if ARGV[3] == 'hit' then
  if tokens < 1 then return tostring((1 - tokens) / rate) end
  tokens = tokens - 1
else
  tokens = math.min(burst, tokens + 1)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return '0'
"""

# KEYS[1] waiting zset (ticket -> number), KEYS[2] lease prefix; ARGV ticket, slots.
# Drops tickets whose lease expired (a dead process), then returns the caller's place:
# 0 = its turn (among the first `slots`), n = n-th in line, -1 = not in line.
QUEUE_PLACE = """
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, m in ipairs(members) do
  if redis.call('EXISTS', KEYS[2] .. m) == 0 then redis.call('ZREM', KEYS[1], m) end
end
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
if not rank then return -1 end
local slots = tonumber(ARGV[2])
if rank < slots then return 0 end
return rank - slots + 1
"""

# KEYS[1] waiting zset, KEYS[2] lease prefix, KEYS[3] ticket counter; ARGV ticket, max waiting,
# slots, lease seconds. Joins the line unless it is full; returns the place or -2 when full.
QUEUE_JOIN = """
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, m in ipairs(members) do
  if redis.call('EXISTS', KEYS[2] .. m) == 0 then redis.call('ZREM', KEYS[1], m) end
end
local slots = tonumber(ARGV[3])
local n = redis.call('ZCARD', KEYS[1])
if n - slots >= tonumber(ARGV[2]) then return -2 end
redis.call('SET', KEYS[2] .. ARGV[1], '1', 'EX', tonumber(ARGV[4]))
redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[3]), ARGV[1])
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
if rank < slots then return 0 end
return rank - slots + 1
"""


def connect(url: str) -> Redis:
    """An asyncio Redis client with short timeouts (a dead store must not hang a reply)."""
    return Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT_S,
                          socket_connect_timeout=SOCKET_TIMEOUT_S, decode_responses=True)


class RedisRateLimiter:
    """The token bucket of :class:`~bot.discord_app.limits.RateLimiter`, kept in Redis."""

    def __init__(self, client: Redis, burst: int = 3, per_minute: float = 3.0,
                 namespace: str = PREFIX) -> None:
        self.client = client
        self.burst = max(1, int(burst))
        self.rate = max(per_minute, 0.001) / 60.0
        self.namespace = namespace
        self._script = client.register_script(TOKEN_BUCKET)

    def _key(self, user_id: int) -> str:
        return f"{self.namespace}:bucket:{user_id}"

    async def _run(self, user_id: int, op: str) -> float:
        try:
            result = await self._script(keys=[self._key(user_id)],
                                        args=[self.burst, repr(self.rate), op])
        except REDIS_ERRORS as exc:
            log.warning("rate-limit store unreachable: %s", exc)
            raise BackendUnavailable(STORE_DOWN) from exc
        return float(result)

    async def ahit(self, user_id: int) -> float:
        """Take a token; the wait in seconds instead when the member has none left."""
        return await self._run(user_id, "hit")

    async def arefund(self, user_id: int) -> None:
        """Give the token back (the answer failed through no fault of the member)."""
        try:
            await self._run(user_id, "refund")
        except BackendUnavailable:
            log.warning("could not give a token back to %s", user_id)

    async def aclose(self) -> None:
        await self.client.aclose()


class RedisModelQueue:
    """A FIFO shared by every process in front of one shared model server.

    `slots` callers hold the model at once; the others wait, each told its place whenever it
    improves. A ticket's lease is renewed while it waits or runs, so a killed process frees its
    place within `lease_s`.
    """

    def __init__(self, client: Redis, max_waiting: int, *, slots: int = 1,
                 namespace: str = PREFIX, poll_s: float = 0.1, lease_s: int = 15) -> None:
        self.client = client
        self.max_waiting = max(0, max_waiting)
        self.slots = max(1, slots)
        self.poll_s, self.lease_s = poll_s, lease_s
        self._line = f"{namespace}:queue"
        self._lease = f"{namespace}:queue:lease:"
        self._counter = f"{namespace}:queue:tickets"
        self._join = client.register_script(QUEUE_JOIN)
        self._place = client.register_script(QUEUE_PLACE)
        self._tickets = itertools.count(1)
        self._me = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.local_waiting = 0

    @property
    def waiting(self) -> int:
        """Callers of this process waiting for their turn (the metric; Redis has the total)."""
        return self.local_waiting

    def check(self) -> None:
        """The full check needs Redis: :meth:`turn` raises Busy when the line is full."""

    async def aclose(self) -> None:
        await self.client.aclose()

    async def total_waiting(self) -> int:
        count = int(await self.client.zcard(self._line))
        return max(0, count - self.slots)

    @asynccontextmanager
    async def turn(self, on_queued: Callable[[int], Awaitable[None]] | None = None
                   ) -> AsyncIterator[None]:
        ticket = f"{self._me}:{next(self._tickets)}"
        keys = [self._line, self._lease, self._counter]
        try:
            place = int(await self._join(keys=keys, args=[ticket, self.max_waiting,
                                                          self.slots, self.lease_s]))
        except REDIS_ERRORS as exc:
            raise BackendUnavailable(STORE_DOWN) from exc
        if place == -2:
            raise Busy("The answer desk is full; try again in a minute.")
        renew = asyncio.create_task(self._renew(ticket))
        try:
            await self._wait(ticket, place, on_queued)
            yield
        finally:
            renew.cancel()
            await self._leave(ticket)

    async def _wait(self, ticket: str, place: int,
                    on_queued: Callable[[int], Awaitable[None]] | None) -> None:
        told = None
        self.local_waiting += 1
        try:
            while place != 0:
                if place == -1:  # our lease lapsed (a long stall): join again at the back
                    place = int(await self._join(
                        keys=[self._line, self._lease, self._counter],
                        args=[ticket, 1 << 30, self.slots, self.lease_s]))
                    continue
                if on_queued is not None and (told is None or place < told):
                    told = place
                    try:
                        await on_queued(place)
                    except Exception:  # noqa: BLE001 - telling the place is best effort
                        log.warning("could not tell a caller its place in the queue",
                                    exc_info=True)
                await asyncio.sleep(self.poll_s)
                place = int(await self._place(keys=[self._line, self._lease],
                                              args=[ticket, self.slots]))
        finally:
            self.local_waiting -= 1

    async def _renew(self, ticket: str) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                await self.client.set(self._lease + ticket, "1", ex=self.lease_s)
            except REDIS_ERRORS:
                log.warning("could not renew a queue lease", exc_info=True)

    async def _leave(self, ticket: str) -> None:
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.zrem(self._line, ticket).delete(self._lease + ticket)
                await pipe.execute()
        except REDIS_ERRORS:
            log.warning("could not leave the shared queue; the lease frees it", exc_info=True)
