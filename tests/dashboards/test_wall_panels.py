"""The wall's own components and figures (pure), and what it registers on the app."""

from __future__ import annotations

from typing import Any

from dash import Dash, html
from fastapi import FastAPI

from dashboards import figures, i18n, ids, maps, panels, wall_live, wall_panels
from dashboards.wall_schedule import DEFAULT
from dispatch import schema
from dispatch.runtime import Runtime
from dispatch.settings import Settings

MINUTE = 60_000
NOW = 1_800_000_000_000


def texts(component: Any) -> list[str]:
    """Every string in a component tree."""
    if isinstance(component, str):
        return [component]
    if isinstance(component, list | tuple):
        return [t for child in component for t in texts(child)]
    children = getattr(component, "children", None)
    return texts(children) if children is not None else []


def find(component: Any, class_name: str) -> list[Any]:
    found = []
    if isinstance(component, list | tuple):
        return [f for child in component for f in find(child, class_name)]
    if class_name in (getattr(component, "className", "") or "").split():
        found.append(component)
    children = getattr(component, "children", None)
    if children is not None and not isinstance(children, str):
        found += find(children, class_name)
    return found


# --- the wall registers no callback that writes ------------------------------------------------
def test_the_wall_registers_only_its_stream_and_its_scale() -> None:
    app = Dash(__name__, server=FastAPI(), suppress_callback_exceptions=True)
    wall_live.register(app, Runtime(Settings()))

    callbacks = {key: value for key, value in app.callback_map.items()}
    assert set(callbacks) == {f"{ids.WALL_LIVE_SINK}.children", f"{ids.WALL_TICKET}.data"}
    stream = callbacks[f"{ids.WALL_LIVE_SINK}.children"]
    assert stream["websocket"] and stream["inputs"] == [{"id": ids.WALL_TICKET, "property": "data"}]
    assert stream["state"] == []  # nothing a viewer could type or click reaches the server


# --- top stories, alerts, deadlines -----------------------------------------------------------
def test_top_stories_with_titles_views_and_a_sparkline() -> None:
    rows = [
        {"story_id": "s1", "views": 1234, "by_channel": {"wechat": 1000, "app": 234},
         "sparkline": [0, 5, 10, 3]},
        {"story_id": "s2", "views": 7, "by_channel": {"web": 7}, "sparkline": [0] * 60},
    ]  # fmt: skip
    out = wall_panels.top_list(rows, {"s1": "防汛调度会"}, "zh")
    assert [row.__dict__["data-story-id"] for row in out] == ["s1", "s2"]
    words = texts(out[0])
    assert "防汛调度会" in words and "1,234" in words and "微信公众号" in words
    assert "s2" in texts(out[1])  # no title known yet: the id
    bars = find(out[0], "nr-spark")[0].children
    assert len(bars) == wall_panels.SPARK_BARS and all(
        b.style["height"].endswith("%") for b in bars
    )
    assert wall_panels.top_list([], {}, "en")[0].children == i18n.t("no_top", "en")


def test_a_sparkline_of_nothing_still_has_its_bars() -> None:
    for values in ([], [0, 0, 0], [5] * 60):
        bars = wall_panels.sparkline(values).children
        assert len(bars) == wall_panels.SPARK_BARS
        assert {b.style["height"] for b in bars} <= {"4%", "100%"}


def test_alerts_by_severity_with_their_kind_in_the_page_language() -> None:
    alerts = [
        {"kind": "task_expired", "severity": "critical", "subject": "t1", "text": "no answer",
         "raised_at": NOW},
        {"kind": "something_new", "severity": "info", "subject": "x", "text": "hi",
         "raised_at": NOW},
    ]  # fmt: skip
    out = wall_panels.alert_list(alerts, "zh")
    assert out[0].className == "nr-alert nr-alert-critical"
    assert "超时未接" in texts(out[0]) and "no answer" in texts(out[0])
    assert "something_new" in texts(out[1])  # an unknown kind is shown as sent
    assert texts(wall_panels.alert_list([], "en")) == [i18n.t("no_alerts", "en")]


def test_the_deadline_board_has_a_row_per_channel_with_its_slots_for_the_browser() -> None:
    board = wall_panels.deadline_board(DEFAULT, "en", NOW)
    rows = board.children
    assert [row.__dict__["data-channel"] for row in rows] == ["tv", "radio", "sms", "wechat"]
    assert rows[0].__dict__["data-slots"] == '[[1110, 1110, ""], [1260, 1260, ""]]'
    assert board.__dict__["data-open"] == i18n.t("dl_open", "en")
    assert all(len(find(row, "nr-dl-count")) == 1 for row in rows)


