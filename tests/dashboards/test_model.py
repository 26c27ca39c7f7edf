"""The live state a page keeps, and how events change it: pure, no Redis."""

from __future__ import annotations

from dash import Patch

from dashboards import batching, live, model
from dashboards.model import LiveState
from dispatch import schema
from dispatch.bus import RESYNC

MINUTE = 60_000
NOW = 1_800_000_000_000 - 1_800_000_000_000 % MINUTE + 30_000  # half-way through a minute


def snapshot() -> LiveState:
    reporters = [
        {
            "reporter_id": "r1",
            "name": "王磊",
            "on_duty": True,
            "lat": 27.7,
            "lon": 112.5,
            "fix_ts": NOW - 10_000,
            "battery": 80.0,
        },
        {
            "reporter_id": "r2",
            "name": "李娜",
            "on_duty": False,
            "lat": None,
            "lon": None,
            "fix_ts": None,
            "battery": None,
        },
    ]
    tasks = [
        task_doc("t1", "offered", 2, created_at=NOW - 5_000),
        task_doc("t2", "done", 5, created_at=NOW - 9_000),
    ]
    stories = [{"story_id": "s1", "stage": "lead", "updated_at": NOW - 1_000}]
    traffic = {"app": [1] * 60}
    return model.from_snapshot(reporters, tasks, stories, traffic, NOW)


def task_doc(
    tid: str, state: str, version: int, priority: str = "normal", created_at: int = NOW
) -> dict:
    return {
        "task_id": tid,
        "title": f"title {tid}",
        "brief": "",
        "lat": 27.7,
        "lon": 112.5,
        "priority": priority,
        "assignee": "r1",
        "deadline": None,
        "state": state,
        "version": version,
        "story_id": None,
        "created_by": "desk",
        "created_at": created_at,
        "updated_at": created_at,
    }


def fix(rid: str, ts: int, lat: float = 27.8) -> schema.Location:
    return schema.Location(reporter_id=rid, lat=lat, lon=112.6, ts=ts, received_at=ts)


def test_snapshot_keeps_open_tasks_and_pads_every_channel_to_an_hour() -> None:
    state = snapshot()

    assert set(state.tasks) == {"t1"}
    assert set(state.traffic) == set(schema.CHANNELS)
    assert all(len(series) == 60 for series in state.traffic.values())
    assert state.on_duty == 1 and state.on_map == 1


def test_a_fix_moves_the_reporter_and_an_older_one_does_not() -> None:
    state = snapshot()

    parts = model.apply(state, fix("r1", NOW, lat=27.9), NOW)
    stale = model.apply(state, fix("r1", NOW - 60_000, lat=27.1), NOW)

    assert {model.MAP, model.EVENT, model.COUNTS} <= parts
    assert model.MAP not in stale
    assert state.reporters["r1"]["lat"] == 27.9
    assert state.seen == 2  # both were received: the last-event line changes for each


def test_a_fix_from_a_reporter_the_page_has_not_seen_asks_for_their_profile() -> None:
    state = snapshot()

    model.apply(state, fix("r9", NOW), NOW)
    assert state.missing == {"r9"}
    assert state.on_map == 2

    model.merge_reporter(
        state,
        {
            "reporter_id": "r9",
            "name": "新记者",
            "on_duty": True,
            "lat": 27.0,
            "lon": 112.0,
            "fix_ts": NOW - 99_000,
            "battery": None,
        },
    )
    assert state.missing == set()
    assert state.reporters["r9"]["name"] == "新记者"
    assert state.reporters["r9"]["lat"] == 27.8  # the event's fix is newer than the stored one


def test_duty_changes_colour_on_the_map() -> None:
    state = snapshot()

    parts = model.apply(state, schema.Duty(reporter_id="r1", on_duty=False, at=NOW), NOW)

    assert model.MAP in parts
    assert state.on_duty == 0


def test_tasks_open_and_close_and_an_older_version_never_wins() -> None:
    state = snapshot()

    model.apply(state, schema.Task(**task_doc("t3", "created", 1)), NOW)
    assert set(state.tasks) == {"t1", "t3"}
    # an event queued before the snapshot was read arrives after it
    model.apply(state, schema.Task(**task_doc("t1", "offered", 1)), NOW)
    assert state.tasks["t1"]["version"] == 2
    model.apply(state, schema.Task(**task_doc("t1", "cancelled", 3)), NOW)
    assert set(state.tasks) == {"t3"}


