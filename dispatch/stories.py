"""Stories and audience traffic: the newsroom's state that feeds the wall.

A story update is idempotent by (story_id, updated_at): an older or repeated update never
replaces a newer one. Traffic is aggregated per channel and minute (`traffic:<channel>`, what
the wall's hour chart reads) and, for traffic that names a story, per story, channel and minute
(`traffic:story:<id>`, with `traffic:stories` saying which stories were read when), always in
one MULTI with its live nudge.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, TypedDict, cast

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from dispatch import db, schema
from dispatch.clock import now_ms
from dispatch.keys import Keys

TRAFFIC_KEEP_MS = 26 * 3600 * 1000
MINUTE_MS = 60_000
SPARKLINE_MINUTES = 60

STAGES_KEPT = 100  # stage changes remembered per story (for the after-action review)

# KEYS: stories hash, live channel, the story's stage history;
# ARGV: story_id, updated_at, story json, stage, history length, history TTL (ms)
_UPSERT_STORY = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local before = nil
if cur then
  local ok, doc = pcall(cjson.decode, cur)
  if ok and tonumber(doc['updated_at']) >= tonumber(ARGV[2]) then return 0 end
  if ok then before = doc['stage'] end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if before ~= ARGV[4] then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'at', ARGV[2], 'stage', ARGV[4])
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
end
redis.call('PUBLISH', KEYS[2], ARGV[3])
return 1
"""
STAGES_KEEP_MS = 30 * 24 * 3600 * 1000


async def upsert_story(r: aioredis.Redis, keys: Keys, story: schema.Story) -> bool:
    """Record a story update; False if an equal or newer update was already applied."""
    body = schema.encode(story)
    result = await db.eval_one(
        r,
        _UPSERT_STORY,
        (keys.stories, keys.live_channel, keys.story_stages(story.story_id)),
        (story.story_id, story.updated_at, body, story.stage, STAGES_KEPT, STAGES_KEEP_MS),
    )
    return bool(result)


async def stage_history(r: aioredis.Redis, keys: Keys, story_id: str) -> list[tuple[int, str]]:
    """(updated_at, stage) of each stage the story entered, oldest first (at most STAGES_KEPT,
    kept 30 days)."""
    entries = await db.xrange(r, keys.story_stages(story_id))
    return [(int(fields["at"]), fields["stage"]) for _, fields in entries]


async def all_stories(r: aioredis.Redis, keys: Keys) -> list[dict[str, Any]]:
    rows = await db.hgetall(r, keys.stories)
    return sorted((json.loads(v) for v in rows.values()), key=lambda s: -s["updated_at"])


def minute_of(ts_ms: int) -> int:
    return ts_ms - ts_ms % MINUTE_MS


def traffic_amount(traffic: schema.Traffic) -> int:
    """Views, or the reach radio and TV report instead of views."""
    return traffic.reach if traffic.reach is not None and traffic.views == 0 else traffic.views


# (channel, minute, story_id or None) -> amount
Counts = dict[tuple[str, int, str | None], int]


def _count(items: Iterable[schema.Traffic]) -> Counts:
    counts: Counts = defaultdict(int)
    for item in items:
        amount = traffic_amount(item)
        if amount:
            counts[(item.channel, minute_of(item.window_start), item.story_id)] += amount
    return counts


def _queue_counts(pipe: Pipeline, keys: Keys, counts: Counts, now: int) -> None:
    """Queue the increments on a MULTI pipeline (the caller adds the nudge and executes)."""
    channel_last: dict[str, int] = {}
    story_last: dict[str, int] = {}
    for (channel, minute, story_id), amount in counts.items():
        pipe.hincrby(keys.traffic_minute(channel), str(minute), amount)
        channel_last[channel] = max(minute, channel_last.get(channel, minute))
        if story_id is not None:
            pipe.hincrby(keys.traffic_story(story_id), f"{channel}:{minute}", amount)
            story_last[story_id] = max(minute, story_last.get(story_id, minute))
    for channel, minute in sorted(channel_last.items()):
        pipe.pexpire(keys.traffic_minute(channel), TRAFFIC_KEEP_MS)
        # A channel read every day never expires: drop the hour of minutes that aged out.
        aged = minute - TRAFFIC_KEEP_MS
        pipe.hdel(keys.traffic_minute(channel), *(str(aged - MINUTE_MS * i) for i in range(60)))
    for story_id in sorted(story_last):
        pipe.pexpire(keys.traffic_story(story_id), TRAFFIC_KEEP_MS)
    if story_last:
        # GT: a late window for an old minute never moves a story back in the "read now" index.
        pipe.zadd(keys.traffic_stories, story_last, gt=True)
        pipe.zremrangebyscore(keys.traffic_stories, "-inf", f"({now - TRAFFIC_KEEP_MS}")


async def record_traffic(
    r: aioredis.Redis, keys: Keys, traffic: schema.Traffic, now: int | None = None
) -> None:
    """Add a traffic window to the per-minute totals of its channel (and of its story, when it
    names one) and nudge the wall with the event itself, in one MULTI."""
    async with r.pipeline(transaction=True) as pipe:
        _queue_counts(pipe, keys, _count([traffic]), now or now_ms())
        pipe.publish(keys.live_channel, schema.encode(traffic))
        await pipe.execute()


