"""What the wall adds to the live state: stuck stories, alerts, top stories, deadlines (pure)."""

from __future__ import annotations

from dashboards import model
from dispatch import schema

MINUTE = 60_000
NOW = 1_800_000_000_000
LIMITS = {"reporting": 240.0, "editing": 60.0, "review": 30.0}


def story(sid: str, stage: str, minutes_ago: float, title: str = "") -> schema.Story:
    return schema.Story(
        story_id=sid,
        title=title or f"title {sid}",
        stage=stage,
        updated_at=int(NOW - minutes_ago * MINUTE),
    )


def alert(i: int, severity: str = "warning") -> schema.Alert:
    return schema.Alert(
        kind="battery_low", subject=f"r{i}", text=f"alert {i}", raised_at=NOW + i,
        severity=severity,
    )  # fmt: skip


def test_a_story_is_stuck_once_it_stays_in_its_stage_longer_than_the_limit() -> None:
    state = model.LiveState()
    for event in (
        story("a", "editing", 61),  # over the hour editing may take
        story("b", "editing", 59),
        story("c", "review", 31),
        story("d", "reporting", 239),
        story("e", "lead", 10_000),  # a stage without a limit holds no stuck story
    ):
        model.apply(state, event, NOW)

    stuck = dict(zip(schema.STAGES, model.stuck_counts(state, NOW, LIMITS), strict=True))
    assert stuck == {**dict.fromkeys(schema.STAGES, 0), "editing": 1, "review": 1}
    # the story moves on: no longer stuck
    model.apply(state, story("a", "review", 0), NOW)
    stuck = dict(zip(schema.STAGES, model.stuck_counts(state, NOW, LIMITS), strict=True))
    assert stuck["editing"] == 0 and stuck["review"] == 1


def test_a_story_update_keeps_its_title_for_the_top_list() -> None:
    state = model.LiveState()
    parts = model.apply(state, story("a", "lead", 0, "防汛调度会"), NOW)
    assert state.titles == {"a": "防汛调度会"} and model.TOP in parts
    parts = model.apply(state, story("a", "pitched", 0, "防汛调度会"), NOW + 1)
    assert model.TOP not in parts  # same title: the list need not be drawn again


def test_alerts_are_kept_newest_first_and_bounded() -> None:
    state = model.from_snapshot([], [], [], {}, NOW, alerts=[{"text": "old"}])
    for i in range(500):
        parts = model.apply(state, alert(i), NOW)
        assert model.ALERTS in parts
    assert len(state.alerts) == model.ALERTS_KEPT
    assert state.alerts[0]["text"] == "alert 499"


def test_traffic_marks_the_top_list_for_a_new_read() -> None:
    state = model.from_snapshot([], [], [], {}, NOW, top=[{"story_id": "x"}] * 50)
    assert len(state.top) == model.TOP_KEPT and not state.top_dirty
    model.apply(state, schema.Traffic(channel="web", window_start=NOW, views=3), NOW)
    assert state.top_dirty


def test_days_of_events_keep_the_state_bounded() -> None:
    state = model.from_snapshot([], [], [], {}, NOW)
    for minute in range(3 * 24 * 60):  # three days, one traffic window and one alert a minute
        at = NOW + minute * MINUTE
        model.apply(state, schema.Traffic(channel="app", window_start=at, views=1), at)
        model.apply(state, alert(minute), at)
    assert all(len(series) == model.TRAFFIC_MINUTES for series in state.traffic.values())
    assert len(state.alerts) == model.ALERTS_KEPT
    assert len(state.received) <= 2 * 60  # events of the last minute only


def test_task_rows_carry_the_time_allowed_and_left() -> None:
    doc = {
        "task_id": "t1", "title": "t", "lat": 27.7, "lon": 112.5, "priority": "high",
        "state": "accepted", "assignee": None, "created_at": NOW - 12 * MINUTE,
        "deadline": NOW + 18 * MINUTE, "version": 1,
    }  # fmt: skip
    state = model.LiveState(tasks={"t1": doc})
    [row] = model.task_rows(state, NOW)
    assert (row["age_ms"], row["due_ms"], row["left_ms"]) == (
        12 * MINUTE,
        30 * MINUTE,
        18 * MINUTE,
    )
    doc["deadline"] = None
    [row] = model.task_rows(state, NOW)
    assert row["due_ms"] is None and row["left_ms"] is None
