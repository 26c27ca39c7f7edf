"""Acknowledging alerts (real Redis): who and when are recorded once, every desk is nudged,
only the desk may do it; and the same over REST."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from dispatch import auth, db, escalation
from dispatch.errors import Forbidden, InvalidInput, NotFound
from dispatch.keys import Keys

pytestmark = pytest.mark.integration
KEYS = Keys("t-ack")
DESK = auth.Principal(role="supervisor", subject="值班主任", token_hash="0" * 64)
OTHER = auth.Principal(role="admin", subject="admin", token_hash="1" * 64)


def test_an_acknowledgement_is_recorded_once_and_nudges_the_desks(redis_url: str, run: Any) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        pubsub = r.pubsub()
        try:
            await escalation.raise_alert(r, KEYS, "task_expired", "t-1", "not answered", "critical")
            await escalation.raise_alert(r, KEYS, "traffic_spike", "s-1", "spike", "info")
            newest, older = await escalation.alerts_with_acks(r, KEYS)
            assert (newest["kind"], older["kind"]) == ("traffic_spike", "task_expired")
            assert newest["ack"] is None and older["ack"] is None
            await pubsub.subscribe(KEYS.live_channel)
            await pubsub.get_message(timeout=1)  # the subscribe confirmation

            first = await escalation.acknowledge(r, KEYS, DESK, older["alert_id"])
            assert first["by"] == "值班主任" and first["new"] is True
            nudge = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
            assert nudge is not None
            assert json.loads(nudge["data"]) == {
                "type": escalation.ALERT_ACK,
                "v": 1,
                "alert_id": older["alert_id"],
                "by": "值班主任",
                "at": first["at"],
            }

            # A second acknowledgement (another supervisor, a retry) keeps the first.
            again = await escalation.acknowledge(r, KEYS, OTHER, older["alert_id"])
            assert again == {**first, "new": False}
            assert await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.3) is None

            newest, older = await escalation.alerts_with_acks(r, KEYS)
            assert newest["ack"] is None
            assert older["ack"] == {"by": "值班主任", "at": first["at"]}
        finally:
            await pubsub.aclose()
            await r.aclose()

    run(go())


def test_only_the_desk_acknowledges_and_only_alerts_that_exist(redis_url: str, run: Any) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        try:
            await escalation.raise_alert(r, KEYS, "no_candidate", "t-2", "nobody free")
            (alert,) = await escalation.alerts_with_acks(r, KEYS)
            for role in ("wall", "reporter", "feed"):
                who = auth.Principal(role=role, subject=role, token_hash="2" * 64)
                with pytest.raises(Forbidden):
                    await escalation.acknowledge(r, KEYS, who, alert["alert_id"])
            with pytest.raises(NotFound):
                await escalation.acknowledge(r, KEYS, DESK, "1-0")
            for bad in ("", "abc", "1-0; DEL x", "1" * 40 + "-0"):
                with pytest.raises(InvalidInput):
                    await escalation.acknowledge(r, KEYS, DESK, bad)
            assert (await escalation.alerts_with_acks(r, KEYS))[0]["ack"] is None
        finally:
            await r.aclose()

    run(go())


def test_acknowledgements_of_trimmed_alerts_are_forgotten(
    redis_url: str, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(escalation, "ALERTS_KEPT", 10)

    async def go() -> None:
        r = db.connect(redis_url)
        try:
            for i in range(12):
                await escalation.raise_alert(r, KEYS, "task_declined", f"t-{i}", "declined")
            alerts = await escalation.alerts_with_acks(r, KEYS, count=12)
            for alert in alerts:
                await escalation.acknowledge(r, KEYS, DESK, alert["alert_id"])
            # The stream dropped its two oldest entries (as XADD MAXLEN would); the next
            # acknowledgement past the cap forgets theirs.
            oldest = sorted(a["alert_id"] for a in alerts)
            await r.xdel(KEYS.alerts, *oldest[:2])
            await escalation.raise_alert(r, KEYS, "task_declined", "t-new", "declined")
            latest = (await escalation.alerts_with_acks(r, KEYS, count=1))[0]["alert_id"]
            await escalation.acknowledge(r, KEYS, DESK, latest)
            kept = set(await r.hkeys(KEYS.alert_acks))
            assert kept == {*oldest[2:], latest}
        finally:
            await r.aclose()

    run(go())


def test_acknowledge_over_rest(server: Any, run: Any) -> None:
    async def seed() -> tuple[str, str]:
        r = db.connect(server.env["REDIS_URL"])
        try:
            keys = Keys("default")
            await escalation.raise_alert(r, keys, "story_overdue", "s-9", "stuck in review")
            wall, _ = await auth.create_token(r, keys, "wall")
            desk, _ = await auth.create_token(r, keys, "supervisor", "夜班主任")
            return wall, desk
        finally:
            await r.aclose()

    wall, desk = run(seed())
    with httpx.Client(base_url=server.url, timeout=10) as http:
        (alert,) = http.get("/api/v1/alerts", headers={"Authorization": f"Bearer {wall}"}).json()
        assert alert["ack"] is None and alert["subject"] == "s-9"
        url = f"/api/v1/alerts/{alert['alert_id']}/ack"
        refused = http.post(url, headers={"Authorization": f"Bearer {wall}"})
        assert refused.status_code == 403
        done = http.post(url, headers={"Authorization": f"Bearer {desk}"})
        assert done.status_code == 200 and done.json()["by"] == "夜班主任"
        assert (
            http.post(
                "/api/v1/alerts/1-0/ack", headers={"Authorization": f"Bearer {desk}"}
            ).status_code
            == 404
        )
        (alert,) = http.get("/api/v1/alerts", headers={"Authorization": f"Bearer {desk}"}).json()
        assert alert["ack"]["by"] == "夜班主任"
