"""Streaming an answer into a Discord message, editing at most about once a second."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import discord

log = logging.getLogger(__name__)


class ThrottledEditor:
    """Coalesces pushed texts into edits no closer together than `interval` seconds."""

    def __init__(
        self,
        edit: Callable[[str], Awaitable[Any]],
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._edit = edit
        self._interval = interval
        self._clock = clock
        self._latest: str | None = None
        self._last_edit = float("-inf")
        self._task: asyncio.Task[None] | None = None
        self._editing = False
        self._closed = False
        self.edits = 0

    def push(self, text: str) -> None:
        """Show `text` soon (called on the event loop)."""
        if self._closed:
            return
        self._latest = text
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def pusher(self, loop: asyncio.AbstractEventLoop) -> Callable[[str], None]:
        """A callback for worker threads that hands each text to the loop."""

        def push(text: str) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closing
                loop.call_soon_threadsafe(self.push, text)

        return push

    async def _run(self) -> None:
        while self._latest is not None and not self._closed:
            delay = self._interval - (self._clock() - self._last_edit)
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            text, self._latest = self._latest, None
            self._last_edit = self._clock()
            self._editing = True
            try:
                await self._edit(text)
                self.edits += 1
            except discord.HTTPException:
                log.warning("a streaming edit failed", exc_info=True)
            finally:
                self._editing = False

    async def close(self) -> None:
        """Stop editing; an edit already on the wire finishes first so the order holds."""
        self._closed = True
        task = self._task
        if task is None or task.done():
            return
        if not self._editing:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
