"""What a live page knows, and how one event changes it: pure, no I/O, no clock.

A process keeps one `LiveState` per tenant, in its live hub (live_hub.py; never a module
global), shared by every open page; `apply` folds one event into it and names the parts of
the page that changed, so the hub renders and pushes only those. The snapshot that seeds a
state is read in `live.py`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dispatch import lifecycle, schema, sources

# Parts of a page; renderers map them to component props.
MAP = "map"
STAGES = "stages"
TRAFFIC = "traffic"
TASKS = "tasks"
REPORTERS = "reporters"
COUNTS = "counts"
EVENT = "event"
FEEDS = "feeds"  # source health, re-read on every heartbeat tick
TOP = "top"  # the most read stories (re-read from Redis, at most every few seconds)
ALERTS = "alerts"
ALL = frozenset({MAP, STAGES, TRAFFIC, TASKS, REPORTERS, COUNTS, EVENT, FEEDS, TOP, ALERTS})
FIGURES = frozenset({MAP, STAGES, TRAFFIC})  # redrawn at most a few times a second
# Text that every batch of fixes or a heartbeat changes: nobody waits for it, so it does not
# hold the figures back (live_hub.Hub.flush).
AMBIENT = frozenset({REPORTERS, COUNTS, EVENT, FEEDS})

MINUTE_MS = 60_000
TRAFFIC_MINUTES = 60
RATE_WINDOW_MS = 60_000
ALERTS_KEPT = 12  # alerts a page keeps (newest first); older ones fall off
TOP_KEPT = 10
# A reporter holding a task in one of these states is busy on it (the map shows "on task").
ON_TASK_STATES = frozenset({"accepted", "en_route", "on_scene", "filed"})
# A finished story (schema.FINISHED_STAGES) leaves the board (and the state) a day after it
# last moved: the pipeline shows the day's output, and a wall that runs for weeks holds a day
# of stories, not every story ever written. The story itself stays in Redis (the desk's table).
FINISHED_KEPT_MS = 24 * 60 * MINUTE_MS

Reporter = dict[str, Any]
TaskDoc = dict[str, Any]


@dataclass
class LiveState:
    """The newsroom as the live pages see it."""

    reporters: dict[str, Reporter] = field(default_factory=dict)
    tasks: dict[str, TaskDoc] = field(default_factory=dict)  # open tasks only
    stages: dict[str, str] = field(default_factory=dict)  # story_id -> stage
    story_at: dict[str, int] = field(default_factory=dict)  # story_id -> updated_at
    traffic: dict[str, list[int]] = field(default_factory=dict)  # channel -> views per minute
    traffic_end: int = 0  # start of the newest minute
    last_event: tuple[str, str, int] | None = None  # (kind, subject, at ms)
    received: deque[int] = field(default_factory=deque)  # receive times, last minute
    missing: set[str] = field(default_factory=set)  # reporters to fetch
    seen: int = 0  # events since the page opened
    feeds: list[dict[str, Any]] = field(default_factory=list)  # sources.health rows
    titles: dict[str, str] = field(default_factory=dict)  # story_id -> title
    alerts: deque[dict[str, Any]] = field(  # newest first, bounded
        default_factory=lambda: deque(maxlen=ALERTS_KEPT)
    )
    top: list[dict[str, Any]] = field(default_factory=list)  # stories.top_stories rows
    top_dirty: bool = False  # traffic came since read

    @property
    def on_duty(self) -> int:
        """Reporters on duty."""
        return sum(1 for r in self.reporters.values() if r.get("on_duty"))

    @property
    def on_map(self) -> int:
        """Reporters with a position (drawn on the map)."""
        return sum(1 for r in self.reporters.values() if has_fix(r))


def has_fix(reporter: Reporter) -> bool:
    """Whether the reporter has a position to draw."""
    return reporter.get("lat") is not None and reporter.get("lon") is not None


def minute_of(ts_ms: int) -> int:
    """The start of the minute `ts_ms` falls in (as stories.minute_of)."""
    return ts_ms - ts_ms % MINUTE_MS


def from_snapshot(
    reporters: list[Reporter],
    tasks: list[TaskDoc],
    stories: list[dict[str, Any]],
    traffic: dict[str, list[int]],
    now_ms: int,
    top: list[dict[str, Any]] | None = None,
    alerts: list[dict[str, Any]] | None = None,
) -> LiveState:
    """A state from the lists the core services return (see live.load_state); `alerts` newest
    first (escalation.recent_alerts)."""
    state = LiveState(
        reporters={r["reporter_id"]: dict(r) for r in reporters},
        tasks={t["task_id"]: dict(t) for t in tasks if lifecycle.is_open(t["state"])},
        stages={s["story_id"]: s["stage"] for s in stories},
        story_at={s["story_id"]: s["updated_at"] for s in stories},
        traffic={
            ch: list(traffic.get(ch, [0] * TRAFFIC_MINUTES))[-TRAFFIC_MINUTES:]
            for ch in schema.CHANNELS
        },
        traffic_end=minute_of(now_ms),
        titles={s["story_id"]: s.get("title") or s["story_id"] for s in stories},
        top=list(top or [])[:TOP_KEPT],
    )
    state.alerts.extend((alerts or [])[:ALERTS_KEPT])
    for series in state.traffic.values():
        series[:0] = [0] * (TRAFFIC_MINUTES - len(series))
    drop_finished(state, now_ms)
    return state


def drop_finished(state: LiveState, now_ms: int) -> bool:
    """Forget the stories finished (schema.FINISHED_STAGES) more than FINISHED_KEPT_MS ago, and
    their titles once they are out of the top list too. Whether any story went."""
    cutoff = now_ms - FINISHED_KEPT_MS
    gone = [
        story_id
        for story_id, stage in state.stages.items()
        if stage in schema.FINISHED_STAGES and state.story_at.get(story_id, 0) < cutoff
    ]
    for story_id in gone:
        del state.stages[story_id]
        state.story_at.pop(story_id, None)
    reading = {row.get("story_id") for row in state.top}
    for story_id in [s for s in state.titles if s not in state.stages and s not in reading]:
        del state.titles[story_id]
    return bool(gone)


def roll_traffic(state: LiveState, now_ms: int) -> bool:
    """Shift the per-minute series so the newest bucket is the current minute."""
    end = minute_of(now_ms)
    steps = (end - state.traffic_end) // MINUTE_MS
    if steps <= 0:
        return False
    for channel, series in state.traffic.items():
        keep = series[steps:] if steps < TRAFFIC_MINUTES else []
        state.traffic[channel] = keep + [0] * (TRAFFIC_MINUTES - len(keep))
    state.traffic_end = end
    return True


def note_received(state: LiveState, now_ms: int) -> int:
    """Record one event's arrival; return how many arrived in the last minute."""
    state.received.append(now_ms)
    state.seen += 1
    return event_rate(state, now_ms)


