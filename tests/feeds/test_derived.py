"""Derived alerts: the pure rules (spike, overdue stage, reporter on a task with an old fix or a
low battery), and the collector raising each condition once against a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch import auth, db, escalation, reporters, schema, stories, tasks
from dispatch.clock import now_ms
from dispatch.keys import Keys
from feeds import derived
from feeds.derived import AlertSettings, DerivedAlertsCollector, Finding

Run = Callable[[Coroutine[Any, Any, Any]], Any]
MIN = 60_000
T = 1_800_000_000_000 - 1_800_000_000_000 % MIN + 30_000
KEYS = Keys("derivedtest")
DESK = auth.Principal(role="supervisor", subject="desk-1", token_hash="0" * 64)


# --- traffic spikes ------------------------------------------------------------------------------
def test_a_story_read_five_times_its_usual_rate_spikes() -> None:
    series = [20, 22, 18, 21] * 10 + [100] * 5  # 40 usual minutes, then 5 busy ones
    found = derived.spike(series, factor=3, min_views=200)
    assert found == derived.Spike(views=500, usual=20.5, times=pytest.approx(500 / 5 / 20.5))
    assert derived.spike(series, factor=5, min_views=200) is None, "4.9×, below the factor"
    assert derived.spike(series, factor=3, min_views=501) is None, "too few views to matter"


def test_a_new_story_has_no_baseline_to_spike_against() -> None:
    launch = [0] * 40 + [300] * 20  # published 20 minutes ago: its first readers, not a spike
    assert derived.spike(launch, factor=3, min_views=200) is None
    older = [0] * 20 + [10] * 35 + [300] * 5  # 35 minutes of history: enough
    assert derived.spike(older, factor=3, min_views=200) is not None


def test_the_usual_rate_is_a_median_so_an_earlier_spike_does_not_hide_a_new_one() -> None:
    series = [10] * 20 + [400] * 10 + [10] * 25 + [80] * 5
    found = derived.spike(series, factor=3, min_views=200)
    assert found is not None and found.usual == 10
    assert derived.spike([0, 0] + [1] * 40 + [3] * 5, factor=2, min_views=10) is not None, (
        "a quiet story's usual rate is at least one view a minute"
    )


@given(st.lists(st.integers(0, 10_000), max_size=90), st.floats(1.1, 20), st.integers(0, 5000))
def test_spike_rule_properties(series: list[int], factor: float, min_views: int) -> None:
    found = derived.spike(series, factor, min_views)
    if found is None:
        return
    assert found.views == sum(series[-5:]) >= min_views
    assert found.usual >= 1 and found.times >= factor
    busier = series[:-5] + [v * 2 + 1 for v in series[-5:]]
    assert derived.spike(busier, factor, min_views) is not None, "more readers: still a spike"


@given(st.integers(0, 10_000), st.integers(0, 90), st.floats(1.1, 20))
def test_a_steady_story_never_spikes(level: int, minutes: int, factor: float) -> None:
    assert derived.spike([level] * minutes, factor, 0) is None


# --- stories stuck in a stage --------------------------------------------------------------------
def story(
    story_id: str, stage: str, minutes_ago: float, title: str = "防汛调度会"
) -> dict[str, Any]:
    return {
        "story_id": story_id,
        "title": title,
        "stage": stage,
        "updated_at": int(T - minutes_ago * MIN),
    }


def test_a_story_past_its_stage_limit_is_overdue() -> None:
    limits = AlertSettings().stage_limits_min
    found = derived.overdue_stories(
        [
            story("s1", "editing", 61),
            story("s2", "editing", 59),
            story("s3", "review", 125),
            story("s4", "published", 10_000),
            story("s5", "reporting", 239),
        ],
        limits,
        T,
    )
    assert found == [
        Finding("story_overdue", "s1", "s1:editing",
                "“防汛调度会” has been in editing for 1 h 1 min (limit 60 min)"),
        Finding("story_overdue", "s3", "s3:review",
                "“防汛调度会” has been in review for 2 h 5 min (limit 30 min)"),
    ]  # fmt: skip
    [zh] = derived.overdue_stories([story("s1", "review", 45)], limits, T, lang="zh")
    assert zh.text == "“防汛调度会”处于「审核」已 45分钟 (时限 30 分钟)"


# --- reporters on a task -------------------------------------------------------------------------
def task(task_id: str, state: str, assignee: str | None, title: str = "暴雨现场") -> dict[str, Any]:
    return {
        "task_id": task_id,
        "title": title,
        "state": state,
        "assignee": assignee,
        "created_at": T - 3600_000,
    }


def rep(rid: str, fix_min_ago: float | None, battery: float | None = 80) -> dict[str, Any]:
    fix = None if fix_min_ago is None else int(T - fix_min_ago * MIN)
    return {"reporter_id": rid, "name": {"r1": "王磊", "r2": "李娜"}.get(rid, rid),
            "fix_ts": fix, "battery": battery}  # fmt: skip


def test_reporters_on_a_task_with_an_old_fix_or_a_low_battery() -> None:
    profiles = {
        "r1": rep("r1", 25, battery=9),
        "r2": rep("r2", 2),
        "r3": rep("r3", None),
        "r4": rep("r4", 60, battery=5),
    }
    found = derived.reporter_findings(
        [
            task("t1", "en_route", "r1"),
            task("t2", "on_scene", "r1", "second task"),
            task("t3", "accepted", "r2"),
            task("t4", "accepted", "r3"),
            task("t5", "offered", "r4"),  # not on it yet: not watched
        ],
        profiles,
        fix_stale_min=10,
        battery_low=15,
        now=T,
    )
    assert [(f.kind, f.subject) for f in found] == [
        ("location_stale", "r1"),
        ("battery_low", "r1"),
        ("location_stale", "r3"),
    ], "one finding of each kind per reporter"
    assert found[0].text == "王磊 (task “暴雨现场”, en route): no location for 25 min"
    assert found[1].text == "王磊 (task “暴雨现场”, en route): battery at 9%"
    assert found[2].text == "r3 (task “暴雨现场”, accepted): no location yet"
    zh = derived.reporter_findings([task("t1", "on_scene", "r1")], profiles, 10, 15, T, "zh")
    assert [f.text for f in zh] == [
        "王磊 (任务“暴雨现场”, 已到达现场): 已 25分钟 没有定位",
        "王磊 (任务“暴雨现场”, 已到达现场): 电量仅剩 9%",
    ]


# --- the collector against Redis ----------------------------------------------------------------
async def seed(r: Any) -> dict[str, str]:
    """A spiking story, a story stuck in editing, a reporter en route with an old fix and a low
    battery; and a quiet story and a reporter with nothing wrong."""
    if now_ms() % MIN > 50_000:  # the rules must see the same minutes as were written
        await asyncio.sleep((MIN - now_ms() % MIN) / 1000 + 0.05)
    now = now_ms()
    minute = stories.minute_of(now)
    for sid, title, stage, age in (
        ("hot", "防汛调度会", "published", 5),
        ("calm", "东山街道", "published", 5),
        ("stuck", "冬季安全", "editing", 90),
    ):
        await stories.upsert_story(
            r,
            KEYS,
            schema.Story(story_id=sid, title=title, stage=stage, updated_at=now - age * MIN),
        )
    batch = []
    for back in range(45, -1, -1):
        start = minute - back * MIN
        hot = 100 if back < 5 else 10
        batch += [
            schema.Traffic(story_id="hot", channel="app", window_start=start, views=hot),
            schema.Traffic(story_id="hot", channel="web", window_start=start, views=hot // 2),
            schema.Traffic(story_id="calm", channel="web", window_start=start, views=60),
        ]
    await stories.record_traffic_batch(r, KEYS, batch, now)
    late = await reporters.create(r, KEYS, "王磊")
    fine = await reporters.create(r, KEYS, "李娜")
    for who, fix_age, battery in ((late, 20, 8.0), (fine, 1, 90.0)):
        await reporters.apply_fix(
            r,
            KEYS,
            schema.Location(
                reporter_id=who["reporter_id"],
                lat=27.73,
                lon=112.53,
                battery=battery,
                ts=now - fix_age * MIN,
                received_at=now,
            ),
        )
        t, _ = await tasks.create(
            r, KEYS, DESK, title="暴雨现场", lat=27.7, lon=112.5, assignee=who["reporter_id"]
        )
        me = await auth.authenticate(r, KEYS, who["token"])
        await tasks.change(r, KEYS, me, t["task_id"], "accepted")
        await tasks.change(r, KEYS, me, t["task_id"], "en_route")
    return {"late": late["reporter_id"], "fine": fine["reporter_id"]}


@pytest.mark.integration
def test_the_collector_raises_each_condition_once(redis_url: str, run: Run) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        try:
            ids = await seed(r)
            alerts = DerivedAlertsCollector(AlertSettings(), lang="en")
            assert alerts.name == alerts.kind == "derived-alerts" and alerts.interval_s == 30
            assert await alerts.step(r, KEYS) == 4
            raised = await escalation.recent_alerts(r, KEYS)
            assert sorted((a["kind"], a["subject"]) for a in raised) == [
                ("battery_low", ids["late"]),
                ("location_stale", ids["late"]),
                ("story_overdue", "stuck"),
                ("traffic_spike", "hot"),
            ]
            spike = next(a for a in raised if a["kind"] == "traffic_spike")
            assert spike["text"] == (
                "“防汛调度会”: traffic spike, 750 views in the last 5 min, 10.0× its usual 15/min"
            )
            assert spike["severity"] == "info"

            assert await alerts.step(r, KEYS) == 0, "an ongoing condition is not raised again"
            mark = KEYS.derived_alert("traffic_spike", "hot")
            assert 1790 <= await r.ttl(mark) <= 1800, "... for repeat_min (30) minutes"
            await r.delete(mark)
            assert await alerts.step(r, KEYS) == 1, "... and is raised again after that"
            assert len(await escalation.recent_alerts(r, KEYS)) == 5
        finally:
            await r.aclose()

    run(go())


@pytest.mark.integration
def test_the_collector_writes_in_the_servers_language_and_can_be_turned_off(
    redis_url: str, run: Run
) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        try:
            await seed(r)
            off = DerivedAlertsCollector(AlertSettings(enabled=False))
            assert await off.step(r, KEYS) == 0
            zh = DerivedAlertsCollector(AlertSettings(stage_limits_min={}, battery_low=0))
            assert await zh.step(r, KEYS) == 2
            texts = sorted(a["text"] for a in await escalation.recent_alerts(r, KEYS))
            assert texts[0].startswith("“防汛调度会”流量突增: 近5分钟阅读量 750"), texts
            assert texts[1].startswith("王磊 (任务“暴雨现场”, 在途): 已 20分钟 没有定位"), texts
        finally:
            await r.aclose()

    run(go())


@pytest.mark.integration
def test_an_alert_that_fails_to_go_out_is_tried_again(redis_url: str, run: Run) -> None:
    finding = Finding("story_overdue", "s1", "s1:editing", "late")

    async def go() -> None:
        r = db.connect(redis_url)
        try:
            await r.set(KEYS.alerts, "not a stream")  # so the XADD inside raise_alert fails
            with pytest.raises(Exception, match="WRONGTYPE"):
                await derived.raise_once(r, KEYS, finding, 1800)
            assert not await r.exists(KEYS.derived_alert("story_overdue", "s1:editing"))
            await r.delete(KEYS.alerts)
            assert await derived.raise_once(r, KEYS, finding, 1800)
            assert not await derived.raise_once(r, KEYS, finding, 1800)
        finally:
            await r.aclose()

    run(go())
