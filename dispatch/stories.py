"""Stories and audience traffic: the newsroom's state that feeds the wall.

A story update is idempotent by (story_id, updated_at): an older or repeated update never
replaces a newer one. Traffic is aggregated per channel and per minute.
"""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as aioredis

from dispatch import db, schema
from dispatch.clock import now_ms
from dispatch.keys import Keys

TRAFFIC_KEEP_MS = 26 * 3600 * 1000

# KEYS: stories hash, live channel; ARGV: story_id, updated_at, story json
_UPSERT_STORY = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local ok, doc = pcall(cjson.decode, cur)
  if ok and tonumber(doc['updated_at']) >= tonumber(ARGV[2]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('PUBLISH', KEYS[2], ARGV[3])
return 1
"""


async def upsert_story(r: aioredis.Redis, keys: Keys, story: schema.Story) -> bool:
    """Record a story update; False if an equal or newer update was already applied."""
    body = schema.encode(story)
    result = await r.eval(
        _UPSERT_STORY, 2, keys.stories, keys.live_channel, story.story_id, story.updated_at, body
    )
    return bool(result)


async def all_stories(r: aioredis.Redis, keys: Keys) -> list[dict[str, Any]]:
    rows = await db.hgetall(r, keys.stories)
    return sorted((json.loads(v) for v in rows.values()), key=lambda s: -s["updated_at"])


def minute_of(ts_ms: int) -> int:
    return ts_ms - ts_ms % 60_000


async def record_traffic(r: aioredis.Redis, keys: Keys, traffic: schema.Traffic) -> None:
    """Add a traffic window to the per-minute totals of its channel and nudge the wall."""
    amount = traffic.reach if traffic.reach is not None and traffic.views == 0 else traffic.views
    minute = minute_of(traffic.window_start)
    async with r.pipeline(transaction=True) as pipe:
        pipe.hincrby(keys.traffic_minute(traffic.channel), str(minute), amount)
        pipe.pexpire(keys.traffic_minute(traffic.channel), TRAFFIC_KEEP_MS)
        pipe.publish(keys.live_channel, schema.encode(traffic))
        await pipe.execute()


async def traffic_last_hour(
    r: aioredis.Redis, keys: Keys, now: int | None = None
) -> dict[str, list[int]]:
    """Views per channel for each of the last 60 minutes, oldest first."""
    end = minute_of(now or now_ms())
    minutes = [str(end - 60_000 * i) for i in range(59, -1, -1)]
    async with r.pipeline(transaction=False) as pipe:
        for channel in schema.CHANNELS:
            pipe.hmget(keys.traffic_minute(channel), minutes)
        rows = await pipe.execute()
    return {ch: [int(v or 0) for v in row] for ch, row in zip(schema.CHANNELS, rows, strict=True)}