def event_rate(state: LiveState, now_ms: int) -> int:
    """Events received in the last minute."""
    while state.received and state.received[0] <= now_ms - RATE_WINDOW_MS:
        state.received.popleft()
    return len(state.received)


def apply(state: LiveState, event: schema.Message, now_ms: int) -> set[str]:
    """Fold one event into `state`; return the parts of the page it changed."""
    changed = {EVENT, COUNTS}
    note_received(state, now_ms)
    if isinstance(event, schema.Location):
        rep = state.reporters.get(event.reporter_id)
        if rep is None:
            state.missing.add(event.reporter_id)
            rep = state.reporters[event.reporter_id] = {
                "reporter_id": event.reporter_id,
                "name": event.reporter_id,
                "on_duty": True,
            }
        if event.ts >= (rep.get("fix_ts") or 0):
            rep.update(
                lat=event.lat,
                lon=event.lon,
                fix_ts=event.ts,
                battery=event.battery,
                accuracy_m=event.accuracy_m,
            )
            changed |= {MAP, REPORTERS}
        subject = rep.get("name") or event.reporter_id
        state.last_event = ("location", subject, event.received_at)
    elif isinstance(event, schema.Duty):
        rep = state.reporters.get(event.reporter_id)
        if rep is None:
            state.missing.add(event.reporter_id)
        else:
            rep["on_duty"] = event.on_duty
            changed |= {MAP, REPORTERS}
        name = rep.get("name") if rep else None
        state.last_event = ("duty", name or event.reporter_id, event.at)
    elif isinstance(event, schema.Task):
        current = state.tasks.get(event.task_id)
        if current is not None and current.get("version", 0) > event.version:
            pass  # an older version queued before the snapshot: the snapshot is newer
        elif lifecycle.is_open(event.state):
            state.tasks[event.task_id] = event.model_dump()
        else:
            state.tasks.pop(event.task_id, None)
        changed |= {MAP, TASKS}
        state.last_event = ("task", event.title, event.updated_at)
    elif isinstance(event, schema.Story):
        if event.updated_at >= state.story_at.get(event.story_id, 0):
            state.stages[event.story_id] = event.stage
            state.story_at[event.story_id] = event.updated_at
            if state.titles.get(event.story_id) != event.title:
                state.titles[event.story_id] = event.title
                changed.add(TOP)
            changed.add(STAGES)
        state.last_event = ("story", event.title, event.updated_at)
    elif isinstance(event, schema.Traffic):
        roll_traffic(state, max(now_ms, event.window_start))
        # Same rule as stories.record_traffic: radio and TV may report reach instead of views.
        amount = event.reach if event.reach is not None and event.views == 0 else event.views
        minutes_ago = (state.traffic_end - minute_of(event.window_start)) // MINUTE_MS
        index = TRAFFIC_MINUTES - 1 - minutes_ago
        if 0 <= index < TRAFFIC_MINUTES:
            state.traffic[event.channel][index] += amount
            changed.add(TRAFFIC)
        state.top_dirty = True  # batch nudges name no story: the ranking is read again
        state.last_event = ("traffic", event.channel, event.window_start)
    elif isinstance(event, schema.Alert):
        state.alerts.appendleft(event.model_dump())
        changed.add(ALERTS)
        state.last_event = ("alert", event.subject, event.raised_at)
    elif isinstance(event, schema.TaskEvent):
        state.last_event = ("task_event", event.task_id, event.at)
    return changed


