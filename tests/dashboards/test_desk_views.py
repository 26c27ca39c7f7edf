"""The desk's pure parts: why a reporter is suggested, place matches, alerts with their
acknowledgements, the story table's filters, the roster, and the stream's list ticks."""

from __future__ import annotations

import json
from typing import Any

from dash import html

from dashboards import desk_lists, desk_live, desk_views, i18n, ids_desk
from dispatch import escalation, ranking
from dispatch.bus import RESYNC

NOW = 1_800_000_000_000


def walk(component: Any) -> list[Any]:
    if isinstance(component, str | int | float):
        return [str(component)]
    if isinstance(component, list):
        return [c for child in component for c in walk(child)]
    found = [component]
    children = getattr(component, "children", None)
    if children is not None:
        found += walk(children)
    return found


def text(component: Any) -> str:
    return " ".join(c for c in walk(component) if isinstance(c, str))


def props(component: Any) -> dict[str, Any]:
    return dict(component.to_plotly_json()["props"])


def ranked(**changes: Any) -> dict[str, Any]:
    rep = {"reporter_id": "r-1", "name": "杨帆", "on_duty": True, "lat": 27.74, "lon": 112.54,
           "fix_ts": NOW - 40_000, "battery": 76.0, "skills": ["camera"]}  # fmt: skip
    rep.update(changes)
    (out,) = ranking.rank([rep], 27.734, 112.533, now_ms=NOW, workloads={"r-1": 1})
    return out


def test_a_suggestion_shows_distance_travel_time_fix_age_battery_and_load() -> None:
    rep = ranked()
    f = rep["factors"]
    chips = {props(c)["data-factor"]: text(c) for c in desk_views.factor_chips(f, "en")}
    assert chips == {
        "km": f"{f['distance_km']:.1f} km",
        "eta": f"~{round(f['eta_min'])} min on foot"
        if f["mode"] == "on foot"
        else f"~{round(f['eta_min'])} min by car",
        "fix": "fix 40 s old",
        "battery": "battery 76%",
        "load": "1 open task(s)",
    }
    zh = desk_views.why(f, "zh")
    assert "定位40秒前" in zh and "电量76%" in zh and "手头1个任务" in zh and "具备摄像机" in zh
    _note, listing = desk_views.suggestions([rep], "en")
    (item,) = listing.children
    assert props(item)["data-reporter-id"] == "r-1" and "杨帆" in text(item)


def test_what_counts_against_a_reporter_is_marked_and_said() -> None:
    f = ranked(battery=8.0, fix_ts=NOW - 45 * 60_000, skills=[])["factors"]
    warned = {props(c)["data-factor"] for c in desk_views.factor_chips(f, "en")
              if "nr-chip-warn" in props(c)["className"]}  # fmt: skip
    assert warned == {"fix", "battery", "load"}
    why = desk_views.why(f, "en")
    assert "battery 8% (critical)" in why and "(stale)" in why
    assert "no fix time" in desk_views.why(ranked(fix_ts=None)["factors"], "en")


def test_the_assignee_choices_start_with_nobody_and_name_the_travel_time() -> None:
    options = desk_views.assignee_options([ranked()], "zh")
    assert options[0] == {"label": i18n.t("assign_later", "zh"), "value": ""}
    assert options[1]["value"] == "r-1" and options[1]["label"].startswith("杨帆 · ")
    assert "约" in options[1]["label"] and "分钟" in options[1]["label"]
    assert desk_views.suggestions([], "en").children == i18n.t("no_suggestions", "en")


def test_place_matches_carry_their_point_in_their_id() -> None:
    places = [{"name": "东山学校", "lat": 27.7391, "lon": 112.5581}]
    typed, school = desk_views.place_hits(places, (27.75, 112.5), "en")
    assert props(typed)["id"] == {"type": ids_desk.DESK_PLACE_HIT, "name": "",
                                  "lat": "27.750000", "lon": "112.500000"}  # fmt: skip
    assert text(typed) == "Point 27.75000, 112.50000"
    assert props(school)["id"]["name"] == "东山学校" and props(school)["data-place"] == "东山学校"
    note = desk_views.place_note((27.7392, 112.558), (places[0], 0.02), "zh")
    assert text(note).startswith("27.73920, 112.55800") and "在 东山学校" in text(note)
    assert "距 东山学校 3.2 公里" in text(desk_views.place_note((27.7, 112.5), (places[0], 3.2),
                                                           "zh"))  # fmt: skip


def alert(kind: str, ack: dict[str, Any] | None = None, subject: str = "s-1") -> dict[str, Any]:
    return {"alert_id": f"{NOW}-0", "kind": kind, "severity": "info", "subject": subject,
            "text": "spike", "raised_at": NOW, "ack": ack}  # fmt: skip


