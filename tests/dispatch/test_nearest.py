"""Who should go, against a real Redis and a real server: GEOSEARCH, profiles, open tasks."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from dispatch import auth, db, ranking, reporters, schema, tasks
from dispatch.clock import now_ms
from dispatch.errors import InvalidInput
from dispatch.keys import Keys

pytestmark = pytest.mark.integration
KEYS = Keys("t-near")
DESK = auth.Principal(role="supervisor", subject="desk-1", token_hash="0" * 64)
LAT, LON = 27.73, 112.53
KM_PER_DEG = ranking.EARTH_RADIUS_KM * math.pi / 180


async def place(
    r: Any, keys: Keys, rid: str, km: float, skills: list[str], age_s: int = 20, battery: float = 80
) -> dict[str, Any]:
    """Register reporter `rid` with a fix `km` due north of the task, `age_s` seconds old."""
    made = await reporters.create(r, keys, rid.title(), skills, reporter_id=rid)
    t = now_ms()
    await reporters.apply_fix(
        r,
        keys,
        schema.Location(
            reporter_id=rid,
            lat=LAT + km / KM_PER_DEG,
            lon=LON,
            accuracy_m=8,
            battery=battery,
            ts=t - age_s * 1000,
            received_at=t,
            source="app",
        ),
    )
    return made


def ids(ranked: list[dict[str, Any]]) -> list[str]:
    return [rep["reporter_id"] for rep in ranked]


def test_ranks_by_distance_freshness_duty_and_skills(redis_url: str, run: Any) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        await place(r, KEYS, "near", 0.5, ["camera"])
        await place(r, KEYS, "mid", 2.0, ["camera", "drone"])
        await place(r, KEYS, "stale", 0.3, ["camera", "drone"], age_s=45 * 60)
        await place(r, KEYS, "off", 0.1, ["camera", "drone"])
        await reporters.set_duty(r, KEYS, "off", False)
        await place(r, KEYS, "flag", 0.2, ["drone"])
        # Off duty in the profile but (a race) still in the GEO set: never offered either.
        await r.hset(KEYS.reporter("flag"), "on_duty", "0")

        ranked = await reporters.nearest(r, KEYS, LAT, LON, limit=5)
        assert ids(ranked) == ["near", "mid", "stale"]
        assert [rep["rank"] for rep in ranked] == [1, 2, 3]
        assert ranked[0]["distance_km"] == pytest.approx(0.5, abs=0.01)
        assert ranked[0]["name"] == "Near" and ranked[0]["battery"] == 80
        assert "fix 45 min old (stale)" in ranked[2]["why"]

        drone = await reporters.nearest(r, KEYS, LAT, LON, limit=5, skills=["Drone", "camera"])
        assert ids(drone) == ["mid", "stale", "near"]
        assert "has drone, camera" in drone[0]["why"] and "no drone" in drone[2]["why"]
        assert drone[2]["factors"]["missing_skills"] == ["drone"]

        assert ids(await reporters.nearest(r, KEYS, LAT, LON, limit=1)) == ["near"]
        assert await reporters.nearest(r, KEYS, -LAT, LON) == []  # nobody within reach
        with pytest.raises(InvalidInput, match="at most 10 skills"):
            await reporters.nearest(r, KEYS, LAT, LON, skills=[f"s{i}" for i in range(11)])
        await r.aclose()

    run(go())


def test_open_tasks_count_as_workload(redis_url: str, run: Any) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        busy = await place(r, KEYS, "busy", 0.5, ["camera"])
        await place(r, KEYS, "free", 1.2, ["camera"])
        me = await auth.authenticate(r, KEYS, busy["token"])

        async def give(assignee: str | None) -> str:
            task, _ = await tasks.create(
                r, KEYS, DESK, title="t", lat=LAT, lon=LON, assignee=assignee
            )
            return str(task["task_id"])

        before = await reporters.nearest(r, KEYS, LAT, LON)
        assert ids(before) == ["busy", "free"] and "no open tasks" in before[0]["why"]

        await give("busy")  # offered: counts
        accepted = await give("busy")
        await tasks.change(r, KEYS, me, accepted, "accepted")  # accepted: counts
        cancelled = await give("busy")
        await tasks.change(r, KEYS, DESK, cancelled, "cancelled")  # closed: does not
        await give(None)  # nobody's: does not

        after = await reporters.nearest(r, KEYS, LAT, LON)
        assert ids(after) == ["free", "busy"]
        assert after[1]["factors"]["workload"] == 2 and "2 open tasks" in after[1]["why"]
        assert after[1]["factors"]["score"]["workload"] == 2 * ranking.TASK_MIN
        assert after[0]["factors"]["workload"] == 0
        await r.aclose()

    run(go())


def test_http_nearest_with_skills(server: Any, redis_url: str, run: Any) -> None:
    keys = Keys("default")

    async def go() -> None:
        r = db.connect(redis_url)
        await place(r, keys, "cam", 0.4, ["camera"], battery=90)
        await place(r, keys, "live", 1.5, ["camera", "live"], battery=15)
        await r.aclose()

    run(go())

    headers = {"Authorization": f"Bearer {server.admin_token}"}
    url = server.url + "/api/v1/reporters/nearest"
    with httpx.Client(headers=headers, timeout=10) as client:
        plain = client.get(url, params={"lat": LAT, "lon": LON, "limit": 5})
        assert plain.status_code == 200
        assert ids(plain.json()) == ["cam", "live"]

        res = client.get(url, params={"lat": LAT, "lon": LON, "limit": 5, "skills": "camera,live"})
        assert res.status_code == 200, res.text
        body = res.json()
        assert ids(body) == ["live", "cam"]
        best = body[0]
        for field in (
            "reporter_id",
            "name",
            "lat",
            "lon",
            "distance_km",
            "rank",
            "why",
            "fix_ts",
            "battery",
            "on_duty",
            "skills",
            "factors",
        ):
            assert field in best
        assert "has camera, live backpack" in best["why"] and "battery 15 % (low)" in best["why"]
        assert best["factors"]["missing_skills"] == [] and body[1]["factors"]["missing_skills"]
        assert "no live backpack" in body[1]["why"]

        too_many = client.get(
            url, params={"lat": LAT, "lon": LON, "skills": ",".join(f"s{i}" for i in range(11))}
        )
        assert too_many.status_code == 422 and "at most 10 skills" in too_many.json()["detail"]
        bad = client.get(url, params={"lat": 123, "lon": LON})
        assert bad.status_code == 422 and "lat" in bad.json()["detail"]
        assert (
            client.get(
                url, params={"lat": LAT, "lon": LON}, headers={"Authorization": "Bearer nope"}
            ).status_code
            == 401
        )
