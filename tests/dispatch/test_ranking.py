"""Who should go: the pure ranker. Each factor moves a reporter the way a desk would expect."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch import ranking
from dispatch.errors import InvalidInput

LAT, LON = 27.73, 112.53
NOW = 1_764_210_000_000
KM_PER_DEG = ranking.EARTH_RADIUS_KM * math.pi / 180
SKILLS = ("camera", "live", "drone", "video", "photo")


def rep(
    rid: str,
    km: float = 1.0,
    age_s: int | None = 30,
    battery: float | None = 80,
    skills: tuple[str, ...] = ("camera",),
    on_duty: bool = True,
) -> dict[str, Any]:
    """A reporter `km` due north (negative: south) of the task, as reporters.get returns one."""
    return {
        "reporter_id": rid,
        "name": rid.upper(),
        "lat": LAT + km / KM_PER_DEG,
        "lon": LON,
        "fix_ts": None if age_s is None else NOW - age_s * 1000,
        "battery": battery,
        "on_duty": on_duty,
        "skills": list(skills),
        "accuracy_m": 8.0,
    }


def order(cands: list[dict[str, Any]], **kw: Any) -> list[str]:
    kw.setdefault("limit", 50)
    return [r["reporter_id"] for r in ranking.rank(cands, LAT, LON, now_ms=NOW, **kw)]


def test_closer_beats_farther() -> None:
    assert order([rep("far", 3.0), rep("near", 1.0), rep("mid", 2.0)]) == ["near", "mid", "far"]


def test_travel_time_walks_short_hops_and_drives_the_rest() -> None:
    assert ranking.travel(0.2)[1] == "on foot" and ranking.travel(2.0)[1] == "by car"
    times = [ranking.travel(km / 10)[0] for km in range(0, 300)]
    assert times == sorted(times)  # never shorter for a longer way: no jump at the mode switch
    assert ranking.travel(0.0)[0] == ranking.START_MIN
    assert ranking.distance_km(LAT, LON, LAT + 1 / KM_PER_DEG, LON) == pytest.approx(1.0)


def test_an_old_fix_loses_to_a_fresh_one_slightly_farther() -> None:
    ranked = ranking.rank(
        [rep("old", 1.0, age_s=20 * 60), rep("fresh", 1.5, age_s=30)], LAT, LON, now_ms=NOW
    )
    assert [r["reporter_id"] for r in ranked] == ["fresh", "old"]
    assert "fix 20 min old" in ranked[1]["why"]
    assert ranked[1]["factors"]["score"]["fix_age"] == 9.0  # 18 min past fresh × 0.5


def test_a_stale_fix_ranks_after_every_fresh_one() -> None:
    ranked = ranking.rank(
        [
            rep("stale", 0.1, age_s=31 * 60),
            rep("far", 20.0, age_s=60),
            rep("nofix", 0.1, age_s=None),
        ],
        LAT,
        LON,
        now_ms=NOW,
    )
    assert [r["reporter_id"] for r in ranked] == ["far", "stale", "nofix"]
    assert "fix 31 min old (stale)" in ranked[1]["why"] and ranked[1]["factors"]["stale"]
    assert "no fix time (stale)" in ranked[2]["why"]


def test_low_battery_is_penalised_and_critical_more() -> None:
    ranked = ranking.rank(
        [
            rep("crit", 1.0, battery=8),
            rep("low", 1.0, battery=15),
            rep("ok", 1.0, battery=60),
            rep("unknown", 1.0, battery=None),
        ],
        LAT,
        LON,
        now_ms=NOW,
    )
    assert [r["reporter_id"] for r in ranked] == ["ok", "unknown", "low", "crit"]
    why = {r["reporter_id"]: r["why"] for r in ranked}
    assert "battery 15 % (low)" in why["low"] and "battery 8 % (critical)" in why["crit"]
    assert "battery unknown" in why["unknown"]
    # A low battery is worth minutes, not everything: a much nearer reporter still goes first.
    assert order([rep("low-near", 0.3, battery=15), rep("ok-far", 5.0)]) == ["low-near", "ok-far"]


def test_the_busier_reporter_loses() -> None:
    ranked = ranking.rank(
        [rep("busy", 1.0), rep("free", 1.2)], LAT, LON, now_ms=NOW, workloads={"busy": 1}
    )
    assert [r["reporter_id"] for r in ranked] == ["free", "busy"]
    assert "1 open task" in ranked[1]["why"] and "no open tasks" in ranked[0]["why"]
    assert ranked[1]["factors"]["workload"] == 1


def test_missing_a_required_skill_ranks_after_everyone_who_has_them() -> None:
    cands = [
        rep("near", 0.3, skills=("camera",)),
        rep("far", 15.0, skills=("camera", "drone")),
        rep("none", 0.2, skills=()),
    ]
    ranked = ranking.rank(cands, LAT, LON, now_ms=NOW, required=("camera", "drone"))
    assert [r["reporter_id"] for r in ranked] == ["far", "near", "none"]  # fewer missing first
    assert ranked[0]["factors"]["missing_skills"] == []
    assert "has camera, drone" in ranked[0]["why"] and "no drone" in ranked[1]["why"]
    assert ranked[2]["factors"]["missing_skills"] == ["camera", "drone"]


def test_off_duty_and_unplaced_reporters_never_appear() -> None:
    cands = [
        rep("off", 0.1, on_duty=False),
        rep("on", 5.0),
        {**rep("nowhere"), "lat": None, "lon": None},
    ]
    assert order(cands) == ["on"]


def test_why_reads_like_a_desk_note() -> None:
    [best] = ranking.rank(
        [rep("a", 1.2, age_s=40, battery=76, skills=("camera",))],
        LAT,
        LON,
        now_ms=NOW,
        workloads={"a": 1},
    )
    assert best["why"] == (
        "1.2 km, ~11 min by car, fix 40 s old, battery 76 %, 1 open task, has camera"
    )
    [walker] = ranking.rank([rep("b", 0.2, skills=("live", "language:en"))], LAT, LON, now_ms=NOW)
    assert "on foot" in walker["why"] and "has language:en" not in walker["why"]
    assert "has live backpack, speaks en" in walker["why"]


def test_result_keeps_the_fields_the_desk_uses_and_explains_the_score() -> None:
    [best] = ranking.rank([rep("a", 2.0)], LAT, LON, now_ms=NOW)
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
    f = best["factors"]
    assert best["rank"] == 1 and best["distance_km"] == f["distance_km"] == pytest.approx(2.0)
    parts = f["score"]
    assert parts["total"] == pytest.approx(
        parts["eta"] + parts["fix_age"] + parts["battery"] + parts["workload"]
    )
    assert f["eta_min"] == pytest.approx(parts["eta"], abs=0.1) and f["fix_age_s"] == 30


def test_ranking_is_deterministic_and_ties_go_to_the_smaller_id() -> None:
    cands = [rep(f"r-{i:02d}", 1.0) for i in range(10)] + [rep("r-x", 0.5)]
    expected = ["r-x"] + [f"r-{i:02d}" for i in range(10)]
    for seed in range(5):
        random.Random(seed).shuffle(cands)
        assert order(cands) == expected


def test_limit_and_duplicates() -> None:
    cands = [rep(f"r{i}", i + 1.0) for i in range(8)]
    assert order(cands + cands[:2], limit=3) == ["r0", "r1", "r2"]
    assert [r["rank"] for r in ranking.rank(cands, LAT, LON, now_ms=NOW, limit=3)] == [1, 2, 3]


def test_parse_skills() -> None:
    assert ranking.parse_skills(" Camera, drone,,camera ") == ("camera", "drone")
    assert ranking.parse_skills(None) == () and ranking.parse_skills("") == ()
    with pytest.raises(InvalidInput, match="at most 10 skills"):
        ranking.parse_skills(",".join(f"s{i}" for i in range(11)))
    with pytest.raises(InvalidInput, match="at most 40 characters"):
        ranking.parse_skills("x" * 41)


def test_workload_counts_only_tasks_that_keep_someone_busy() -> None:
    states = [
        "created",
        "offered",
        "delivered",
        "accepted",
        "en_route",
        "on_scene",
        "filed",
        "done",
        "declined",
        "cancelled",
        "expired",
    ]
    tasks = [{"assignee": "a", "state": s} for s in states] + [
        {"assignee": None, "state": "offered"}
    ]
    assert ranking.count_workloads(tasks) == {"a": 5}


# --- properties ------------------------------------------------------------------------------

candidate = st.fixed_dictionaries(
    {
        "km": st.floats(-40, 40, allow_nan=False),
        "age_s": st.integers(0, 4 * 3600),
        "battery": st.none() | st.floats(0, 100, allow_nan=False),
        "skills": st.lists(st.sampled_from(SKILLS), unique=True, max_size=3),
        "on_duty": st.booleans(),
        "workload": st.integers(0, 4),
    }
)
field = st.lists(candidate, min_size=1, max_size=12)
required = st.lists(st.sampled_from(SKILLS), unique=True, max_size=2)


def build(specs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    cands = [
        rep(f"r{i:02d}", s["km"], s["age_s"], s["battery"], tuple(s["skills"]), s["on_duty"])
        for i, s in enumerate(specs)
    ]
    return cands, {f"r{i:02d}": s["workload"] for i, s in enumerate(specs)}


@settings(max_examples=200, deadline=None)
@given(field, required, st.integers(1, 15))
def test_results_are_sorted_on_duty_and_within_the_limit(
    specs: list[dict[str, Any]], need: list[str], limit: int
) -> None:
    cands, loads = build(specs)
    ranked = ranking.rank(cands, LAT, LON, now_ms=NOW, required=need, workloads=loads, limit=limit)
    on_duty = {c["reporter_id"] for c in cands if c["on_duty"]}
    assert len(ranked) == min(limit, len(on_duty))
    assert all(r["reporter_id"] in on_duty and r["on_duty"] for r in ranked)
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    keys = [
        (*r["factors"]["tier"], r["factors"]["score"]["total"], r["reporter_id"]) for r in ranked
    ]
    assert keys == sorted(keys)


def _improve(spec: dict[str, Any], how: str, amount: float, need: list[str]) -> dict[str, Any]:
    better = dict(spec)
    if how == "closer":
        better["km"] = spec["km"] * amount
    elif how == "fresher":
        better["age_s"] = int(spec["age_s"] * amount)
    elif how == "battery":
        better["battery"] = 100 - (100 - spec["battery"]) * amount if spec["battery"] else 100
    elif how == "less busy":
        better["workload"] = max(0, spec["workload"] - 1)
    else:
        better["skills"] = sorted(set(spec["skills"]) | set(need))
    return better


@settings(max_examples=300, deadline=None)
@given(
    field,
    required,
    st.data(),
    st.sampled_from(["closer", "fresher", "battery", "less busy", "skills"]),
    st.floats(0, 1, allow_nan=False),
)
def test_improving_one_factor_never_lowers_the_rank(
    specs: list[dict[str, Any]], need: list[str], data: st.DataObject, how: str, amount: float
) -> None:
    i = data.draw(st.integers(0, len(specs) - 1))
    specs[i] = {**specs[i], "on_duty": True}
    rid = f"r{i:02d}"

    def position(of: list[dict[str, Any]]) -> int:
        cands, loads = build(of)
        ranked = order(cands, required=need, workloads=loads)
        return ranked.index(rid)

    before = position(specs)
    after = position([*specs[:i], _improve(specs[i], how, amount, need), *specs[i + 1 :]])
    assert after <= before