def test_an_alert_offers_acknowledge_until_someone_has_and_then_names_them() -> None:
    (listing,) = desk_lists.alert_rows([alert("traffic_spike")], "en")
    (row,) = listing.children
    assert props(row)["data-acked"] == "0" and props(row)["data-kind"] == "traffic_spike"
    buttons = [c for c in walk(row) if isinstance(c, html.Button)]
    assert [b.id["type"] for b in buttons] == [ids_desk.DESK_ALERT_FOLLOW, ids_desk.DESK_ALERT_ACK]
    assert buttons[0].id["story"] == "s-1"

    (listing,) = desk_lists.alert_rows([alert("task_expired", {"by": "王主任", "at": NOW},
                                              "t-1")], "zh")  # fmt: skip
    (row,) = listing.children
    assert props(row)["data-acked"] == "1"
    assert "王主任 已确认" in text(row) and "超时未接" in text(row)
    buttons = [c for c in walk(row) if isinstance(c, html.Button)]
    assert [b.id for b in buttons] == [{"type": ids_desk.DESK_ALERT_TASK, "task": "t-1"}]
    assert desk_lists.unacked([alert("x"), alert("y", {"by": "a", "at": 1})]) == 1
    assert text(desk_lists.alert_rows([], "zh")) == "暂无告警"


STORIES = [
    {"story_id": "s-1", "title": "a", "stage": "published", "desk": "emergency",
     "channels": ["app", "wechat"], "updated_at": NOW},
    {"story_id": "s-2", "title": "b", "stage": "review", "desk": "emergency", "channels": [],
     "updated_at": NOW},
    {"story_id": "s-3", "title": "c", "stage": "published", "desk": "rural",
     "channels": ["wechat"], "updated_at": NOW},
]  # fmt: skip


def test_stories_are_filtered_by_desk_stage_and_channel() -> None:
    def ids(*filters: Any) -> list[str]:
        return [s["story_id"] for s in desk_lists.filter_stories(STORIES, *filters)]

    assert ids(None, None, None) == ["s-1", "s-2", "s-3"]
    assert ids("emergency", None, None) == ["s-1", "s-2"]
    assert ids(None, "published", "wechat") == ["s-1", "s-3"]
    assert ids("emergency", "published", "wechat") == ["s-1"]
    assert ids("rural", "review", None) == []
    assert desk_lists.desk_options(STORIES, "zh") == [
        {"label": "应急", "value": "emergency"},
        {"label": "乡村振兴", "value": "rural"},
    ]


def test_story_rows_name_stage_channels_and_views() -> None:
    head, first, *_ = desk_lists.story_rows(STORIES, {"s-1": 1234}, NOW + 90_000, "en")
    assert "Views (1 h)" in text(head)
    assert props(first)["id"] == {"type": ids_desk.DESK_STORY_ROW, "story": "s-1"}
    assert "Published" in text(first) and "App WeChat" in text(first) and "1,234" in text(first)
    assert "1 min ago" in text(first)


def test_the_roster_shows_who_holds_which_task() -> None:
    rows = [{"reporter_id": "r-1", "name": "杨帆", "on_duty": True, "battery": 12.0,
             "fix_age_ms": 30_000},
            {"reporter_id": "r-2", "name": "郑凯", "on_duty": False, "battery": None,
             "fix_age_ms": None}]  # fmt: skip
    open_tasks = [{"task_id": "t-1", "title": "水库", "state": "on_scene", "assignee": "r-1",
                   "created_at": NOW}]  # fmt: skip
    (table,) = desk_views.roster(rows, open_tasks, "zh")
    body = [c for c in walk(table) if isinstance(c, html.Tr)][1:]
    assert [props(r)["data-task-id"] for r in body] == ["t-1", ""]
    assert [props(r)["data-duty"] for r in body] == ["on", "off"]
    assert "水库" in text(body[0]) and "已到达现场" in text(body[0])
    assert "—" in text(body[1]) and "无定位" in text(body[1])


def test_desk_labels_fall_back_to_the_value() -> None:
    assert i18n.label("desk", "rural", "zh") == "乡村振兴"
    assert i18n.label("desk", "weather", "zh") == "weather"
    assert i18n.label("alert", "battery_low", "en") == "Low battery"
    assert i18n.label("alert", "brand_new", "en") == "brand_new"


# --- the stream's ticks ----------------------------------------------------------------------
def test_each_kind_of_event_touches_its_list() -> None:
    def msg(kind: str) -> str:
        return json.dumps({"type": kind, "v": 1})

    assert desk_live.lists_touched([msg("alert"), msg(escalation.ALERT_ACK)]) == {"alerts"}
    assert desk_live.lists_touched([msg("story"), msg("traffic")]) == {"stories", "traffic"}
    assert desk_live.lists_touched([msg("location"), msg("task"), "outbox", "{bad"]) == set()
    assert desk_live.lists_touched([msg("location"), RESYNC]) == set(desk_live.TICKS)


def test_ticks_are_throttled_per_list() -> None:
    sent: list[tuple[str, int]] = []
    clock = [100.0]
    ticker = desk_live.Ticker(lambda tick, n: sent.append((tick, n)), lambda: clock[0])
    ticker.note({"alerts", "traffic"})
    ticker.flush()
    assert sent == [(ids_desk.DESK_ALERTS_TICK, 1), (ids_desk.DESK_TRAFFIC_TICK, 1)]
    ticker.note({"traffic", "alerts"})
    clock[0] += 1.0
    ticker.flush()  # alerts may go again; traffic waits out its gap
    assert sent[-1] == (ids_desk.DESK_ALERTS_TICK, 2) and len(sent) == 3
    wait = ticker.wait()
    assert wait is not None and 0 < wait <= desk_live.GAP_S["traffic"]
    clock[0] += wait
    ticker.flush()
    assert sent[-1] == (ids_desk.DESK_TRAFFIC_TICK, 2)
    assert ticker.wait() is None
