"""The desk's task timeline: when it reloads, and what it shows (pure, no Redis)."""

from __future__ import annotations

from typing import Any

from dash import html

from dashboards import ids, model, panels, timeline

NOW = 1_800_000_000_000


def task(state: str = "declined", version: int = 4) -> dict[str, Any]:
    events = [
        ("created", "admin", 1, "", None),
        ("offered", "admin", 2, "", "r1"),
        ("delivered", "system", 3, "", "r1"),
        ("declined", "r1", 4, "在另一现场", "r1"),
    ]
    return {
        "task_id": "t1",
        "title": "水库防汛检查",
        "priority": "breaking",
        "state": state,
        "version": version,
        "timeline": [
            {
                "type": "task_event",
                "v": 1,
                "task_id": "t1",
                "state": s,
                "actor": a,
                "at": NOW + v,
                "version": v,
                "reason": why,
                "assignee": who,
            }
            for s, a, v, why, who in events
        ],
    }


def walk(component: Any) -> list[Any]:
    """The component, its descendants and their text, depth first."""
    if isinstance(component, str):
        return [component]
    found = [component]
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None:
            found += walk(child)
    return found


def test_a_new_selection_always_loads() -> None:
    assert timeline.needs_reload("t1", {"t1": 4}, None)
    assert timeline.needs_reload("t1", {"t1": 4}, {"task_id": "t2", "version": 4, "open": True})


def test_a_pushed_version_reloads_only_when_the_shown_task_moved() -> None:
    shown = {"task_id": "t1", "version": 4, "open": True}
    assert not timeline.needs_reload("t1", {"t1": 4, "t2": 9}, shown)
    assert timeline.needs_reload("t1", {"t1": 5}, shown)
    # Gone from the open list: it closed since it was read (once), or it was already closed.
    assert timeline.needs_reload("t1", {}, shown)
    assert not timeline.needs_reload("t1", {}, {"task_id": "t1", "version": 9, "open": False})


def test_versions_are_those_of_the_open_tasks() -> None:
    state = model.LiveState(tasks={"t1": {"version": 3}, "t2": {"version": 7}})
    assert timeline.versions(state) == {"t1": 3, "t2": 7}


def test_each_transition_is_an_entry_with_state_actor_and_reason() -> None:
    head, entries = timeline.render(task(), {"r1": "王磊"}, "zh")
    assert head.to_plotly_json()["props"]["data-current-state"] == "declined"
    items = [c for c in walk(entries) if isinstance(c, html.Li)]
    assert [li.to_plotly_json()["props"]["data-state"] for li in items] == [
        "created",
        "offered",
        "delivered",
        "declined",
    ]
    text = [" ".join(str(c) for c in walk(li) if isinstance(c, str)) for li in items]
    assert "系统" in text[2]  # the server's own moves
    assert "王磊" in text[1] and "王磊" in text[3]  # assignee and actor by name
    assert "在另一现场" in text[3]


def test_desk_rows_are_buttons_with_pattern_ids_and_wall_rows_are_not() -> None:
    rows = [
        {
            "task_id": "t1",
            "title": "x",
            "state": "offered",
            "priority": "high",
            "assignee": None,
            "assignee_name": None,
            "age_ms": 0,
        }
    ]
    (desk_row,) = panels.task_list(rows, "en", pick=timeline.row_id)
    (wall_row,) = panels.task_list(rows, "en")
    assert isinstance(desk_row, html.Button)
    assert desk_row.id == {"type": ids.DESK_TASK_ROW, "task": "t1"}
    assert isinstance(wall_row, html.Div) and getattr(wall_row, "id", None) is None
