"""The simulator's runner against a real Redis: what the wall and the desk will see."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from dispatch import db, reporters, stories
from dispatch.clock import now_ms
from dispatch.keys import Keys
from dispatch.redis_server import EmbeddedRedis
from dispatch.settings import Settings
from feeds import process
from feeds.run import run_simulator

Run = Callable[[Coroutine[Any, Any, Any]], Any]
KEYS = Keys("simtest")
pytestmark = pytest.mark.integration


def test_runner_fills_the_newsroom_and_a_rerun_adds_no_reporters_or_tokens(
    redis_url: str, run: Run
) -> None:
    async def scenario() -> None:
        r = db.connect(redis_url)
        try:
            started = now_ms()
            first = await run_simulator(r, KEYS, seed=3, rate=60, duration_s=2.0)
            assert first.events > 0 and first.errors == 0
            roster = await reporters.all_reporters(r, KEYS)
            assert [p["reporter_id"] for p in roster] == [f"r-sim-{n:02d}" for n in range(1, 31)]
            tracked = await r.zrange(KEYS.reporter_geo, 0, -1)
            assert tracked, "on-duty reporters have a position on the map"
            on_duty = {p["reporter_id"] for p in roster if p["on_duty"]}
            assert set(tracked) <= on_duty
            assert all(p["lat"] is not None for p in roster if p["reporter_id"] in tracked)
            # The fixes went through the trackers' real formats and parsers (feeds/formats.py).
            sources = {p["source"] for p in roster if p["reporter_id"] in tracked}
            assert sources == {"owntracks", "osmand"}, sources
            assert len(await stories.all_stories(r, KEYS)) >= 40
            hour = await stories.traffic_last_hour(r, KEYS)
            assert all(sum(1 for v in views if v) >= 59 for views in hour.values()), (
                "the hour chart is full from the first minute"
            )
            tokens = await r.smembers(KEYS.tokens)
            assert len(tokens) == 30
            created = {p["reporter_id"]: p["created_at"] for p in roster}
            before_start = {ch: await r.hgetall(KEYS.traffic_minute(ch)) for ch in hour}

            second = await run_simulator(r, KEYS, seed=4, rate=60, duration_s=1.0)
            assert second.events > 0 and second.errors == 0
            again = await reporters.all_reporters(r, KEYS)
            assert {p["reporter_id"]: p["created_at"] for p in again} == created
            assert await r.smembers(KEYS.tokens) == tokens
            first_minute = started - started % 60_000
            for ch, minutes in before_start.items():
                now_stored = await r.hgetall(KEYS.traffic_minute(ch))
                for minute, value in minutes.items():
                    if int(minute) < first_minute:  # backfilled once, never twice
                        assert now_stored[minute] == value
        finally:
            await r.aclose()

    run(scenario())


@pytest.fixture
def own_redis() -> Iterator[EmbeddedRedis]:
    """A server of our own, so the test may stop and restart it."""
    tmp = Path(tempfile.mkdtemp(prefix="nr-sim-", dir="/tmp"))
    server = EmbeddedRedis(tmp)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def test_runner_rides_out_a_redis_restart(
    own_redis: EmbeddedRedis, run: Run, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        r = db.connect(own_redis.url)
        stop = asyncio.Event()
        try:
            task = asyncio.create_task(run_simulator(r, KEYS, seed=5, rate=30, stop=stop))
            await asyncio.sleep(1.0)
            await asyncio.to_thread(own_redis.stop)
            await asyncio.sleep(1.5)
            await asyncio.to_thread(own_redis.start)
            back = now_ms()
            await asyncio.sleep(4.0)
            stop.set()
            result = await asyncio.wait_for(task, 5)
            assert result.errors >= 1
            latest = max(p["fix_ts"] or 0 for p in await reporters.all_reporters(r, KEYS))
            assert latest > back, "fixes are written again once Redis is back"
        finally:
            await r.aclose()

    with caplog.at_level(logging.WARNING, logger="feeds.run"):
        run(scenario())
    assert any("Redis error" in m for m in caplog.messages)


def test_runner_without_redis_keeps_trying_until_stopped(run: Run, tmp_path: Path) -> None:
    async def scenario() -> None:
        r = db.connect(f"unix://{tmp_path}/nothing-here.sock")
        stop = asyncio.Event()
        try:
            task = asyncio.create_task(run_simulator(r, KEYS, rate=10, stop=stop))
            await asyncio.sleep(0.8)
            assert not task.done()
            stop.set()
            result = await asyncio.wait_for(task, 5)
            assert result.errors >= 1 and result.events == 0
        finally:
            await r.aclose()

    run(scenario())


def test_main_prints_progress(
    redis_url: str, run: Run, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(process, "PROGRESS_EVERY_S", 0.5)
    code = run(process.main(Settings(tenant="simtest"), redis_url, seed=1, rate=20, duration_s=1.6))
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    assert "http://127.0.0.1:8050" in out[0], "it says where to point a browser"
    assert any(line.startswith("simulate: ") and "events written" in line for line in out[1:-1])
    assert "events written" in out[-1]
