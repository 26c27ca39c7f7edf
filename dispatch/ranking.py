"""Who should go: rank reporters for a place, each with why. Pure: plain values in, no I/O.

The score is a cost in minutes, lower is better: the estimated time to get there plus
penalties that turn the other factors into "minutes of travel they are worth". Two factors are
not traded against minutes but sort first, because no amount of nearness makes up for them:

    sort key = (missing required skills, stale fix, cost in minutes, reporter_id)

- Travel time: road distance is the straight line × 1.3. On foot at 5 km/h, or by car at an
  effective 25 km/h (county-town streets) plus 5 min to reach the car and park at the scene;
  whichever is faster, so the estimate never gets shorter as the distance grows (walking wins
  up to about 0.4 km). Plus 2 min to pack up and leave.
- Fix age: a fix up to 2 min old is fresh. After that the reporter may have moved: +0.5 min per
  minute of age. A fix older than 30 min is stale and ranks after every non-stale one; a
  position without a fix time ranks after those.
- Battery: below 20 % +5 min, below 10 % +15 min (the phone may die before the story is filed).
  Unknown battery costs nothing.
- Workload: +10 min for each open task assigned to the reporter (offered, delivered, accepted,
  en_route, on_scene).
- Skills: a reporter missing a required skill is kept, not dropped, but ranks after everyone who
  has them all (fewer missing first), and the why says what is missing: when nobody has a
  drone the desk still sees who is nearest.
- Off duty, or no position: never offered.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypedDict

from dispatch.errors import InvalidInput

EARTH_RADIUS_KM = 6372.797560856  # the radius Redis GEO uses, so distances agree with GEOSEARCH
DETOUR = 1.3
WALK_KMH = 5.0
DRIVE_KMH = 25.0
CAR_OVERHEAD_MIN = 5.0
START_MIN = 2.0
FRESH_S = 120
AGE_PENALTY_PER_MIN = 0.5
STALE_S = 30 * 60
BATTERY_LOW, BATTERY_LOW_MIN = 20.0, 5.0
BATTERY_CRITICAL, BATTERY_CRITICAL_MIN = 10.0, 15.0
TASK_MIN = 10.0
WORKLOAD_STATES = frozenset({"offered", "delivered", "accepted", "en_route", "on_scene"})

MAX_SKILLS = 10
MAX_SKILL_LEN = 40
SKILL_LABELS = {
    "live": "live backpack",
    "drone": "drone",
    "camera": "camera",
    "video": "video kit",
    "photo": "photo kit",
}


class Factors(TypedDict):
    """Why a reporter ranks where they do, as numbers. `score` holds the cost components (in
    minutes) and their `total`; `tier` is the part of the sort key that outranks the cost:
    [missing skills, 0 fresh | 1 stale | 2 no fix time]."""

    distance_km: float
    road_km: float
    eta_min: float
    mode: str
    fix_age_s: int | None
    stale: bool
    battery: float | None
    workload: int
    has_skills: list[str]
    missing_skills: list[str]
    score: dict[str, float]
    tier: list[int]


def parse_skills(text: str | None) -> tuple[str, ...]:
    """`camera, Drone` → ("camera", "drone"). Empty items are ignored; duplicates collapse."""
    if not text:
        return ()
    out: list[str] = []
    for item in text.split(","):
        skill = item.strip().lower()
        if not skill:
            continue
        if len(skill) > MAX_SKILL_LEN:
            raise InvalidInput(f"a skill is at most {MAX_SKILL_LEN} characters: {skill[:20]}…")
        if skill not in out:
            out.append(skill)
    if len(out) > MAX_SKILLS:
        raise InvalidInput(f"ask for at most {MAX_SKILLS} skills, not {len(out)}")
    return tuple(out)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), as Redis GEO computes it."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def travel(km: float) -> tuple[float, str]:
    """(minutes, "on foot" | "by car") to cover `km` of straight line, start-up included."""
    road = km * DETOUR
    walk = road / WALK_KMH * 60
    drive = CAR_OVERHEAD_MIN + road / DRIVE_KMH * 60
    return (START_MIN + walk, "on foot") if walk <= drive else (START_MIN + drive, "by car")


def count_workloads(tasks: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Open tasks per assignee, counting only the states that keep a reporter busy."""
    out: dict[str, int] = {}
    for task in tasks:
        who = task.get("assignee")
        if who and task.get("state") in WORKLOAD_STATES:
            out[who] = out.get(who, 0) + 1
    return out


