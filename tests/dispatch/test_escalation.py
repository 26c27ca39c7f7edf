"""Deadlines and escalation against a real Redis: expiry, alerts, re-offer, exactly once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from dispatch import auth, db, escalation, reporters, schema, tasks
from dispatch.clock import now_ms
from dispatch.keys import Keys

pytestmark = pytest.mark.integration
KEYS = Keys("t-esc")
DESK = auth.Principal(role="supervisor", subject="desk-1", token_hash="0" * 64)
FAST = {"breaking": 1, "high": 60, "normal": 600}


async def _two_reporters(r: Any) -> list[str]:
    ids = []
    for i, name in enumerate(["王磊", "李娜"]):
        rep = await reporters.create(r, KEYS, name)
        await reporters.apply_fix(
            r,
            KEYS,
            schema.Location(
                reporter_id=rep["reporter_id"],
                lat=27.73 + 0.01 * i,
                lon=112.53,
                ts=now_ms(),
                received_at=now_ms(),
            ),
        )
        ids.append(rep["reporter_id"])
    return ids


def test_unanswered_offer_expires_alerts_and_goes_to_the_next(redis_url: str, run: Any) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        first, second = await _two_reporters(r)
        task, _ = await tasks.create(
            r,
            KEYS,
            DESK,
            title="Fire",
            lat=27.73,
            lon=112.53,
            priority="breaking",
            assignee=first,
            ack_timeouts=FAST,
        )
        assert task["offer_deadline"] - task["updated_at"] == 1000
        assert await escalation.fire_due(r, KEYS, FAST, True, now=now_ms()) == 0  # not yet due
        later = now_ms() + 1500
        assert await escalation.fire_due(r, KEYS, FAST, True, now=later) == 1
        now = await tasks.get(r, KEYS, task["task_id"])
        assert (
            now["state"] == "offered"
            and now["assignee"] == second
            and now["tried"] == [first, second]
        )
        assert [e["state"] for e in now["timeline"]] == ["created", "offered", "expired", "offered"]
        alerts = await escalation.recent_alerts(r, KEYS)
        assert alerts[0]["kind"] == "task_expired" and alerts[0]["severity"] == "critical"
        # The first reporter is told it expired; the second gets the task.
        assert '"change":"expired"' in (await tasks.pending(r, KEYS, first, None))[-2][1]
        assert '"type":"task"' in (await tasks.pending(r, KEYS, second, None))[-1][1]
        # Nobody left: the desk is alerted, the task stays expired.
        await escalation.fire_due(r, KEYS, FAST, True, now=later + 2000)
        final = await tasks.get(r, KEYS, task["task_id"])
        assert final["state"] == "expired"
        assert (await escalation.recent_alerts(r, KEYS))[0]["kind"] == "no_candidate"
        await r.aclose()

    run(go())


def test_answered_offer_never_fires_and_timers_fire_once(redis_url: str, run: Any) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        first, _ = await _two_reporters(r)
        me = auth.Principal(role="reporter", subject=first, token_hash="1" * 64)
        answered, _ = await tasks.create(
            r,
            KEYS,
            DESK,
            title="a",
            lat=27.73,
            lon=112.53,
            priority="breaking",
            assignee=first,
            ack_timeouts=FAST,
        )
        await tasks.change(r, KEYS, me, answered["task_id"], "accepted")
        waiting = [
            (
                await tasks.create(
                    r,
                    KEYS,
                    DESK,
                    title=f"w{i}",
                    lat=27.73,
                    lon=112.53,
                    priority="breaking",
                    assignee=first,
                    ack_timeouts=FAST,
                )
            )[0]
            for i in range(20)
        ]
        later = now_ms() + 5000
        clients = [db.connect(redis_url) for _ in range(3)]  # three "processes" racing
        counts = await asyncio.gather(
            *(escalation.fire_due(c, KEYS, FAST, False, now=later) for c in clients)
        )
        assert sum(counts) == 20
        for t in waiting:
            states = [e["state"] for e in (await tasks.get(r, KEYS, t["task_id"]))["timeline"]]
            assert states.count("expired") == 1
        assert (await tasks.get(r, KEYS, answered["task_id"]))["state"] == "accepted"
        for c in [r, *clients]:
            await c.aclose()

    run(go())


def test_a_claimed_timer_of_a_dead_process_fires_after_its_lease(redis_url: str, run: Any) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        first, _ = await _two_reporters(r)
        task, _ = await tasks.create(
            r,
            KEYS,
            DESK,
            title="t",
            lat=27.73,
            lon=112.53,
            priority="breaking",
            assignee=first,
            ack_timeouts=FAST,
        )
        # A process claims the timer and dies before firing it.
        member = f"{task['task_id']}|1"
        await r.zrem(KEYS.timers, member)
        await r.zadd(KEYS.timers_claimed, {member: now_ms() + escalation.LEASE_MS})
        assert await escalation.fire_due(r, KEYS, FAST, False, now=now_ms() + 2000) == 0
        assert (
            await escalation.fire_due(
                r, KEYS, FAST, False, now=now_ms() + escalation.LEASE_MS + 1000
            )
            == 1
        )
        assert (await tasks.get(r, KEYS, task["task_id"]))["state"] == "expired"
        await r.aclose()

    run(go())


def test_decline_goes_back_with_its_reason_through_the_server(
    redis_url: str, tmp_path: Any, run: Any
) -> None:
    from servers import Server

    srv = Server(redis_url, tmp_path, extra_env={"NEWSROOM_ACK_TIMEOUTS": "breaking=1"}).start()
    admin = {"Authorization": f"Bearer {srv.admin_token}"}
    try:
        reps = [
            httpx.post(srv.url + "/api/v1/reporters", json={"name": n}, headers=admin).json()
            for n in ("甲", "乙")
        ]
        for i, rep in enumerate(reps):
            run(_fix(redis_url, rep["reporter_id"], 27.73 + 0.01 * i))
        task = httpx.post(
            srv.url + "/api/v1/tasks",
            headers=admin,
            json={
                "title": "t",
                "lat": 27.73,
                "lon": 112.53,
                "priority": "breaking",
                "assignee": reps[0]["reporter_id"],
            },
        ).json()
        mine = {"Authorization": f"Bearer {reps[0]['token']}"}
        url = f"{srv.url}/api/v1/tasks/{task['task_id']}/transitions"
        assert httpx.post(url, json={"state": "declined"}, headers=mine).status_code == 422
        got = httpx.post(
            url, json={"state": "declined", "reason": "on another story"}, headers=mine
        ).json()
        assert got["state"] == "declined"
        now = httpx.get(f"{srv.url}/api/v1/tasks/{task['task_id']}", headers=admin).json()
        assert now["assignee"] == reps[1]["reporter_id"] and now["state"] == "offered"
        declined = [e for e in now["timeline"] if e["state"] == "declined"]
        assert declined[0]["reason"] == "on another story"
        alerts = httpx.get(srv.url + "/api/v1/alerts", headers=admin).json()
        assert alerts[0]["kind"] == "task_declined" and "on another story" in alerts[0]["text"]
        # The second reporter does not answer: the server's own timer expires the offer.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            state = httpx.get(f"{srv.url}/api/v1/tasks/{task['task_id']}", headers=admin).json()[
                "state"
            ]
            if state == "expired":
                break
            time.sleep(0.2)
        assert state == "expired"
    finally:
        srv.stop()


async def _fix(redis_url: str, rid: str, lat: float) -> None:
    r = db.connect(redis_url)
    await reporters.apply_fix(
        r,
        Keys("default"),
        schema.Location(reporter_id=rid, lat=lat, lon=112.53, ts=now_ms(), received_at=now_ms()),
    )
    await r.aclose()
