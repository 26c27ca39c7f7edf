"""The task service against a real Redis: create, idempotency, outbox, ack, roles."""

from __future__ import annotations

from typing import Any

import pytest

from dispatch import auth, db, reporters, schema, tasks
from dispatch.clock import now_ms
from dispatch.errors import Conflict, Forbidden, InvalidInput
from dispatch.keys import Keys

pytestmark = pytest.mark.integration
KEYS = Keys("t1")
DESK = auth.Principal(role="supervisor", subject="desk-1", token_hash="0" * 64)


async def _setup(redis_url: str) -> tuple[Any, dict[str, Any]]:
    r = db.connect(redis_url)
    rep = await reporters.create(r, KEYS, "王磊", ["camera"])
    return r, rep


def test_create_offers_the_task_and_writes_the_outbox(redis_url: str, run: Any) -> None:
    async def go() -> None:
        r, rep = await _setup(redis_url)
        task, created = await tasks.create(
            r,
            KEYS,
            DESK,
            title="Flood at the dam",
            lat=27.7,
            lon=112.5,
            assignee=rep["reporter_id"],
            idempotency_key="k1",
        )
        assert created and task["state"] == "offered"
        assert [e["state"] for e in task["timeline"]] == ["created", "offered"]
        assert all(e["actor"] == "desk-1" for e in task["timeline"])
        pending = await tasks.pending(r, KEYS, rep["reporter_id"], None)
        assert len(pending) == 1 and f'"task_id":"{task["task_id"]}"' in pending[0][1]
        again, created2 = await tasks.create(
            r,
            KEYS,
            DESK,
            title="Flood at the dam",
            lat=27.7,
            lon=112.5,
            assignee=rep["reporter_id"],
            idempotency_key="k1",
        )
        assert not created2 and again["task_id"] == task["task_id"]
        assert len(await tasks.pending(r, KEYS, rep["reporter_id"], None)) == 1
        await r.aclose()

    run(go())


def test_ack_marks_delivered_and_stops_redelivery(redis_url: str, run: Any) -> None:
    async def go() -> None:
        r, rep = await _setup(redis_url)
        rid = rep["reporter_id"]
        task, _ = await tasks.create(r, KEYS, DESK, title="t", lat=27.7, lon=112.5, assignee=rid)
        ((cursor, _msg),) = await tasks.pending(r, KEYS, rid, None)
        with pytest.raises(InvalidInput, match="never sent"):
            await tasks.ack(r, KEYS, rid, "99999999999999-0")
        await tasks.ack(r, KEYS, rid, cursor)
        assert (await tasks.get(r, KEYS, task["task_id"]))["state"] == "delivered"
        assert await tasks.pending(r, KEYS, rid, None) == []
        await r.aclose()

    run(go())


def test_reporter_status_is_idempotent_and_checked(redis_url: str, run: Any) -> None:
    async def go() -> None:
        r, rep = await _setup(redis_url)
        rid = rep["reporter_id"]
        me = await auth.authenticate(r, KEYS, rep["token"])
        other = await reporters.create(r, KEYS, "李娜")
        stranger = await auth.authenticate(r, KEYS, other["token"])
        task, _ = await tasks.create(r, KEYS, DESK, title="t", lat=27.7, lon=112.5, assignee=rid)
        tid = task["task_id"]
        a = await tasks.change(r, KEYS, me, tid, "accepted", client_id="c-1")
        b = await tasks.change(r, KEYS, me, tid, "accepted", client_id="c-1")
        assert b == {**a, "replayed": True} and a["state"] == "accepted"  # the same result, marked
        timeline = (await tasks.get(r, KEYS, tid))["timeline"]
        assert [e["state"] for e in timeline].count("accepted") == 1
        with pytest.raises(Forbidden):
            await tasks.change(r, KEYS, stranger, tid, "en_route")
        with pytest.raises(Conflict) as info:
            await tasks.change(r, KEYS, me, tid, "done", client_id="c-2")
        assert info.value.code == "illegal_transition"
        with pytest.raises(Forbidden):
            await tasks.change(r, KEYS, me, tid, "cancelled")
        await r.aclose()

    run(go())


def test_out_of_order_fixes_never_move_back(redis_url: str, run: Any) -> None:
    async def go() -> None:
        r, rep = await _setup(redis_url)
        rid = rep["reporter_id"]
        t = now_ms()

        def fix(ts: int, lat: float) -> schema.Location:
            return schema.Location(reporter_id=rid, lat=lat, lon=112.5, ts=ts, received_at=t)

        assert await reporters.apply_fix(r, KEYS, fix(t - 1000, 27.70))
        assert not await reporters.apply_fix(r, KEYS, fix(t - 5000, 27.60))  # older, queued offline
        assert not await reporters.apply_fix(r, KEYS, fix(t - 1000, 27.65))  # duplicate time
        assert (await reporters.get(r, KEYS, rid))["lat"] == pytest.approx(27.70)
        with pytest.raises(InvalidInput, match="future"):
            await reporters.apply_fix(r, KEYS, fix(t + 120_000, 27.71))
        near = await reporters.nearest(r, KEYS, 27.701, 112.5, 3)
        assert near[0]["reporter_id"] == rid and "km" in near[0]["why"]
        await r.aclose()

    run(go())


def test_edit_changes_details_not_state_and_tells_the_assignee(redis_url: str, run: Any) -> None:
    from dispatch import task_edits

    async def go() -> None:
        r, rep = await _setup(redis_url)
        rid = rep["reporter_id"]
        task, _ = await tasks.create(r, KEYS, DESK, title="t", lat=27.7, lon=112.5, assignee=rid)
        edited = await task_edits.edit(
            r, KEYS, DESK, task["task_id"], {"title": "Dam, north gate", "priority": "high"}
        )
        assert (edited["title"], edited["priority"], edited["state"]) == (
            "Dam, north gate",
            "high",
            "offered",
        )
        timeline = (await tasks.get(r, KEYS, task["task_id"]))["timeline"]
        assert (
            timeline[-1]["state"] == "offered"
            and timeline[-1]["reason"] == "edited: title, priority"
        )
        assert '"change":"edited"' in (await tasks.pending(r, KEYS, rid, None))[-1][1]
        with pytest.raises(Conflict) as info:
            await task_edits.edit(
                r, KEYS, DESK, task["task_id"], {"brief": "x"}, expected_version=1
            )
        assert info.value.code == "version_conflict"
        with pytest.raises(InvalidInput, match="cannot edit state"):
            await task_edits.edit(r, KEYS, DESK, task["task_id"], {"state": "done"})
        with pytest.raises(InvalidInput, match="lat"):
            await task_edits.edit(r, KEYS, DESK, task["task_id"], {"lat": 95})
        me = await auth.authenticate(r, KEYS, rep["token"])
        with pytest.raises(Forbidden):
            await task_edits.edit(r, KEYS, me, task["task_id"], {"title": "mine now"})
        await r.aclose()

    run(go())
