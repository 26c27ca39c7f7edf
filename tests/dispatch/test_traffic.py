"""Audience traffic in Redis: per channel, per story and per minute, and what the wall is told."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest
import redis.asyncio as aioredis

from dashboards import model
from dispatch import db, schema, stories
from dispatch.keys import Keys

Run = Callable[[Coroutine[Any, Any, Any]], Any]
KEYS = Keys("traffic")
NOW = 1_795_651_230_000  # 2026-11-26 08:00:30 +0800
MIN = 60_000
M0 = NOW - NOW % MIN  # the current minute
pytestmark = pytest.mark.integration


def hit(
    channel: schema.Channel, minute: int, views: int = 1, story: str | None = None, **extra: Any
) -> schema.Traffic:
    return schema.Traffic(
        story_id=story, channel=channel, window_start=minute + 7_000, views=views, **extra
    )


def with_redis(url: str, run: Run, body: Callable[[aioredis.Redis], Awaitable[None]]) -> None:
    async def scenario() -> None:
        r = db.connect(url)
        try:
            await body(r)
        finally:
            await r.aclose()

    run(scenario())


async def nudges(ps: Any, count: int) -> list[schema.Message]:
    """The next `count` messages on the live channel, decoded."""
    got: list[schema.Message] = []
    deadline = time.monotonic() + 3.0
    while len(got) < count and time.monotonic() < deadline:
        # None: nothing yet, or the subscription's confirmation (skipped)
        message = await ps.get_message(ignore_subscribe_messages=True, timeout=0.5)
        if message is not None:
            got.append(schema.decode_event(message["data"]))
    assert len(got) == count, f"{len(got)} of {count} nudges arrived"
    assert await ps.get_message(ignore_subscribe_messages=True, timeout=0.3) is None
    return got


def test_a_story_window_counts_for_its_channel_and_its_story(redis_url: str, run: Run) -> None:
    async def body(r: aioredis.Redis) -> None:
        ps = r.pubsub()
        await ps.subscribe(KEYS.live_channel)
        event = hit("wechat", M0, views=12, story="s-1", via="wechat", shares=3)
        await stories.record_traffic(r, KEYS, event, now=NOW)
        await stories.record_traffic(r, KEYS, hit("wechat", M0, views=5), now=NOW)
        assert await nudges(ps, 2) == [event, hit("wechat", M0, views=5)]
        await ps.aclose()

        assert await r.hgetall(KEYS.traffic_minute("wechat")) == {str(M0): "17"}
        assert await r.hgetall(KEYS.traffic_story("s-1")) == {f"wechat:{M0}": "12"}
        assert await r.zrange(KEYS.traffic_stories, 0, -1, withscores=True) == [("s-1", M0)]
        for key in (KEYS.traffic_minute("wechat"), KEYS.traffic_story("s-1")):
            assert 0 < await r.pttl(key) <= stories.TRAFFIC_KEEP_MS

    with_redis(redis_url, run, body)


def test_radio_and_tv_count_their_reach(redis_url: str, run: Run) -> None:
    async def body(r: aioredis.Redis) -> None:
        await stories.record_traffic(r, KEYS, hit("radio", M0, views=0, reach=900, story="s-2"))
        assert (await stories.story_traffic(r, KEYS, "s-2", minutes=1, now=NOW))["radio"] == [900]

    with_redis(redis_url, run, body)


def test_a_batch_is_summed_and_the_wall_folds_its_nudges_into_the_right_totals(
    redis_url: str, run: Run
) -> None:
    items = (
        [hit("web", M0, story="10231", via="search")] * 40
        + [hit("web", M0, story="10231", via="direct")] * 2
        + [hit("wechat", M0, story="10231", via="wechat")] * 7
        + [hit("wechat", M0 - MIN, story="10230", via="wechat")] * 3
        + [hit("app", M0, story="10230", via="app", views=4)]
        + [hit("web", M0, views=0, story="10229")]  # nothing to count
    )

    async def body(r: aioredis.Redis) -> None:
        state = model.from_snapshot([], [], [], await stories.traffic_last_hour(r, KEYS, NOW), NOW)
        ps = r.pubsub()
        await ps.subscribe(KEYS.live_channel)
        published = await stories.record_traffic_batch(r, KEYS, items, now=NOW)
        received = await nudges(ps, 4)
        await ps.aclose()

        assert received == published, "one summary per channel and minute, oldest minute first"
        assert [(n.channel, n.window_start, n.views, n.story_id) for n in published] == [
            ("wechat", M0 - MIN, 3, None),
            ("app", M0, 4, None),
            ("web", M0, 42, None),
            ("wechat", M0, 7, None),
        ]
        story = await stories.story_traffic(r, KEYS, "10231", minutes=2, now=NOW)
        assert (story["web"], story["wechat"], story["app"]) == ([0, 42], [0, 7], [0, 0])
        other = await stories.story_traffic(r, KEYS, "10230", minutes=2, now=NOW)
        assert (other["wechat"], other["app"]) == ([3, 0], [0, 4])
        assert not await r.exists(KEYS.traffic_story("10229"))
        assert await r.zrange(KEYS.traffic_stories, 0, -1, withscores=True) == [
            ("10230", M0),
            ("10231", M0),
        ]
        for event in received:
            model.apply(state, event, NOW)
        assert state.traffic == await stories.traffic_last_hour(r, KEYS, NOW)

    with_redis(redis_url, run, body)


def test_an_empty_batch_writes_nothing(redis_url: str, run: Run) -> None:
    async def body(r: aioredis.Redis) -> None:
        assert await stories.record_traffic_batch(r, KEYS, []) == []
        assert await stories.record_traffic_batch(r, KEYS, [hit("web", M0, views=0)]) == []
        assert await r.dbsize() == 0

    with_redis(redis_url, run, body)


def test_late_windows_never_move_a_story_back_and_old_stories_are_trimmed(
    redis_url: str, run: Run
) -> None:
    async def body(r: aioredis.Redis) -> None:
        await stories.record_traffic(r, KEYS, hit("web", M0, story="fresh"), now=NOW)
        await stories.record_traffic(r, KEYS, hit("web", M0 - 9 * MIN, story="fresh"), now=NOW)
        assert await r.zscore(KEYS.traffic_stories, "fresh") == M0

        old = M0 - stories.TRAFFIC_KEEP_MS - MIN
        await stories.record_traffic(r, KEYS, hit("web", old, story="stale"), now=old)
        assert await r.zscore(KEYS.traffic_stories, "stale") == old
        await stories.record_traffic_batch(r, KEYS, [hit("web", M0, story="fresh")], now=NOW)
        assert await r.zrange(KEYS.traffic_stories, 0, -1) == ["fresh"]
        assert sorted(await r.hkeys(KEYS.traffic_minute("web"))) == [str(M0 - 9 * MIN), str(M0)], (
            "a channel written every minute keeps only the minutes it is kept for"
        )

    with_redis(redis_url, run, body)


def test_story_traffic_is_every_channel_oldest_minute_first(redis_url: str, run: Run) -> None:
    async def body(r: aioredis.Redis) -> None:
        await stories.record_traffic_batch(
            r,
            KEYS,
            [
                hit("douyin", M0, 5, "s-3"),
                hit("douyin", M0 - 2 * MIN, 2, "s-3"),
                hit("weibo", M0 - 59 * MIN, 1, "s-3"),
                hit("weibo", M0 - 60 * MIN, 100, "s-3"),  # an hour and a minute ago
                hit("weibo", M0, 50, "other"),
            ],
            now=NOW,
        )
        hour = await stories.story_traffic(r, KEYS, "s-3", now=NOW)
        assert list(hour) == list(schema.CHANNELS)
        assert all(len(series) == 60 for series in hour.values())
        assert hour["douyin"][-3:] == [2, 0, 5] and sum(hour["douyin"]) == 7
        assert hour["weibo"][0] == 1 and sum(hour["weibo"]) == 1
        assert sum(map(sum, hour.values())) == 8
        assert await stories.story_traffic(r, KEYS, "nobody", minutes=3, now=NOW) == {
            ch: [0, 0, 0] for ch in schema.CHANNELS
        }

    with_redis(redis_url, run, body)


def test_top_stories_ranks_the_last_minutes_and_draws_the_hour(redis_url: str, run: Run) -> None:
    async def body(r: aioredis.Redis) -> None:
        await stories.record_traffic_batch(
            r,
            KEYS,
            [
                hit("wechat", M0, 30, "a"),
                hit("web", M0 - MIN, 10, "a"),
                hit("web", M0 - 30 * MIN, 500, "a"),  # in the sparkline, not in the window
                hit("app", M0 - 4 * MIN, 25, "b"),
                hit("douyin", M0, 15, "b"),
                hit("web", M0, 40, "c"),
                hit("web", M0 - 5 * MIN, 999, "d"),  # just outside a 5-minute window
                hit("web", M0, 40, "e"),  # ties with c: by id
                hit("radio", M0, 0, None, reach=5000),  # no story
            ],
            now=NOW,
        )
        top = await stories.top_stories(r, KEYS, minutes=5, limit=3, now=NOW)
        assert [(s["story_id"], s["views"]) for s in top] == [("a", 40), ("b", 40), ("c", 40)]
        assert top[0]["by_channel"] == {"wechat": 30, "web": 10}
        assert top[1]["by_channel"] == {"app": 25, "douyin": 15}
        spark = top[0]["sparkline"]
        assert len(spark) == 60 and spark[-1] == 30 and spark[-2] == 10 and spark[-31] == 500
        assert sum(spark) == 540
        everyone = await stories.top_stories(r, KEYS, minutes=6, now=NOW)
        assert [s["story_id"] for s in everyone] == ["d", "a", "b", "c", "e"]
        assert await stories.top_stories(r, KEYS, minutes=5, now=NOW + 10 * MIN) == []

    with_redis(redis_url, run, body)