def traffic_stale(state: LiveState) -> bool:
    """Every traffic source is stale or failing: the chart's zeros mean "no data"."""
    return sources.traffic_stale(state.feeds)


def merge_reporter(state: LiveState, reporter: Reporter) -> None:
    """Complete a reporter first seen through an event with their stored profile."""
    current = state.reporters.get(reporter["reporter_id"], {})
    merged = dict(reporter)
    if (current.get("fix_ts") or 0) > (reporter.get("fix_ts") or 0):
        for name in ("lat", "lon", "fix_ts", "battery", "accuracy_m"):
            merged[name] = current.get(name)
    state.reporters[reporter["reporter_id"]] = merged
    state.missing.discard(reporter["reporter_id"])


def stage_counts(state: LiveState) -> list[int]:
    """Stories per stage, in schema.STAGES order (stable for patching)."""
    counts = dict.fromkeys(schema.STAGES, 0)
    for stage in state.stages.values():
        if stage in counts:
            counts[stage] += 1
    return [counts[s] for s in schema.STAGES]


def stuck_counts(state: LiveState, now_ms: int, limits_min: Mapping[str, float]) -> list[int]:
    """Stories per stage (schema.STAGES order) that have not moved for longer than their
    stage's limit in minutes (a stage without a limit never holds a stuck story)."""
    counts = dict.fromkeys(schema.STAGES, 0)
    for story_id, stage in state.stages.items():
        limit = limits_min.get(stage)
        if (
            limit
            and stage in counts
            and (now_ms - state.story_at.get(story_id, now_ms) > limit * MINUTE_MS)
        ):
            counts[stage] += 1
    return [counts[s] for s in schema.STAGES]


def task_rows(state: LiveState, now_ms: int, limit: int = 50) -> list[TaskDoc]:
    """Open tasks, breaking first, then oldest first, with assignee names and ages; with a
    deadline, also the time it allows (`due_ms`, from creation) and what is left (`left_ms`)."""
    rank = {p: i for i, p in enumerate(reversed(schema.PRIORITIES))}
    rows = []
    for task in sorted(
        state.tasks.values(),
        key=lambda t: (rank.get(t.get("priority", "normal"), 9), t["created_at"]),
    ):
        assignee = task.get("assignee")
        rep = state.reporters.get(assignee or "")
        rows.append(
            {
                "task_id": task["task_id"],
                "title": task["title"],
                "state": task["state"],
                "priority": task.get("priority", "normal"),
                "assignee": assignee,
                "assignee_name": (rep.get("name") if rep else None) or assignee,
                "age_ms": max(0, now_ms - task["created_at"]),
                **_due(task, now_ms),
            }
        )
    return rows[:limit]


def _due(task: TaskDoc, now_ms: int) -> dict[str, int | None]:
    deadline = task.get("deadline")
    if not isinstance(deadline, int):
        return {"due_ms": None, "left_ms": None}
    return {"due_ms": max(1, deadline - task["created_at"]), "left_ms": deadline - now_ms}


def reporter_rows(state: LiveState, now_ms: int) -> list[Reporter]:
    """Reporters, on duty first, then by name, with the age of their last fix."""
    rows = []
    for rep in sorted(
        state.reporters.values(),
        key=lambda r: (not r.get("on_duty"), r.get("name") or r["reporter_id"]),
    ):
        fix_ts = rep.get("fix_ts")
        rows.append(
            {
                "reporter_id": rep["reporter_id"],
                "name": rep.get("name") or rep["reporter_id"],
                "on_duty": bool(rep.get("on_duty")),
                "battery": rep.get("battery"),
                "fix_age_ms": None if not fix_ts else max(0, now_ms - fix_ts),
            }
        )
    return rows
