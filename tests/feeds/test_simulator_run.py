"""The simulator's runner against a real Redis: what the wall and the desk will see."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from dispatch import db, reporters, schema, stories
from dispatch.clock import now_ms
from dispatch.keys import Keys
from dispatch.redis_server import EmbeddedRedis
from dispatch.settings import Settings
from feeds import process
from feeds import run as sim_run
from feeds.run import SimulatorCollector, run_simulator
from feeds.sim_content import profile
from feeds.simulator import SimEvent

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


def test_a_tick_with_many_fixes_writes_them_all_in_one_round_trip(
    redis_url: str, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first tick of 300 reporters: every on-duty reporter's first fix, in one
    `apply_fixes` (one pipelined round trip), and every one of them lands."""
    batches: list[list[str]] = []
    real_apply_fixes = reporters.apply_fixes

    async def spy(r: Any, keys: Keys, fixes: Sequence[schema.Location], *a: Any, **kw: Any) -> Any:
        batches.append([f.reporter_id for f in fixes])
        return await real_apply_fixes(r, keys, fixes, *a, **kw)

    async def one_at_a_time(*_: Any, **__: Any) -> bool:
        raise AssertionError("the simulator wrote a fix on its own")

    monkeypatch.setattr(reporters, "apply_fixes", spy)
    monkeypatch.setattr(reporters, "apply_fix", one_at_a_time)

    async def scenario() -> None:
        r = db.connect(redis_url)
        try:
            written = await SimulatorCollector(seed=11, reporters=300).step(r, KEYS)
            roster = await reporters.all_reporters(r, KEYS)
            on_duty = {p["reporter_id"] for p in roster if p["on_duty"]}
            assert len(roster) == 300 and len(on_duty) > 200
            assert len(batches) == 1, "one round trip for the tick's fixes"
            assert sorted(batches[0]) == sorted(on_duty)
            assert set(await r.zrange(KEYS.reporter_geo, 0, -1)) == on_duty
            assert all(p["fix_ts"] for p in roster if p["reporter_id"] in on_duty)
            for rid in on_duty:
                assert await r.xlen(KEYS.trail(rid)) == 1
            # Every event of the tick was written: a duty state per reporter, the board, the fixes.
            assert written == 300 + len(await stories.all_stories(r, KEYS)) + len(on_duty)
        finally:
            await r.aclose()

    run(scenario())


def test_batched_writes_keep_the_order_the_nudges_and_each_refusal_to_its_event(
    redis_url: str, run: Run, caplog: pytest.LogCaptureFixture
) -> None:
    """Runs of fixes and of traffic windows are written a run a round trip, in the model's
    order. A refused fix (an unknown reporter, a clock an hour ahead) is dropped alone, the
    others in its run land, and no nudge is published twice."""
    now = now_ms()
    t0, minute = now - now % 1000 - 120_000, now - now % 60_000 - 60_000  # trackers send seconds

    def fix(i: int, reporter: str = "") -> schema.Location:
        ts = now + 3_600_000 if reporter == "future" else t0 + i * 1000
        rid = reporter if reporter not in ("", "future") else f"r-sim-{i % 5 + 1:02d}"
        return schema.Location(
            reporter_id=rid, lat=27.7 + i * 1e-4, lon=112.5, ts=ts, received_at=ts, source="sim"
        )

    traffic = [
        schema.Traffic(story_id="s-sim-01", channel=ch, window_start=minute, views=10 + n)
        for n, ch in enumerate(["web", "app", "wechat", "web", "weibo"] * 8)
    ]
    story = schema.Story(story_id="s-sim-01", title="t", stage="lead", updated_at=now, source="sim")
    events: list[SimEvent] = [
        *(fix(i, "r-nobody" if i == 10 else "") for i in range(25)),  # NotFound: others applied
        story,
        *(fix(i, "future" if i == 35 else "") for i in range(25, 50)),  # the whole run refused
        schema.Duty(reporter_id="r-sim-01", on_duty=False, at=now),
        *traffic,
        *(fix(i) for i in range(50, 60) if i % 5),  # not r-sim-01, who is off duty now
    ]
    good = [e for e in events if isinstance(e, schema.Location)]
    good = [f for f in good if f.reporter_id != "r-nobody" and f.ts < now]

    async def scenario() -> tuple[bool, sim_run.Progress, list[dict[str, Any]]]:
        r = db.connect(redis_url)
        pubsub = r.pubsub()
        try:
            await sim_run.register(r, KEYS, [profile(n) for n in range(1, 6)])
            await pubsub.subscribe(KEYS.live_channel)
            stats = sim_run.Progress()
            backlog = deque(events)
            registered = await sim_run._drain(r, KEYS, backlog, stats)
            assert not backlog
            nudges = []
            while message := await pubsub.get_message(timeout=1):
                if message["type"] == "message":
                    nudges.append(json.loads(message["data"]))
            for n in range(1, 6):
                rid = f"r-sim-{n:02d}"
                assert await r.xlen(KEYS.trail(rid)) == sum(f.reporter_id == rid for f in good)
            assert set(await r.zrange(KEYS.reporter_geo, 0, -1)) == {
                f"r-sim-{n:02d}" for n in range(2, 6)
            }, "r-sim-01 went off duty after its fixes"
            stored = {ch: await r.hgetall(KEYS.traffic_minute(ch)) for ch in ("web", "app")}
            assert int(stored["web"][str(minute)]) == sum(
                t.views for t in traffic[::5] + traffic[3::5]
            )
            assert int(stored["app"][str(minute)]) == sum(t.views for t in traffic[1::5])
            return registered, stats, nudges
        finally:
            await pubsub.aclose()
            await r.aclose()

    with caplog.at_level(logging.WARNING, logger="feeds.run"):
        registered, stats, nudges = run(scenario())
    assert not registered, "an unknown reporter means the roster is registered again"
    assert (stats.events, stats.dropped) == (len(events) - 2, 2)
    refusals = [m for m in caplog.messages if "refused" in m]
    assert len(refusals) == 2
    assert "no reporter r-nobody" in refusals[0] and "in the future" in refusals[1]
    # The live nudges: every fix once, in order, and the other events where they happened.
    assert [(n["reporter_id"], n["ts"]) for n in nudges if n["type"] == "location"] == [
        (f.reporter_id, f.ts) for f in good
    ]
    kinds = [n["type"] for n in nudges]
    assert kinds.index("story") == 24  # after the first run's 24 fixes
    assert kinds.index("duty") == 24 + 1 + 24
    assert kinds.index("traffic") > kinds.index("duty")
    assert kinds[-8:] == ["location"] * 8
    # A traffic run's nudges sum it per channel and minute, which the wall folds in alike.
    for ch in ("web", "app", "wechat", "weibo"):
        nudged = sum(n["views"] for n in nudges if n["type"] == "traffic" and n["channel"] == ch)
        assert nudged == sum(t.views for t in traffic if t.channel == ch)