def test_story_stages_follow_the_newest_update() -> None:
    state = snapshot()

    def story(stage: str, at: int) -> schema.Story:
        return schema.Story(story_id="s1", title="x", stage=stage, updated_at=at)

    model.apply(state, story("published", NOW), NOW)
    model.apply(state, story("editing", NOW - 5), NOW)

    counts = dict(zip(schema.STAGES, model.stage_counts(state), strict=True))
    assert counts["published"] == 1 and counts["lead"] == 0 and counts["editing"] == 0


def test_traffic_lands_in_its_minute_and_the_series_rolls_with_time() -> None:
    state = snapshot()
    minute = NOW - NOW % MINUTE

    model.apply(state, schema.Traffic(channel="wechat", window_start=minute, views=7), NOW)
    model.apply(state, schema.Traffic(channel="radio", window_start=minute - MINUTE, reach=40), NOW)
    assert state.traffic["wechat"][-1] == 7
    assert state.traffic["radio"][-2] == 40

    assert model.roll_traffic(state, NOW + MINUTE)
    assert state.traffic["wechat"][-2:] == [7, 0]
    assert not model.roll_traffic(state, NOW + MINUTE + 1_000)
    assert model.roll_traffic(state, NOW + 120 * MINUTE)
    assert state.traffic["wechat"] == [0] * 60


def test_finished_stories_leave_the_board_a_day_after_they_last_moved() -> None:
    day = model.FINISHED_KEPT_MS
    stories = [
        {"story_id": "old-pub", "stage": "published", "updated_at": NOW - day - 1, "title": "A"},
        {"story_id": "old-spiked", "stage": "spiked", "updated_at": NOW - day - 1},
        {"story_id": "read-pub", "stage": "published", "updated_at": NOW - day - 1, "title": "R"},
        {"story_id": "new-pub", "stage": "published", "updated_at": NOW - day + MINUTE},
        {"story_id": "slow", "stage": "reporting", "updated_at": NOW - 3 * day, "title": "S"},
    ]
    top = [{"story_id": "read-pub", "views": 9}]
    state = model.from_snapshot([], [], stories, {}, NOW, top=top)
    assert set(state.stages) == {"new-pub", "slow"}  # an unfinished story stays, however old
    assert set(state.titles) == {"read-pub", "new-pub", "slow"}  # still read: its title stays
    counts = dict(zip(schema.STAGES, model.stage_counts(state), strict=True))
    assert counts["published"] == 1 and counts["reporting"] == 1 and counts["spiked"] == 0

    assert not model.drop_finished(state, NOW)
    assert model.drop_finished(state, NOW + 2 * MINUTE)
    assert set(state.stages) == {"slow"} and "new-pub" not in state.story_at
    state.top = []  # no longer read: its title goes too
    model.drop_finished(state, NOW + 3 * MINUTE)
    assert set(state.titles) == {"slow"}


def test_event_rate_counts_the_last_minute() -> None:
    state = snapshot()
    for offset in (0, 1_000, 2_000):
        model.note_received(state, NOW + offset)

    assert model.event_rate(state, NOW + 2_000) == 3
    assert model.event_rate(state, NOW + 60_500) == 2


def test_task_rows_put_breaking_news_first_then_the_oldest() -> None:
    state = snapshot()
    model.apply(state, schema.Task(**task_doc("t4", "created", 1, "breaking", NOW - 1)), NOW)
    model.apply(state, schema.Task(**task_doc("t5", "created", 1, "normal", NOW - 60_000)), NOW)

    rows = model.task_rows(state, NOW)

    assert [r["task_id"] for r in rows] == ["t4", "t5", "t1"]
    assert rows[2]["assignee_name"] == "王磊"
    assert rows[1]["age_ms"] == 60_000


def test_reporter_rows_put_those_on_duty_first() -> None:
    rows = model.reporter_rows(snapshot(), NOW)

    assert [r["reporter_id"] for r in rows] == ["r1", "r2"]
    assert rows[0]["fix_age_ms"] == 10_000 and rows[1]["fix_age_ms"] is None


def test_decode_keeps_events_skips_garbage_and_notices_resync() -> None:
    good = schema.encode(fix("r1", NOW))

    events, resync = batching.decode([good, "not json", '{"type":"nope","v":1}', RESYNC])

    assert [type(e) for e in events] == [schema.Location]
    assert resync


def test_to_patch_replaces_only_the_given_arrays() -> None:
    patch = live.to_patch({0: {"lat": [1.0], "color": ["#fff"]}, 3: {"y": [2]}})

    assert isinstance(patch, Patch)
    ops = patch.to_plotly_json()["operations"]
    locations = sorted(tuple(op["location"]) for op in ops)
    assert locations == [("data", 0, "lat"), ("data", 0, "marker", "color"), ("data", 3, "y")]
    assert all(op["operation"] == "Assign" for op in ops)
