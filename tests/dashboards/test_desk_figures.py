"""The desk's figures (pure): the map's pin, a story's audience, the after-action review and
its CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from dashboards import desk, desk_figures, maps, model
from dashboards.desk_figures import Review

NOW = 1_800_000_000_000
MIN = 60_000


def event(state: str, at: int, version: int, actor: str = "admin", **extra: Any) -> dict[str, Any]:
    return {"type": "task_event", "v": 1, "task_id": "t-1", "state": state, "actor": actor,
            "at": at, "version": version, "reason": extra.get("reason", ""),
            "assignee": extra.get("assignee")}  # fmt: skip


def review() -> Review:
    timeline = [
        event("created", NOW - 50 * MIN, 1),
        event("offered", NOW - 50 * MIN, 2, assignee="r-1"),
        event("offered", NOW - 49 * MIN, 3, reason="story: s-1", assignee="r-1"),
        event("accepted", NOW - 48 * MIN, 4, actor="r-1", assignee="r-1"),
        event("on_scene", NOW - 30 * MIN, 5, actor="r-1", assignee="r-1"),
        event("filed", NOW - 15 * MIN, 6, actor="r-1", assignee="r-1"),
    ]
    task = {"task_id": "t-1", "title": "水库", "timeline": timeline}
    width = 60
    traffic = {"app": [0] * 50 + [10] * 10, "wechat": [0] * 55 + [4] * 5}
    return Review(kind="task", subject="t-1", title="任务: 水库", tasks=[task],
                  story={"story_id": "s-1", "title": "稿", "stage": "published"},
                  stages=[(NOW - 10 * MIN, "published")], traffic=traffic,
                  traffic_start=NOW - NOW % MIN - (width - 1) * MIN, names={"r-1": "杨帆"},
                  now=NOW)  # fmt: skip


def test_the_review_puts_transitions_stages_and_traffic_on_one_chart() -> None:
    fig = desk_figures.review_figure(review(), "en")
    names = [trace.name for trace in fig.data]
    assert names == ["App", "WeChat", "Story (CMS)", "Task"]
    app, wechat, stages, transitions = fig.data
    assert app.stackgroup == wechat.stackgroup == "views" and sum(app.y) == 100
    assert list(stages.text) == ["Published"]
    assert list(transitions.text) == ["", "Offered → 杨帆", "", "", "On scene", "Filed"]
    assert "Edited" in transitions.hovertext[2]
    notes = [a.text for a in fig.layout.annotations]
    assert notes == ["Dispatch", "Arrival"]  # the edit drew no second dispatch line
    assert len(fig.layout.shapes) == 2
    assert fig.layout.yaxis2.categoryarray == ("Story (CMS)", "Task")


def test_an_empty_review_draws_no_axes() -> None:
    fig = desk_figures.review_figure(Review(kind="none", subject="", title="", now=NOW), "zh")
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis2.visible is False


def test_the_csv_has_every_point_and_every_minute_with_views() -> None:
    text = desk_figures.review_csv(review(), "zh")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["时间", "时间戳 (毫秒)", "类别", "对象", "事件", "代码", "数值", "操作人",
                       "备注"]  # fmt: skip
    points = [r for r in rows[1:] if r[2] != "流量"]
    assert [r[5] for r in points] == ["created", "offered", "edited", "accepted", "on_scene",
                                      "filed", "published"]  # fmt: skip
    assert points[1][4] == "已派发 → 杨帆" and points[3][7] == "杨帆"
    assert points[2][8] == "story: s-1"
    views = [(r[5], int(r[6])) for r in rows[1:] if r[2] == "流量"]
    assert len(views) == 15 and sum(v for _, v in views) == 120
    assert [int(r[1]) for r in rows[1:]] == sorted(int(r[1]) for r in points) + [
        int(r[1]) for r in rows[1:] if r[2] == "流量"
    ]


def test_the_audience_has_a_bar_per_channel_that_had_any() -> None:
    fig = desk_figures.audience_figure({"app": [1, 2], "wechat": [0, 0], "radio": [5]}, "zh")
    (bars,) = fig.data
    assert list(bars.y) == ["客户端", "广播"] and list(bars.x) == [3, 5]


def test_the_desk_map_ends_with_the_pin() -> None:
    state = model.LiveState()
    fig = desk.map_figure(state, "en")
    assert len(fig.data) == desk.pin_index() + 1
    assert len(fig.data) == len(maps.map_figure([], [], "en").data) + 1
    pin = fig.data[-1]
    assert list(pin.lat) == [] and pin.marker.color == desk_figures.PIN_COLOUR
    placed = desk_figures.pin_trace((27.7, 112.5))
    assert list(placed.lat) == [27.7] and list(placed.lon) == [112.5]
