"""Following an access log on disk into a real Redis: growth, partial lines, rotation,
truncation and restarts, each line counted exactly once."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from dispatch import db, schema, stories
from dispatch.clock import now_ms
from dispatch.keys import Keys
from feeds.accesslog import to_combined_line
from feeds.tailer import AccessLogCollector

Run = Callable[[Coroutine[Any, Any, Any]], Any]
KEYS = Keys("tail")
T0 = stories.minute_of(now_ms()) - 10 * 60_000  # recent: older traffic is trimmed at once
pytestmark = pytest.mark.integration


def view(story: str = "10231", via: schema.Via = "search", second: int = 0) -> str:
    return to_combined_line(story, via, T0 + second * 1000) + "\n"


def append(path: Path, *texts: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write("".join(texts))


async def views(r: aioredis.Redis, story: str = "10231") -> dict[str, int]:
    """channel -> views of one story, all minutes."""
    out: dict[str, int] = {}
    for field, value in (await db.hgetall(r, KEYS.traffic_story(story))).items():
        channel = field.split(":")[0]
        out[channel] = out.get(channel, 0) + int(value)
    return out


async def settle(c: AccessLogCollector, r: aioredis.Redis, steps: int = 6) -> int:
    """Step until nothing more is read (rotation takes a quiet step); return the lines read."""
    total = 0
    for _ in range(steps):
        total += await c.step(r, KEYS)
    return total


def scenario(url: str, run: Run, body: Callable[[aioredis.Redis], Awaitable[None]]) -> None:
    async def go() -> None:
        r = db.connect(url)
        try:
            await body(r)
        finally:
            await r.aclose()

    run(go())


def collector(path: Path, **options: Any) -> AccessLogCollector:
    return AccessLogCollector(name="nginx-web", path=path, **options)


async def read_one_line_then_rotate(
    r: aioredis.Redis, log: Path, rotated: str, *, stop: bool
) -> tuple[AccessLogCollector, int]:
    """From an empty `log`: a collector starts at its end and reads one line ("search"). Then
    (with `stop`, after the collector has stopped) one more line ("wechat") is written, which it
    has not read when logrotate renames the log to `rotated`, and the server starts a new log
    with one line ("weibo"). Returns the collector and the lines its second step read."""
    tail = collector(log)
    await tail.step(r, KEYS)
    append(log, view(via="search"))
    read = await tail.step(r, KEYS)
    if stop:
        tail.close()  # the process stops
    append(log, view(via="wechat"))
    log.rename(log.with_name(rotated))
    append(log, view(via="weibo"))  # `create`: a new file
    return tail, read


def test_a_growing_file_from_its_end_or_its_start(redis_url: str, run: Run, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    append(log, view(via="search"), view(via="wechat"))

    async def body(r: aioredis.Redis) -> None:
        tail = collector(log)
        assert await tail.step(r, KEYS) == 0, "what was there before the first start is history"
        append(log, view(via="search", second=61), view(via="weibo", second=62))
        append(log, view(via="direct", second=63), to_combined_line("x", "app", T0) + "\n")
        assert await tail.step(r, KEYS) == 4
        assert await views(r) == {"web": 2, "weibo": 1}
        assert await views(r, "x") == {"app": 1}
        assert await tail.step(r, KEYS) == 0
        tail.close()

        whole = AccessLogCollector(name="other", path=log, start_at_end=False)
        assert await whole.step(r, KEYS) == 6
        assert await views(r) == {"web": 5, "weibo": 2, "wechat": 1}
        whole.close()
        state = await db.hgetall(r, KEYS.feed_state("nginx-web"))
        assert state["path"] == str(log) and int(state["offset"]) == log.stat().st_size
        assert int(state["inode"]) == log.stat().st_ino

    scenario(redis_url, run, body)


def test_bots_static_files_and_junk_are_read_but_not_counted(
    redis_url: str, run: Run, tmp_path: Path
) -> None:
    log = tmp_path / "access.log"
    log.touch()
    bot = '66.249.66.1 - - [26/Nov/2026:08:00:03 +0800] "GET /news/1.html HTTP/1.1" 200 9 "-" '
    css = (
        '1.2.3.4 - - [26/Nov/2026:08:00:03 +0800] "GET /s/a.css HTTP/1.1" 200 9 "-" "Mozilla/5.0 X"'
    )

    async def body(r: aioredis.Redis) -> None:
        tail = collector(log)
        await tail.step(r, KEYS)
        append(log, bot + '"Googlebot/2.1"\n', css + "\n", "garbage\n", "\n", view())
        assert await tail.step(r, KEYS) == 5
        assert await views(r) == {"web": 1}
        assert await r.zrange(KEYS.traffic_stories, 0, -1) == ["10231"]
        tail.close()

    scenario(redis_url, run, body)


def test_a_partial_line_waits_for_its_end(redis_url: str, run: Run, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    first = view(via="weibo")
    append(log, view(), first[:50])  # the server was writing a line at our first start

    async def body(r: aioredis.Redis) -> None:
        tail = collector(log)
        assert await tail.step(r, KEYS) == 0
        append(log, first[50:])
        assert await tail.step(r, KEYS) == 1
        second = view(via="douyin")
        append(log, second[:-1])  # everything but the newline
        assert await tail.step(r, KEYS) == 0
        assert await views(r) == {"weibo": 1}
        append(log, "\n")
        assert await tail.step(r, KEYS) == 1
        assert await views(r) == {"weibo": 1, "douyin": 1}
        tail.close()

    scenario(redis_url, run, body)


def test_rotation_finishes_the_old_file_then_reads_the_new_one(
    redis_url: str, run: Run, tmp_path: Path
) -> None:
    log = tmp_path / "access.log"
    log.touch()

    async def body(r: aioredis.Redis) -> None:
        tail, read = await read_one_line_then_rotate(r, log, "access.log.1", stop=False)
        assert read == 1
        append(log, view(via="douyin"))
        # nginx writes to the old file until it reopens its logs (postrotate USR1)
        append(tmp_path / "access.log.1", view(via="direct", second=1))
        assert await settle(tail, r) == 4
        assert await views(r) == {"web": 2, "wechat": 1, "weibo": 1, "douyin": 1}
        append(log, view(via="app"))
        assert await tail.step(r, KEYS) == 1
        assert (await views(r))["app"] == 1
        tail.close()

    scenario(redis_url, run, body)


def test_a_restart_resumes_without_counting_twice(redis_url: str, run: Run, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.touch()

    async def body(r: aioredis.Redis) -> None:
        first = collector(log)
        await first.step(r, KEYS)
        append(log, view(), view(), view()[:40])
        assert await first.step(r, KEYS) == 2
        first.close()  # the process stops

        append(log, view()[40:], view())  # written while it was down
        again = collector(log)  # same source name: resumes from Redis
        assert await again.step(r, KEYS) == 2
        assert await views(r) == {"web": 4}
        assert await again.step(r, KEYS) == 0
        again.close()

    scenario(redis_url, run, body)


def test_a_restart_after_rotation_finds_the_old_file_by_its_inode(
    redis_url: str, run: Run, tmp_path: Path
) -> None:
    log = tmp_path / "access.log"
    log.touch()

    async def body(r: aioredis.Redis) -> None:
        await read_one_line_then_rotate(r, log, "access.log-20261126", stop=True)
        again = collector(log)
        assert await settle(again, r) == 2
        assert await views(r) == {"web": 1, "wechat": 1, "weibo": 1}
        again.close()

    scenario(redis_url, run, body)


def test_when_the_rotated_file_is_gone_the_new_one_is_read_from_its_start(
    redis_url: str, run: Run, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "access.log"
    log.touch()

    async def body(r: aioredis.Redis) -> None:
        await read_one_line_then_rotate(r, log, "access.log.1", stop=True)  # "wechat" is lost
        shutil.copy(tmp_path / "access.log.1", tmp_path / "archive.gz")  # compressed away
        (tmp_path / "access.log.1").unlink()
        again = collector(log)
        with caplog.at_level(logging.WARNING, logger="feeds.tailer"):
            assert await settle(again, r) == 1
        assert await views(r) == {"web": 1, "weibo": 1}
        assert "is not beside it any more" in caplog.text
        again.close()

    scenario(redis_url, run, body)


def test_copytruncate_starts_over(redis_url: str, run: Run, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.touch()

    async def body(r: aioredis.Redis) -> None:
        tail = collector(log)
        await tail.step(r, KEYS)
        append(log, view(), view(), view())
        assert await tail.step(r, KEYS) == 3
        inode = log.stat().st_ino

        shutil.copy(log, tmp_path / "access.log.1")
        os.truncate(log, 0)
        append(log, view(via="weibo"))  # shorter than before
        assert await tail.step(r, KEYS) == 1
        assert await views(r) == {"web": 3, "weibo": 1}

        # Truncated again, and grown past the old offset before the next step: the file's
        # first bytes are no longer the ones it had.
        shutil.copy(log, tmp_path / "access.log.1")
        os.truncate(log, 0)
        append(log, *(view(via="douyin", second=s) for s in range(4)))
        assert log.stat().st_ino == inode
        assert await tail.step(r, KEYS) == 4
        assert await views(r) == {"web": 3, "weibo": 1, "douyin": 4}
        tail.close()

    scenario(redis_url, run, body)


def test_a_file_that_does_not_exist_yet_is_read_from_its_start(
    redis_url: str, run: Run, tmp_path: Path
) -> None:
    log = tmp_path / "access.log"

    async def body(r: aioredis.Redis) -> None:
        tail = collector(log)
        assert await tail.step(r, KEYS) == 0
        assert await tail.step(r, KEYS) == 0
        append(log, view(), view())
        assert await settle(tail, r, steps=2) == 2
        assert await views(r) == {"web": 2}
        tail.close()

    scenario(redis_url, run, body)


def test_each_step_reads_a_bounded_slice(redis_url: str, run: Run, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.touch()

    async def body(r: aioredis.Redis) -> None:
        tail = collector(log, max_lines=4)
        await tail.step(r, KEYS)
        append(log, *(view(second=s) for s in range(10)))
        assert [await tail.step(r, KEYS) for _ in range(4)] == [4, 4, 2, 0]
        assert await views(r) == {"web": 10}
        tail.close()

        small = collector(log, max_bytes=1024)
        append(log, "x" * 3000 + "\n", view(via="weibo"))  # a "line" longer than a slice
        assert await settle(small, r) >= 2
        assert await views(r) == {"web": 10, "weibo": 1}
        small.close()

    scenario(redis_url, run, body)


def test_two_processes_tailing_one_source_count_each_line_once(
    redis_url: str, run: Run, tmp_path: Path
) -> None:
    log = tmp_path / "access.log"
    log.touch()

    async def body(r: aioredis.Redis) -> None:
        a, b = collector(log), collector(log)
        await a.step(r, KEYS)
        read = 0
        for n in range(20):
            append(log, *(view(second=n) for _ in range(3)))
            read += sum(await asyncio.gather(a.step(r, KEYS), b.step(r, KEYS)))
        read += await settle(a, r, steps=1)
        assert read == 60
        assert await views(r) == {"web": 60}
        a.close()
        b.close()

    scenario(redis_url, run, body)


def test_a_step_nudges_the_wall_with_one_summary_per_channel_and_minute(
    redis_url: str, run: Run, tmp_path: Path
) -> None:
    log = tmp_path / "access.log"
    log.touch()

    async def body(r: aioredis.Redis) -> None:
        tail = collector(log)
        await tail.step(r, KEYS)
        ps = r.pubsub()
        await ps.subscribe(KEYS.live_channel)
        append(log, *(view("s1", "wechat") for _ in range(30)), view("s2", "wechat"))
        append(log, *(view("s1", "search", second=s) for s in range(5)))
        assert await tail.step(r, KEYS) == 36
        got = []
        for _ in range(10):
            message = await ps.get_message(ignore_subscribe_messages=True, timeout=0.3)
            if message is not None:
                got.append(schema.decode_event(message["data"]))
        await ps.aclose()
        assert {(e.channel, e.views) for e in got if isinstance(e, schema.Traffic)} == {
            ("wechat", 31),
            ("web", 5),
        }
        assert len(got) == 2
        assert (await stories.top_stories(r, KEYS, now=T0))[0]["by_channel"] == {
            "wechat": 30,
            "web": 5,
        }
        tail.close()

    scenario(redis_url, run, body)
