"""The simulated newsroom, as pure functions of (seed, rate, time): no Redis, no clock."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.schema import CHANNELS, STAGES, Duty, Location, Story, Traffic, decode_event, encode
from feeds import audience
from feeds.sim_content import SKILLS
from feeds.sim_field import CENTRE, DRIVE_MPS, RADIUS_M, WALK_MPS, distance_m
from feeds.simulator import PIPELINE, STORY_KEPT_S, Newsroom, SimEvent

CHINA = timezone(timedelta(hours=8))


def china_ms(hour: int, minute: int = 0) -> int:
    return int(datetime(2024, 6, 3, hour, minute, tzinfo=CHINA).timestamp() * 1000)


NOON = china_ms(12)


def simulate(
    seed: int = 1,
    rate: float = 1.0,
    seconds: int = 600,
    dt: float = 1.0,
    start: int = NOON,
    **kwargs: int,
) -> list[SimEvent]:
    """Every event of a run, starting with the initial state."""
    room = Newsroom(seed, start_ms=start, rate=rate, **kwargs)
    events = room.step(start, 0)
    steps = round(seconds / dt)
    for i in range(1, steps + 1):
        events += room.step(start + round(i * dt * 1000), dt)
    return events


def stage_rank(stage: str) -> int:
    return PIPELINE.index(stage) if stage in PIPELINE else len(PIPELINE)


def check_invariants(events: Iterable[SimEvent]) -> None:
    """What every consumer of the simulator relies on, whatever the seed and the steps."""
    on_duty: dict[str, bool] = {}
    last_fix: dict[str, int] = {}
    last_story: dict[str, Story] = {}
    for event in events:
        assert decode_event(encode(event)) == event
        if isinstance(event, Duty):
            on_duty[event.reporter_id] = event.on_duty
        elif isinstance(event, Location):
            assert event.source == "sim"
            assert on_duty.get(event.reporter_id), "a reporter off duty is never tracked"
            assert distance_m(CENTRE, (event.lat, event.lon)) <= RADIUS_M + 50
            assert event.speed_mps is not None
            assert (
                event.speed_mps == 0
                or WALK_MPS[0] <= event.speed_mps <= WALK_MPS[1]
                or DRIVE_MPS[0] <= event.speed_mps <= DRIVE_MPS[1]
            ), event.speed_mps
            assert event.battery is not None and 0 <= event.battery <= 100
            assert event.accuracy_m is not None and 5 <= event.accuracy_m <= 30
            assert event.ts > last_fix.get(event.reporter_id, 0), "fixes must be newer each time"
            last_fix[event.reporter_id] = event.ts
        elif isinstance(event, Story):
            assert event.source == "sim"
            before = last_story.get(event.story_id)
            if before is not None:
                assert event.updated_at > before.updated_at
                assert before.stage not in ("spiked", "corrected"), "spiked and corrected are final"
                if event.stage == "corrected":
                    assert before.stage == "published"
                elif event.stage != "spiked":
                    assert stage_rank(event.stage) > stage_rank(before.stage)
            if event.stage in ("published", "corrected"):
                assert event.channels, "a published story says where it was published"
            last_story[event.story_id] = event
        else:
            assert isinstance(event, Traffic)
            if event.channel in audience.REACH_CHANNELS:
                assert event.views == 0 and event.reach is not None
            else:
                assert event.reach is None and event.visitors <= event.views


def test_same_seed_same_events() -> None:
    assert [encode(e) for e in simulate(seed=7)] == [encode(e) for e in simulate(seed=7)]


def test_different_seeds_differ() -> None:
    assert [encode(e) for e in simulate(seed=7)] != [encode(e) for e in simulate(seed=8)]


def test_how_the_caller_slices_time_does_not_change_the_events() -> None:
    even = simulate(seed=3, rate=3, seconds=600, dt=1.0)
    ragged = Newsroom(3, start_ms=NOON, rate=3)
    events, now = ragged.step(NOON, 0), NOON
    for dt in [0.25, 7.5, 30.0, 2.25] * 15:
        now += round(dt * 1000)
        events += ragged.step(now, dt)
    assert [encode(e) for e in events] == [encode(e) for e in even]


def test_a_long_run_keeps_every_invariant() -> None:
    # Twelve simulated hours: shifts end, batteries run low, stories are corrected.
    check_invariants(simulate(seed=11, rate=4, seconds=3 * 3600, dt=5.0, reporters=8, stories=12))


@settings(max_examples=30, deadline=None, database=None)
@given(
    seed=st.integers(0, 2**32),
    rate=st.floats(0.5, 5.0),
    dts=st.lists(st.floats(0.0, 60.0), max_size=10),
    reporters=st.integers(1, 30),
    stories=st.integers(1, 40),
    start_hour=st.integers(0, 23),
)
def test_invariants_hold_for_any_seed_and_steps(
    seed: int, rate: float, dts: list[float], reporters: int, stories: int, start_hour: int
) -> None:
    start = china_ms(start_hour)
    room = Newsroom(seed, start_ms=start, rate=rate, reporters=reporters, stories=stories)
    events, now = room.step(start, 0), start
    for dt in dts:
        now += round(dt * 1000)
        events += room.step(now, dt)
    check_invariants(events)


def test_initial_step_shows_the_whole_newsroom() -> None:
    room = Newsroom(2, start_ms=NOON)
    first = room.step(NOON, 0)
    duties = [e for e in first if isinstance(e, Duty)]
    assert sorted(d.reporter_id for d in duties) == [f"r-sim-{n:02d}" for n in range(1, 31)]
    assert len({e.story_id for e in first if isinstance(e, Story)}) == 40
    fixed = {e.reporter_id for e in first if isinstance(e, Location)}
    assert fixed == {d.reporter_id for d in duties if d.on_duty}


def test_roster_is_chinese_named_and_the_same_for_every_seed() -> None:
    roster = Newsroom(1, start_ms=NOON).roster()
    assert roster == Newsroom(99, start_ms=NOON).roster()
    assert [p.reporter_id for p in roster] == [f"r-sim-{n:02d}" for n in range(1, 31)]
    assert len({p.name for p in roster}) == 30
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", p.name) for p in roster)
    assert all(p.skills and set(p.skills) <= set(SKILLS) and p.devices for p in roster)


def test_reporters_walk_and_drive() -> None:
    speeds = [
        e.speed_mps
        for e in simulate(seed=4, rate=5, seconds=1800)
        if isinstance(e, Location) and e.speed_mps
    ]
    assert any(s <= WALK_MPS[1] for s in speeds) and any(s >= DRIVE_MPS[0] for s in speeds)


def test_stories_move_through_the_pipeline_and_new_leads_keep_it_full() -> None:
    events = [
        e for e in simulate(seed=5, rate=10, seconds=1800, reporters=3) if isinstance(e, Story)
    ]
    latest: dict[str, str] = {}
    in_progress_at_start = None
    for e in events:
        if in_progress_at_start is None and e.updated_at > NOON:
            in_progress_at_start = sum(
                s not in ("published", "spiked", "corrected") for s in latest.values()
            )
        latest[e.story_id] = e.stage
    stages = Counter(latest.values())
    assert stages["published"] + stages["corrected"] > 40, "five hours publish a lot"
    assert stages["spiked"] >= 1
    in_progress = sum(n for s, n in stages.items() if s not in ("published", "spiked", "corrected"))
    assert in_progress == in_progress_at_start
    assert set(latest.values()) <= set(STAGES)


def test_breaking_news_spikes_the_audience_on_its_channels() -> None:
    events = simulate(seed=6, rate=10, seconds=3600, dt=2.0, reporters=3)
    breaking = {
        e.story_id
        for e in events
        if isinstance(e, Story) and e.priority == "breaking" and e.stage == "published"
    }
    published = {e.story_id for e in events if isinstance(e, Story) and e.stage == "published"}
    read = [e for e in events if isinstance(e, Traffic) and e.story_id]
    assert breaking and read
    assert {e.story_id for e in read} <= published, "only published stories have readers"
    assert {e.channel for e in read if e.story_id in breaking} == set(CHANNELS)
    per_story: dict[str, int] = {}
    for e in read:
        per_story[e.story_id or ""] = per_story.get(e.story_id or "", 0) + (e.views or e.reach or 0)
    top = max(per_story, key=per_story.__getitem__)
    assert top in breaking, "breaking news is the most read"
    assert len(per_story) > len(breaking), "other published stories draw readers too"


def test_audience_is_low_at_night_and_high_at_noon() -> None:
    for ch in CHANNELS:
        assert audience.daily_factor(china_ms(3), ch) < audience.daily_factor(NOON, ch) / 3

    def views(start: int) -> int:
        return sum(
            (e.views or e.reach or 0)
            for e in simulate(seed=1, seconds=600, start=start)
            if isinstance(e, Traffic)
        )

    assert views(china_ms(3)) < views(NOON) / 3


def test_rate_scales_the_number_of_events() -> None:
    def count(rate: float) -> int:
        room = Newsroom(9, start_ms=NOON, rate=rate)
        room.step(NOON, 0)  # the initial state is the same size at any rate
        return sum(len(room.step(NOON + i * 1000, 1.0)) for i in range(1, 601))

    assert 7 < count(10) / count(1) < 13


def test_history_fills_the_hour_before_now_once_per_channel_and_minute() -> None:
    now = NOON + 25_000
    history = Newsroom(1, start_ms=now).history(now)
    assert len(history) == 60 * len(CHANNELS)
    minutes = {e.window_start for e in history}
    assert minutes == {NOON - k * 60_000 for k in range(1, 61)}
    assert all(e.window_s == 60 and (e.views or e.reach) for e in history)
    assert history == Newsroom(1, start_ms=now).history(now)


def test_a_finished_story_draws_readers_for_a_day_then_is_forgotten() -> None:
    room = Newsroom(8, start_ms=NOON, rate=200, reporters=3)
    finished: dict[str, int] = {}  # story_id -> when it was last published/spiked/corrected
    read_late: set[str] = set()
    dt, steps = 30.0, 60  # 200 × 30 s × 60 = 100 simulated hours
    for i in range(steps + 1):
        now = NOON + round(i * dt * 1000)
        for e in room.step(now, dt if i else 0):
            if isinstance(e, Story) and e.stage in ("published", "spiked", "corrected"):
                finished[e.story_id] = e.updated_at
            elif isinstance(e, Traffic) and e.story_id and i == steps:
                read_late.add(e.story_id)
    end = NOON + round(steps * dt * 1000)
    day_ms = round(STORY_KEPT_S * 1000 / 200)  # a simulated day, in stamped (wall) time
    assert read_late, "the last step still has readers of recent stories"
    assert all(end - finished[s] <= day_ms + dt * 1000 for s in read_late)
    assert len(finished) > 3 * len(room.roster()), "four days finish many stories"
    assert len(room._stories) < len(finished) / 2  # noqa: SLF001 - the memory it keeps
