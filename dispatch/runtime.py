"""What a running process shares: settings, the tenant's keys, one Redis client and one bus.

Created once by the composition root and handed to the dashboards and the API, so no module
keeps connections in globals.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import redis.asyncio as aioredis

from dispatch import db
from dispatch.bus import Bus
from dispatch.errors import Unavailable
from dispatch.keys import Keys
from dispatch.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    redis_url: str = ""
    keys: Keys = field(init=False)
    webhook_secret: str = field(default="", repr=False)  # the effective one (bootstrap's)
    started: asyncio.Event = field(default_factory=asyncio.Event)  # set once Redis is connected
    _redis: aioredis.Redis | None = None
    _bus: Bus | None = None

    def __post_init__(self) -> None:
        self.keys = Keys(self.settings.tenant)

    @property
    def redis(self) -> aioredis.Redis:
        if self._redis is None:
            raise Unavailable("the server is starting or stopping; retry in a moment")
        return self._redis

    @property
    def bus(self) -> Bus:
        if self._bus is None:
            raise Unavailable("the server is starting or stopping; retry in a moment")
        return self._bus

    async def start(self) -> None:
        self._redis = db.connect(self.redis_url)
        self._bus = Bus(self._redis)
        await self._bus.start()
        self.started.set()

    async def stop(self) -> None:
        if self._bus:
            await self._bus.stop()
        if self._redis:
            await self._redis.aclose()
        self._bus = self._redis = None
        self.started.clear()
