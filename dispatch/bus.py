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
    def __init__(self, channel: str, maxsize: int) -> None:
        self.channel = channel
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize)
        self.lagging = False

    def offer(self, data: str) -> None:
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            self.lagging = True

    async def get(self) -> str:
        """The next message, or RESYNC if messages were dropped since the last one."""
        if self.lagging and self.queue.empty():
            self.lagging = False
            return RESYNC
        return await self.queue.get()

    def drain(self) -> list[str]:
        """Everything queued right now, without waiting (for batching)."""
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
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