def assess(
    rep: Mapping[str, Any],
    lat: float,
    lon: float,
    *,
    now_ms: int,
    required: Sequence[str] = (),
    workload: int = 0,
) -> Factors | None:
    """The factors for one reporter, or None if they may not be offered (off duty, no fix)."""
    if not rep.get("on_duty") or rep.get("lat") is None or rep.get("lon") is None:
        return None
    km = distance_km(lat, lon, float(rep["lat"]), float(rep["lon"]))
    eta, mode = travel(km)
    fix_ts = rep.get("fix_ts")
    age_s = max(0, (now_ms - int(fix_ts)) // 1000) if fix_ts is not None else None
    stale = age_s is None or age_s > STALE_S
    # No fix time at all is worse than any known age: it sorts after stale fixes (tier 2).
    staleness = 2 if age_s is None else int(stale)
    age_cost = 0.0 if age_s is None else AGE_PENALTY_PER_MIN * max(0, age_s - FRESH_S) / 60
    battery = rep.get("battery")
    battery_cost = 0.0
    if battery is not None:
        battery_cost = (
            BATTERY_CRITICAL_MIN
            if battery < BATTERY_CRITICAL
            else BATTERY_LOW_MIN
            if battery < BATTERY_LOW
            else 0.0
        )
    own = list(dict.fromkeys(str(s).strip().lower() for s in rep.get("skills") or ()))
    has = [s for s in required if s in own] if required else own
    missing = [s for s in required if s not in own]
    score = {
        "eta": round(eta, 2),
        "fix_age": round(age_cost, 2),
        "battery": battery_cost,
        "workload": TASK_MIN * workload,
    }
    # Ranked by the total of the components as shown, so a reader can check the order.
    score["total"] = round(sum(score.values()), 2)
    return Factors(
        distance_km=round(km, 3),
        road_km=round(km * DETOUR, 3),
        eta_min=round(eta, 1),
        mode=mode,
        fix_age_s=age_s,
        stale=stale,
        battery=battery,
        workload=workload,
        has_skills=has,
        missing_skills=missing,
        score=score,
        tier=[len(missing), staleness],
    )


def _age(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _minutes(m: float) -> str:
    n = max(1, round(m))
    return f"~{n} min" if n < 60 else f"~{n // 60} h {n % 60:02d} min"


def _skill(s: str) -> str:
    if s.startswith("language:"):
        return f"speaks {s.split(':', 1)[1]}"
    return SKILL_LABELS.get(s, s)


def why(f: Factors) -> str:
    """The factors in one short English line, e.g. "1.2 km, ~10 min by car, fix 40 s old,
    battery 76 %, 1 open task, has camera"."""
    parts = [f"{f['distance_km']:.1f} km", f"{_minutes(f['eta_min'])} {f['mode']}"]
    if f["fix_age_s"] is None:
        parts.append("no fix time (stale)")
    else:
        parts.append(f"fix {_age(f['fix_age_s'])} old" + (" (stale)" if f["stale"] else ""))
    b = f["battery"]
    if b is None:
        parts.append("battery unknown")
    else:
        note = " (critical)" if b < BATTERY_CRITICAL else " (low)" if b < BATTERY_LOW else ""
        parts.append(f"battery {round(b)} %{note}")
    n = f["workload"]
    parts.append("no open tasks" if n == 0 else f"{n} open task" + ("s" if n > 1 else ""))
    if f["has_skills"]:
        parts.append("has " + ", ".join(_skill(s) for s in f["has_skills"][:4]))
    if f["missing_skills"]:
        parts.append("no " + ", ".join(_skill(s) for s in f["missing_skills"]))
    return ", ".join(parts)


def rank(
    candidates: Iterable[Mapping[str, Any]],
    lat: float,
    lon: float,
    *,
    now_ms: int,
    required: Sequence[str] = (),
    workloads: Mapping[str, int] | None = None,
    limit: int = 5,
) -> list[dict[str, Any]]:
    """Rank reporter dicts (as `reporters.get` returns them) for the point (lat, lon).

    Returns at most `limit` dicts, best first: the reporter's own fields plus `distance_km`,
    `rank` (1-based), `why` (one English line) and `factors` (see Factors). Off-duty reporters
    and reporters without a position are left out. Ties go to the smaller reporter_id.
    """
    workloads = workloads or {}
    scored: list[tuple[tuple[int, int, float, str], Mapping[str, Any], Factors]] = []
    seen: set[str] = set()
    for rep in candidates:
        rid = str(rep["reporter_id"])
        if rid in seen:
            continue
        seen.add(rid)
        f = assess(rep, lat, lon, now_ms=now_ms, required=required, workload=workloads.get(rid, 0))
        if f is None:
            continue
        scored.append(((f["tier"][0], f["tier"][1], f["score"]["total"], rid), rep, f))
    scored.sort(key=lambda item: item[0])
    return [
        {**rep, "distance_km": f["distance_km"], "rank": i, "why": why(f), "factors": f}
        for i, (_key, rep, f) in enumerate(scored[: max(0, limit)], start=1)
    ]
