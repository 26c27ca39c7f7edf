"""Rate limits per token and per client address, counted in Redis so every process shares them.

Fixed windows: at most `count` hits per `window` seconds. A counter key lives one window.
"""

from __future__ import annotations

import time

import redis.asyncio as aioredis

from dispatch.errors import RateLimited
from dispatch.keys import Keys


async def hit(
    r: aioredis.Redis,
    keys: Keys,
    scope: str,
    ident: str,
    limit: tuple[int, int],
    what: str = "requests",
) -> None:
    """Count one hit; raise RateLimited (with the seconds to wait) past the limit."""
    count, window = limit
    now = time.time()
    slot = int(now // window)
    key = keys.ratelimit(scope, ident, slot)
    async with r.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, window + 1)
        used, _ = await pipe.execute()
    if int(used) > count:
        retry = max(1, int((slot + 1) * window - now) + 1)
        raise RateLimited(
            f"too many {what} from this {scope}: at most {count} in {window} s; retry in {retry} s",
            retry,
        )
