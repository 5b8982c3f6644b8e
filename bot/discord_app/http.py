"""`/healthz` and `/metrics` on HTTP_PORT, served by aiohttp inside the bot's own event loop.

The probe work that blocks (reading the index manifest, pinging a model server) runs in the
bot's executor, with a timeout and a short cache so a scraper hammering the port never slows
answers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.discord_app.metrics import CONTENT_TYPE

if TYPE_CHECKING:
    from bot.discord_app.client import ModelDeskBot

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 5.0  # a probe slower than this counts as a failure (Kubernetes waits 1 s)
PROBE_CACHE_S = 2.0  # answers to probes in quick succession share one check


class HealthServer:
    """The operator's HTTP endpoints for one bot process."""

    def __init__(self, bot: ModelDeskBot, host: str, port: int) -> None:
        self.bot = bot
        self.host, self.port = host, port
        self._runner: web.AppRunner | None = None
        self._cached: tuple[float, dict[str, str | None]] | None = None
        self._probe_lock = asyncio.Lock()

    async def start(self) -> int:
        """Listen; returns the port (HTTP_PORT=0 picks a free one)."""
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []  # noqa: SLF001 - the real port
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("health and metrics on http://%s:%d", self.host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def gateway_problem(self) -> str | None:
        """Why the Discord gateway is not usable, or None."""
        bot = self.bot
        if bot.is_closed():
            return "the bot is shutting down"
        if not bot.is_ready() or bot.ws is None or not bot.ws.open:
            return "not connected to the Discord gateway"
        if not math.isfinite(bot.latency):
            return "no gateway heartbeat acknowledged yet"
        return None

    async def desk_problems(self) -> dict[str, str | None]:
        """The desk's health, checked off the loop, at most once per PROBE_CACHE_S."""
        async with self._probe_lock:
            now = time.monotonic()
            if self._cached is not None and now - self._cached[0] < PROBE_CACHE_S:
                return self._cached[1]
            try:
                found = await asyncio.wait_for(self.bot.in_thread(self.bot.desk.health),
                                               timeout=PROBE_TIMEOUT_S)
            except TimeoutError:
                found = {"index": None, "model": None,
                         "desk": f"the health check took over {PROBE_TIMEOUT_S:g} s"}
            except Exception as exc:  # noqa: BLE001 - any failure is a reason, not a crash
                log.warning("health check failed", exc_info=True)
                found = {"desk": f"{type(exc).__name__}: {exc}"}
            self._cached = (time.monotonic(), found)
            return found

    async def healthz(self, _: web.Request) -> web.Response:
        checks: dict[str, str | None] = {"gateway": self.gateway_problem(),
                                         **await self.desk_problems()}
        problems = {k: v for k, v in checks.items() if v}
        body: dict[str, Any] = {
            "status": "ok" if not problems else "unavailable",
            "checks": {k: (v or "ok") for k, v in checks.items()},
            "queue": self.bot.model_queue.waiting,
        }
        if math.isfinite(self.bot.latency):
            body["gateway_latency_ms"] = round(self.bot.latency * 1000, 1)
        if problems:
            body["reason"] = "; ".join(f"{k}: {v}" for k, v in problems.items())
        return web.Response(status=503 if problems else 200, text=json.dumps(body),
                            content_type="application/json")

    async def metrics(self, _: web.Request) -> web.Response:
        return web.Response(body=self.bot.metrics.exposition(),
                            headers={"Content-Type": CONTENT_TYPE})