def queue_traffic_batch(
    pipe: Pipeline, keys: Keys, items: Iterable[schema.Traffic], now: int | None = None
) -> list[schema.Traffic]:
    """Queue a batch on a MULTI pipeline the caller executes (with its own writes, e.g. a log
    tailer's file position, so both apply or neither does). Returns the nudges queued.

    The items are summed before writing: one HINCRBY per channel and minute, one per story,
    channel and minute, whatever the number of items. The nudges are one `traffic` event per
    channel and minute (no story, `views` the sum), which the wall folds in as deltas exactly
    as it folds single events.
    """
    counts = _count(items)
    _queue_counts(pipe, keys, counts, now or now_ms())
    totals: dict[tuple[int, str], int] = defaultdict(int)
    for (channel, minute, _story), amount in counts.items():
        totals[(minute, channel)] += amount
    nudges = [
        schema.Traffic(channel=cast(schema.Channel, channel), window_start=minute, views=views)
        for (minute, channel), views in sorted(totals.items())
    ]
    for nudge in nudges:
        pipe.publish(keys.live_channel, schema.encode(nudge))
    return nudges


async def record_traffic_batch(
    r: aioredis.Redis, keys: Keys, items: Sequence[schema.Traffic], now: int | None = None
) -> list[schema.Traffic]:
    """Record many traffic windows in one round trip (see queue_traffic_batch); returns the
    summary nudges published."""
    async with r.pipeline(transaction=True) as pipe:
        nudges = queue_traffic_batch(pipe, keys, items, now)
        await pipe.execute()
    return nudges


def _minutes_back(end: int, minutes: int) -> list[int]:
    """The starts of the `minutes` minutes ending with the one `end` falls in, oldest first."""
    last = minute_of(end)
    return [last - MINUTE_MS * i for i in range(minutes - 1, -1, -1)]


async def traffic_last_hour(
    r: aioredis.Redis, keys: Keys, now: int | None = None
) -> dict[str, list[int]]:
    """Views per channel for each of the last 60 minutes, oldest first."""
    minutes = [str(m) for m in _minutes_back(now or now_ms(), 60)]
    async with r.pipeline(transaction=False) as pipe:
        for channel in schema.CHANNELS:
            pipe.hmget(keys.traffic_minute(channel), minutes)
        rows = await pipe.execute()
    return {ch: [int(v or 0) for v in row] for ch, row in zip(schema.CHANNELS, rows, strict=True)}


def _story_fields(minutes: Sequence[int]) -> list[str]:
    return [f"{channel}:{m}" for channel in schema.CHANNELS for m in minutes]


def _by_channel(values: Sequence[str | None], width: int) -> dict[str, list[int]]:
    """HMGET values in _story_fields order -> channel -> counts per minute."""
    return {
        channel: [int(v or 0) for v in values[i * width : (i + 1) * width]]
        for i, channel in enumerate(schema.CHANNELS)
    }


async def story_traffic(
    r: aioredis.Redis, keys: Keys, story_id: str, minutes: int = 60, now: int | None = None
) -> dict[str, list[int]]:
    """Views of one story per channel for each of the last `minutes` minutes, oldest first
    (every channel, zeros included)."""
    span = _minutes_back(now or now_ms(), minutes)
    values = await r.hmget(keys.traffic_story(story_id), _story_fields(span))
    return _by_channel(cast(list[str | None], values), len(span))


class TopStory(TypedDict):
    story_id: str
    views: int  # in the window
    by_channel: dict[str, int]  # views in the window, channels with views only
    sparkline: list[int]  # views per minute over the last hour, every channel, oldest first


async def top_stories(
    r: aioredis.Redis, keys: Keys, minutes: int = 5, limit: int = 10, now: int | None = None
) -> list[TopStory]:
    """The most read stories of the last `minutes` minutes, most views first (ties by id).

    Two round trips: the window of every story read in it, then the hour of the ones shown.
    """
    now = now or now_ms()
    window = _minutes_back(now, max(1, minutes))
    candidates = cast(list[str], await r.zrangebyscore(keys.traffic_stories, window[0], "+inf"))
    async with r.pipeline(transaction=False) as pipe:
        for story_id in candidates:
            pipe.hmget(keys.traffic_story(story_id), _story_fields(window))
        rows = await pipe.execute()
    ranked: list[tuple[int, str, dict[str, int]]] = []
    for story_id, row in zip(candidates, rows, strict=True):
        by_channel = {ch: sum(v) for ch, v in _by_channel(row, len(window)).items() if sum(v)}
        if by_channel:
            ranked.append((sum(by_channel.values()), story_id, by_channel))
    ranked.sort(key=lambda t: (-t[0], t[1]))
    shown = ranked[: max(0, limit)]
    hour = _minutes_back(now, SPARKLINE_MINUTES)
    async with r.pipeline(transaction=False) as pipe:
        for _views, story_id, _by in shown:
            pipe.hmget(keys.traffic_story(story_id), _story_fields(hour))
        rows = await pipe.execute()
    return [
        TopStory(
            story_id=story_id,
            views=views,
            by_channel=by_channel,
            sparkline=[sum(col) for col in zip(*_by_channel(row, len(hour)).values(), strict=True)],
        )
        for (views, story_id, by_channel), row in zip(shown, rows, strict=True)
    ]
