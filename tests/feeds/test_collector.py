"""The collector runner against a real Redis: heartbeats, back-off, isolation, stopping; and
`newsroom feeds` as a user runs it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from hypothesis import given
from hypothesis import strategies as st

from dispatch import db, sources
from dispatch.keys import Keys
from dispatch.sources import Heartbeat
from feeds import collector
from feeds.collector import Backoff, run_collector, run_collectors

Run = Callable[[Coroutine[Any, Any, Any]], Any]
KEYS = Keys("colltest")
ROOT = Path(__file__).resolve().parents[2]
FAST = Backoff(first_s=0.05, max_s=0.4, jitter=0.0)


class Counting:
    """Applies `per_step` items each step, and remembers when it stepped."""

    kind = "simulator"

    def __init__(self, name: str = "counting", interval_s: float = 0.05, per_step: int = 2):
        self.name, self.interval_s, self.per_step = name, interval_s, per_step
        self.steps: list[float] = []

    async def step(self, r: aioredis.Redis, keys: Keys) -> int:
        self.steps.append(time.monotonic())
        return self.per_step


class Failing(Counting):
    """Raises for its first `failures` steps (forever by default), then counts."""

    kind = "rss"

    def __init__(self, name: str = "failing", failures: int = 10**9, interval_s: float = 0.05):
        super().__init__(name, interval_s)
        self.failures = failures

    async def step(self, r: aioredis.Redis, keys: Keys) -> int:
        self.steps.append(time.monotonic())
        if len(self.steps) <= self.failures:
            raise ConnectionError(f"the CMS refused connection #{len(self.steps)}")
        return 1


class Hanging(Counting):
    kind = "wordpress"

    async def step(self, r: aioredis.Redis, keys: Keys) -> int:
        self.steps.append(time.monotonic())
        await asyncio.Event().wait()
        return 0


async def stored(r: aioredis.Redis, name: str) -> dict[str, Any]:
    found = await sources.previous(r, KEYS, name)
    assert found is not None, f"no heartbeat for {name}"
    return found


# --- back-off (pure) -----------------------------------------------------------------------------
def test_backoff_doubles_from_one_second_to_five_minutes() -> None:
    b = Backoff(jitter=0.0)
    assert [b.delay(n) for n in (1, 2, 3, 4, 9, 10, 1000)] == [1, 2, 4, 8, 256, 300, 300]


@given(errors=st.integers(1, 10_000), jitter=st.floats(0, 0.9), seed=st.integers(0, 2**32))
def test_backoff_jitter_only_shortens_within_bounds(errors: int, jitter: float, seed: int) -> None:
    import random

    b = Backoff(first_s=1.0, max_s=300.0, jitter=jitter)
    ceiling = min(300.0, 2.0 ** min(errors - 1, 60))
    got = b.delay(errors, random.Random(seed))
    assert ceiling * (1 - jitter) - 1e-9 <= got <= ceiling + 1e-9


# --- the runner against Redis --------------------------------------------------------------------
@pytest.mark.integration
def test_a_failing_collector_does_not_stop_the_others(
    redis_url: str, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collector, "STOP_GRACE_S", 0.3)  # then the hung step is cancelled
    ok, bad, hung = Counting(), Failing(), Hanging("hung", interval_s=0.05)

    async def go() -> None:
        r = db.connect(redis_url)
        stop = asyncio.Event()
        try:
            job = asyncio.create_task(run_collectors(r, KEYS, [ok, bad, hung], stop, FAST))
            await asyncio.sleep(1.2)
            stop.set()
            await asyncio.wait_for(job, 2)
            good = await stored(r, "counting")
            assert good["ok"] and good["consecutive_errors"] == 0
            assert good["items_total"] == 2 * len(ok.steps) and len(ok.steps) >= 10
            failing = await stored(r, "failing")
            assert not failing["ok"] and failing["consecutive_errors"] == len(bad.steps) >= 3
            assert failing["last_error"].startswith("ConnectionError: the CMS refused")
            assert failing["last_ok"] is None and failing["kind"] == "rss"
            assert len(hung.steps) == 1, "still in its first step (it hangs)"
            rows = {row["name"]: row["status"] for row in await sources.health(r, KEYS)}
            assert rows == {"counting": "ok", "failing": "failing"}, "hung: no heartbeat yet"
        finally:
            await r.aclose()

    run(go())


class Flaky(Failing):
    """Fails `failures` times, then works; notes the pause its last heartbeat planned."""

    def __init__(self, failures: int, interval_s: float) -> None:
        super().__init__("flaky", failures, interval_s)
        self.planned: list[float] = []

    async def step(self, r: aioredis.Redis, keys: Keys) -> int:
        beat = await sources.previous(r, keys, self.name)
        if beat is not None:
            self.planned.append((beat["next_try"] - beat["last_attempt"]) / 1000)
        return await super().step(r, keys)


@pytest.mark.integration
def test_backoff_grows_while_failing_and_resets_on_success(redis_url: str, run: Run) -> None:
    flaky = Flaky(failures=4, interval_s=0.6)
    seen: list[tuple[bool, str]] = []

    async def go() -> None:
        r = db.connect(redis_url)
        stop = asyncio.Event()

        def changed(beat: Heartbeat, before: str) -> None:
            seen.append((beat.ok, before))

        try:
            job = asyncio.create_task(run_collector(r, KEYS, flaky, stop, FAST, changed))
            while len(flaky.steps) < 7:
                await asyncio.sleep(0.02)
            beat = await stored(r, "flaky")
            stop.set()
            await asyncio.wait_for(job, 2)
            assert beat["ok"] and beat["consecutive_errors"] == 0 and beat["last_error"] == ""
        finally:
            await r.aclose()

    run(go())
    # 4 failures: 0.05, 0.1, 0.2, 0.4 s; then successes: the 0.6 s interval (less the step).
    assert [round(p, 2) for p in flaky.planned[:4]] == [0.05, 0.1, 0.2, 0.4]
    assert all(0.4 < p <= 0.6 for p in flaky.planned[4:6]), flaky.planned
    gaps = [b - a for a, b in zip(flaky.steps, flaky.steps[1:], strict=False)]
    assert all(gap >= planned - 0.02 for gap, planned in zip(gaps, flaky.planned, strict=False))
    assert seen == [(False, ""), (True, "failing")], "told once when failing, once when back"


@pytest.mark.integration
def test_a_hung_step_times_out_and_counts_as_an_error(
    redis_url: str, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collector, "MIN_STEP_TIMEOUT_S", 0.2)
    hung = Hanging("hung", interval_s=0.01)

    async def go() -> None:
        r = db.connect(redis_url)
        stop = asyncio.Event()
        try:
            job = asyncio.create_task(run_collector(r, KEYS, hung, stop, FAST))
            await asyncio.sleep(0.7)
            stop.set()
            await asyncio.wait_for(job, 2)
            beat = await stored(r, "hung")
            assert beat["consecutive_errors"] >= 2
            assert beat["last_error"] == "step timed out after 0.2 s"
        finally:
            await r.aclose()

    run(go())


@pytest.mark.integration
def test_a_restarted_collector_keeps_its_last_success(redis_url: str, run: Run) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        stop = asyncio.Event()
        try:
            before = Heartbeat("failing", "rss", 0.05)
            before.succeeded(5, at=1_700_000_000_000, next_try=1_700_000_000_050)
            await sources.heartbeat(r, KEYS, before)
            job = asyncio.create_task(run_collector(r, KEYS, Failing(), stop, FAST))
            await asyncio.sleep(0.2)
            stop.set()
            await asyncio.wait_for(job, 2)
            beat = await stored(r, "failing")
            assert beat["last_ok"] == 1_700_000_000_000 and beat["items_total"] == 5
            assert beat["consecutive_errors"] >= 1
        finally:
            await r.aclose()

    run(go())


def test_the_runner_outlives_redis_being_away(tmp_path: Path, run: Run) -> None:
    counting = Counting()

    async def go() -> Heartbeat:
        r = db.connect(f"unix://{tmp_path}/nothing-here.sock")
        stop = asyncio.Event()
        try:
            job = asyncio.create_task(run_collector(r, KEYS, counting, stop, FAST))
            await asyncio.sleep(0.4)
            stop.set()
            return await asyncio.wait_for(job, 2)
        finally:
            await r.aclose()

    beat = run(go())
    assert beat.ok and len(counting.steps) >= 3, "heartbeats that fail to store stop nothing"


def test_collector_names_must_be_unique(run: Run, tmp_path: Path) -> None:
    async def go() -> None:
        r = db.connect(f"unix://{tmp_path}/nothing-here.sock")
        try:
            await run_collectors(r, KEYS, [Counting("a"), Counting("a")], asyncio.Event())
        finally:
            await r.aclose()

    with pytest.raises(ValueError, match="unique"):
        run(go())


# --- `newsroom feeds` as a user runs it ----------------------------------------------------------
def newsroom(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dispatch.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
    )


def env_for(redis_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "NEWSROOM_DATA_DIR": str(tmp_path), "NEWSROOM_TENANT": "colltest"}
    env.pop("NEWSROOM_FEEDS_CONFIG", None)
    return {**env, "REDIS_URL": redis_url, **extra}


def health(redis_url: str, run: Run) -> dict[str, dict[str, Any]]:
    async def go() -> dict[str, dict[str, Any]]:
        r = db.connect(redis_url)
        try:
            return {row["name"]: row for row in await sources.health(r, KEYS)}
        finally:
            await r.aclose()

    return dict(run(go()))


@pytest.mark.integration
def test_newsroom_feeds_with_a_config_runs_its_sources_and_heartbeats(
    redis_url: str, tmp_path: Path, run: Run
) -> None:
    config = tmp_path / "feeds.toml"
    config.write_text(
        '[[source]]\nname = "demo"\nkind = "simulator"\nrate = 20\nreporters = 3\nstories = 4\n'
        "[alerts]\ninterval_s = 5\n",
        encoding="utf-8",
    )
    out = newsroom(
        "feeds", "--config", str(config), "--duration", "3", env=env_for(redis_url, tmp_path)
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert str(config) in lines[0] and "/api/v1/feeds" in lines[0], "it says where things go"
    assert any(line.split()[:2] == ["demo", "simulator"] and "(new)" in line for line in lines)
    assert any(line.split()[:2] == ["derived-alerts", "derived-alerts"] for line in lines)
    assert lines[-1] == "feeds stopped"
    rows = health(redis_url, run)
    assert set(rows) == {"demo", "derived-alerts"}
    assert rows["demo"]["status"] == "ok" and rows["demo"]["items_total"] > 0
    assert rows["derived-alerts"]["status"] == "ok" and rows["derived-alerts"]["interval_s"] == 5

    again = newsroom(
        "feeds", "--config", str(config), "--duration", "0.5", env=env_for(redis_url, tmp_path)
    )
    assert again.returncode == 0, again.stderr
    assert any(
        line.split()[:2] == ["demo", "simulator"] and "(ok, last ok" in line
        for line in again.stdout.splitlines()
    ), "a restart shows each source's state"


@pytest.mark.integration
def test_newsroom_feeds_without_a_config_runs_the_simulator_as_before(
    redis_url: str, tmp_path: Path, run: Run
) -> None:
    out = newsroom("feeds", "--duration", "2.5", "--rate", "20", env=env_for(redis_url, tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("simulating a newsroom") and "events written" in out.stdout
    assert health(redis_url, run)["simulator"]["status"] == "ok", "the simulator heartbeats too"


def test_a_bad_config_stops_newsroom_feeds_with_the_line_and_the_reason(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text(
        '[[source]]\nname = "x"\nkind = "rss"\nurl = "https://cms.example/x.xml"\n'
        'channel = "app"\n\n[[source]]\nname = "y"\nkind = "gopher"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "NEWSROOM_DATA_DIR": str(tmp_path)}
    env.pop("REDIS_URL", None)
    env.pop("NEWSROOM_FEEDS_CONFIG", None)
    out = newsroom("feeds", env=env, timeout=30)  # NEWSROOM_DATA_DIR/feeds.toml is the default
    assert out.returncode == 2
    assert f"{tmp_path / 'feeds.toml'}:9 [[source]] 'y': unknown kind 'gopher'" in out.stderr
    assert not (tmp_path / "redis.sock").exists(), "nothing was started"
    missing = newsroom("feeds", "--config", str(tmp_path / "nope.toml"), env=env, timeout=30)
    assert missing.returncode == 2 and "cannot read the feeds config" in missing.stderr


@pytest.mark.integration
def test_newsroom_simulate_ignores_the_feeds_config(
    redis_url: str, tmp_path: Path, run: Run
) -> None:
    (tmp_path / "feeds.toml").write_text("[alerts]\ninterval_s = 5\n", encoding="utf-8")
    out = newsroom(
        "simulate", "--duration", "1.5", "--rate", "20", env=env_for(redis_url, tmp_path)
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("simulating a newsroom")
    assert "derived-alerts" not in health(redis_url, run)


def test_heartbeat_json_has_the_documented_fields() -> None:
    fields = set(json.loads(json.dumps(Heartbeat("n", "rss", 1.0).__dict__)))
    assert fields == {
        "name", "kind", "interval_s", "ok", "last_ok", "last_attempt", "last_error",
        "items_total", "items_last", "consecutive_errors", "next_try",
    }  # fmt: skip