def test_a_task_against_its_deadline() -> None:
    bar = panels.due_bar(12 * MINUTE, 30 * MINUTE - 400, "en")
    assert isinstance(bar, html.Div) and bar.__dict__["data-due"] == "ok"
    assert texts(bar) == ["12 min / 30 min"]
    near = panels.due_bar(25 * MINUTE, 30 * MINUTE, "zh")
    assert near is not None and near.__dict__["data-due"] == "near"
    over = panels.due_bar(31 * MINUTE, 30 * MINUTE, "zh")
    assert over is not None and over.__dict__["data-due"] == "over"
    assert "已超时" in texts(over)[0]
    assert panels.due_bar(5 * MINUTE, None, "en") is None


def test_the_stuck_badge_counts_every_stage() -> None:
    assert wall_panels.stuck_badge([0] * 10, "en") == []
    [badge] = wall_panels.stuck_badge([0, 0, 0, 2, 0, 1, 0, 0, 0, 0], "en")
    assert "".join(texts(badge)) == "⚠ 3 stuck"


def test_the_notice_names_what_was_ignored() -> None:
    assert wall_panels.notice((), "", "en") == []
    [ignored, schedule] = wall_panels.notice(("lang=fr",), "schedule.toml: bad", "zh")
    assert ignored.children == "已忽略的选项: lang=fr"
    assert schedule.title == "schedule.toml: bad"


# --- figures ----------------------------------------------------------------------------------
def rep(rid: str, on_duty: bool = True, fix_age_min: float = 0.0) -> dict[str, Any]:
    return {"reporter_id": rid, "name": rid, "on_duty": on_duty, "lat": 27.7, "lon": 112.5,
            "fix_ts": int(NOW - fix_age_min * MINUTE)}  # fmt: skip


def test_reporters_by_state_and_fading_with_the_age_of_their_fix() -> None:
    task = {"task_id": "t", "title": "x", "lat": 27.7, "lon": 112.5, "priority": "breaking",
            "state": "en_route", "assignee": "busy"}  # fmt: skip
    reps = [rep("busy"), rep("free", fix_age_min=16), rep("old", fix_age_min=90), rep("off", False)]
    arrays = maps.map_arrays(reps, [task], "en", now=NOW)
    assert arrays[maps.MAP_ON_TASK]["opacity"] == [1.0]
    assert "On task: x" in arrays[maps.MAP_ON_TASK]["hovertext"][0]
    free = arrays[maps.MAP_FREE]["opacity"]
    assert free[0] < 1.0 and free[1] == maps.FADE_MIN
    assert len(arrays[maps.MAP_OFF_DUTY]["lat"]) == 1
    assert arrays[maps.MAP_TASK]["size"] == [maps.PRIORITY_SIZES["breaking"]]
    assert maps.map_arrays(reps, [], "en")[maps.MAP_FREE]["opacity"] == [1.0, 1.0, 1.0]


def test_the_map_draws_the_county_from_local_layers_and_tiles_only_when_configured() -> None:
    layers = maps.map_figure([], [], "zh").layout.map.layers
    assert all(layer.sourcetype == "geojson" for layer in layers)
    kinds = set(maps.local_features())
    assert {"boundary", "road", "highway"} <= kinds
    tiled = maps.map_figure([], [], "zh", tiles="http://tiles.local/{z}/{x}/{y}.png")
    assert tiled.layout.map.layers[0].sourcetype == "raster"
    assert tiled.layout.map.style == "white-bg"


def test_the_pipeline_draws_stuck_stories_over_the_totals() -> None:
    counts = [1] * len(schema.STAGES)
    stuck = [0] * len(schema.STAGES)
    stuck[schema.STAGES.index("review")] = 1
    fig = figures.stages_figure(counts, "zh", stuck, scale=2)
    assert list(fig.data[1].x) == stuck
    assert fig.data[0].text[schema.STAGES.index("review")] == "1  ⚠1 滞留"
    assert fig.layout.font.size == 32


def test_reach_channels_have_their_own_axis() -> None:
    traffic = {ch: [1] * 60 for ch in schema.CHANNELS}
    fig = figures.traffic_figure(traffic, NOW - NOW % MINUTE, "en")
    axes = {ch: fig.data[i].yaxis for i, ch in enumerate(schema.CHANNELS)}
    assert {ch for ch, axis in axes.items() if axis == "y2"} == set(figures.REACH_CHANNELS)
    assert {a.text for a in fig.layout.annotations} == {
        i18n.t("views_axis", "en"),
        i18n.t("reach_axis", "en"),
    }


def test_every_label_has_chinese_and_english() -> None:
    for kind, entries in i18n.LABELS.items():
        for value, entry in entries.items():
            assert set(entry) == set(i18n.LANGS) and all(entry.values()), (kind, value)
