"""The bus: one process-wide Redis subscription, fanned out in memory to bounded queues.

Pub/sub is a nudge, never the record: everything that matters is written to Redis first.
A subscriber whose queue fills (a slow page or phone) is marked `lagging` and receives no
more messages until it drains; it then resynchronises from the durable state. After the
subscription itself drops (Redis restarted), every subscriber receives RESYNC, because
whatever was published meanwhile is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from dispatch.keys import CHANNEL_PATTERN

log = logging.getLogger(__name__)

RESYNC = "\x00resync"


class Subscription:
    """One reader's bounded queue. Thousands are open at once (a reporter socket holds one for
    its whole life), so it is a list and, only while the reader waits, a future: an
    asyncio.Queue would cost four deques (about 3 KiB) per idle connection."""

    __slots__ = ("channel", "maxsize", "lagging", "_items", "_waiter")

    def __init__(self, channel: str, maxsize: int) -> None:
        self.channel = channel
        self.maxsize = maxsize
        self.lagging = False
        self._items: list[str] = []
        self._waiter: asyncio.Future[None] | None = None

    def offer(self, data: str) -> None:
        if len(self._items) >= self.maxsize:
            self.lagging = True
            return
        self._items.append(data)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> str:
        """The next message, or RESYNC if messages were dropped since the last one. One reader
        at a time."""
        while not self._items:
            if self.lagging:
                self.lagging = False
                return RESYNC
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)

    def drain(self) -> list[str]:
        """Everything queued right now, without waiting (for batching)."""
        items, self._items = self._items, []
        return items


class Bus:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._subs: dict[str, set[Subscription]] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="bus-reader")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._ready.wait(), 10)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str, maxsize: int = 1000) -> AsyncIterator[Subscription]:
        sub = Subscription(channel, maxsize)
        self._subs.setdefault(channel, set()).add(sub)
        try:
            yield sub
        finally:
            subs = self._subs.get(channel)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[channel]

    def _fan_out(self, channel: str, data: str) -> None:
        for sub in tuple(self._subs.get(channel, ())):
            sub.offer(data)

    def _resync_all(self) -> None:
        for subs in tuple(self._subs.values()):
            for sub in tuple(subs):
                sub.lagging = True
                sub.offer(RESYNC)

    async def _run(self) -> None:
        delay = 0.1
        first = True
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(CHANNEL_PATTERN)
                self._ready.set()
                if not first:
                    self._resync_all()
                first = False
                delay = 0.1
                async for message in pubsub.listen():
                    if message["type"] == "pmessage":
                        self._fan_out(message["channel"], message["data"])
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                self._ready.clear()
                log.warning("bus: lost the Redis subscription (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
