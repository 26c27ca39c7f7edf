"""Source health: heartbeats in Redis, and ok / failing / stale as time passes (injected now)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch import auth, db, sources
from dispatch.keys import Keys
from dispatch.sources import Heartbeat

Run = Callable[[Coroutine[Any, Any, Any]], Any]
T = 1_800_000_000_000
S = 1000


def beat(**changes: Any) -> dict[str, Any]:
    base = Heartbeat("app-rss", "rss", 60.0)
    return dataclasses.asdict(dataclasses.replace(base, **changes))


def test_a_source_is_ok_while_its_last_success_is_recent_then_stale() -> None:
    b = Heartbeat("app-rss", "rss", 60.0)
    b.succeeded(4, at=T, next_try=T + 60 * S)
    row = dataclasses.asdict(b)
    assert sources.status(row, T) == "ok"
    assert sources.status(row, T + 190 * S) == "ok", "3 intervals + 10 s"
    assert sources.status(row, T + 190 * S + 1) == "stale", "a dead feed is stale, not quiet"
    assert sources.with_status(row, T + 5 * S)["age_ms"] == 5 * S


def test_a_running_source_whose_steps_fail_is_failing_and_stale_once_it_stops() -> None:
    b = Heartbeat("wp", "wordpress", 60.0)
    b.succeeded(1, at=T, next_try=T + 60 * S)
    b.failed("ConnectError: refused", at=T + 60 * S, next_try=T + 61 * S)
    assert sources.status(dataclasses.asdict(b), T + 61 * S) == "ok", "one error after a success"
    for n in range(2, 9):  # the back-off grows; the collector heartbeats on every try
        at = T + 60 * S + 2**n * S
        b.failed("ConnectError: refused", at=at, next_try=at + 2**n * S)
    row = dataclasses.asdict(b)
    assert b.consecutive_errors == 8 and row["last_error"] == "ConnectError: refused"
    last = b.last_attempt or 0
    assert sources.status(row, last + 1 * S) == "failing"
    assert sources.status(row, (b.next_try or 0) + 5 * S) == "failing", "waiting out a back-off"
    assert sources.status(row, (b.next_try or 0) + 11 * S) == "stale", "the process is gone"


def test_a_source_that_never_succeeded() -> None:
    row = beat(consecutive_errors=1, last_attempt=T, next_try=T + S, last_error="boom")
    assert sources.with_status(row, T + S) == {**row, "status": "failing", "age_ms": None}
    assert sources.status(row, T + 600 * S) == "stale"
    assert sources.status(beat(), T) == "stale"


def test_a_success_clears_the_error_and_counts_items() -> None:
    b = Heartbeat("nginx", "accesslog", 1.0)
    b.failed("x" * 1000, at=T, next_try=T + S)
    assert len(b.last_error) == sources.ERROR_CHARS
    b.succeeded(7, at=T + S, next_try=T + 2 * S)
    b.succeeded(3, at=T + 2 * S, next_try=T + 3 * S)
    assert (b.ok, b.last_error, b.consecutive_errors) == (True, "", 0)
    assert (b.items_last, b.items_total, b.last_ok) == (3, 10, T + 2 * S)


@given(
    interval=st.floats(0.1, 86_400),
    since_ok=st.integers(0, 10**9),
    errors=st.integers(0, 50),
    since_attempt=st.integers(0, 10**9),
)
def test_ok_exactly_when_the_last_success_is_within_the_window(
    interval: float, since_ok: int, errors: int, since_attempt: int
) -> None:
    row = beat(
        interval_s=interval,
        last_ok=T - since_ok,
        last_attempt=T - min(since_ok, since_attempt),
        consecutive_errors=errors,
    )
    got = sources.status(row, T)
    assert got in sources.STATUSES
    assert (got == "ok") == (since_ok <= sources.fresh_window_ms(interval))
    if errors == 0:
        assert got != "failing"


def test_traffic_is_stale_only_when_every_traffic_source_is_not_ok() -> None:
    def rows(**status: str) -> list[dict[str, Any]]:
        kinds = {"nginx": "accesslog", "sim": "simulator", "rss": "rss"}
        return [{"name": n, "kind": kinds[n], "status": s} for n, s in status.items()]

    assert sources.traffic_stale(rows(nginx="stale", rss="ok"))
    assert sources.traffic_stale(rows(nginx="stale", sim="failing"))
    assert not sources.traffic_stale(rows(nginx="stale", sim="ok"))
    assert not sources.traffic_stale(rows(rss="stale")), "no traffic source: nothing to say"
    assert not sources.traffic_stale([])


@pytest.mark.integration
def test_heartbeats_are_stored_and_read_with_their_status(redis_url: str, run: Run) -> None:
    keys = Keys("srctest")

    async def go() -> None:
        r = db.connect(redis_url)
        try:
            fresh = Heartbeat("web-atom", "atom", 60.0)
            fresh.succeeded(2, at=T, next_try=T + 60 * S)
            dead = Heartbeat("nginx-web", "accesslog", 1.0)
            dead.succeeded(9, at=T - 3600 * S, next_try=T - 3599 * S)
            await sources.heartbeat(r, keys, fresh)
            await sources.heartbeat(r, keys, dead)
            await r.hset(keys.feed_health, "garbage", "{not json")
            rows = await sources.health(r, keys, now=T + 30 * S)
            assert [(x["name"], x["status"]) for x in rows] == [
                ("nginx-web", "stale"),
                ("web-atom", "ok"),
            ]
            assert rows[1]["items_total"] == 2 and rows[0]["age_ms"] == 3630 * S
            assert await sources.previous(r, keys, "web-atom") == dataclasses.asdict(fresh)
            assert await sources.previous(r, keys, "nobody") is None
        finally:
            await r.aclose()

    run(go())


@pytest.mark.integration
def test_get_feeds_lists_the_sources_for_the_wall_and_the_desk(
    server: Any, redis_url: str, run: Run
) -> None:
    keys = Keys("default")

    async def go() -> tuple[str, str]:
        r = db.connect(redis_url)
        try:
            b = Heartbeat("app-rss", "rss", 60.0)
            b.failed("HTTP 503 from the CMS", at=1, next_try=2)
            await sources.heartbeat(r, keys, b)
            wall, _ = await auth.create_token(r, keys, "wall")
            feed, _ = await auth.create_token(r, keys, "feed")
            return wall, feed
        finally:
            await r.aclose()

    wall, feed = run(go())
    for token in (wall, server.admin_token):
        got = httpx.get(server.url + "/api/v1/feeds", headers={"Authorization": f"Bearer {token}"})
        assert got.status_code == 200
        [row] = got.json()
        assert row["name"] == "app-rss" and row["status"] == "stale"
        assert row["last_error"] == "HTTP 503 from the CMS" and row["age_ms"] is None
    refused = httpx.get(server.url + "/api/v1/feeds", headers={"Authorization": f"Bearer {feed}"})
    assert refused.status_code == 403
    assert httpx.get(server.url + "/api/v1/feeds").status_code == 401
