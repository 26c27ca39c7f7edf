"""Pure figure builders and the interface strings: no Redis, no browser, milliseconds."""

from __future__ import annotations

import math
import string

import pytest

from dashboards import figures, i18n, maps, panels
from dispatch import auth, schema

MINUTE = 60_000
END = 1_800_000_000_000 - 1_800_000_000_000 % MINUTE


def reporter(rid: str, lat: float | None, lon: float | None, on_duty: bool = True) -> dict:
    return {
        "reporter_id": rid,
        "name": f"name-{rid}",
        "on_duty": on_duty,
        "lat": lat,
        "lon": lon,
        "battery": 50.0,
        "fix_ts": 1,
    }


def task(tid: str, priority: str = "normal", state: str = "offered") -> dict:
    return {
        "task_id": tid,
        "title": f"title-{tid}",
        "lat": 27.7,
        "lon": 112.5,
        "priority": priority,
        "state": state,
    }


# --- map -------------------------------------------------------------------------------------
def test_map_arrays_split_reporters_by_duty_and_leave_out_those_without_a_fix() -> None:
    arrays = maps.map_arrays(
        [
            reporter("b", 27.8, 112.6),
            reporter("a", 27.7, 112.5),
            reporter("c", 27.6, 112.4, False),
            reporter("d", None, None),
        ],
        [],
        "en",
    )

    assert arrays[maps.MAP_ON_DUTY]["lat"] == [27.7, 27.8]  # sorted by id: stable patches
    assert arrays[maps.MAP_ON_DUTY]["lon"] == [112.5, 112.6]
    assert arrays[maps.MAP_OFF_DUTY]["lat"] == [27.6]
    assert "name-c" in arrays[maps.MAP_OFF_DUTY]["hovertext"][0]
    hovertexts = [text for trace in arrays.values() for text in trace.get("hovertext", [])]
    assert all("name-d" not in text for text in hovertexts)


def test_task_pins_are_coloured_by_priority() -> None:
    arrays = maps.map_arrays([], [task("t2", "breaking"), task("t1", "normal")], "zh")

    pins = arrays[maps.MAP_TASK]
    colours = maps.PRIORITY_COLOURS
    assert pins["color"] == [colours["normal"], colours["breaking"]]
    assert arrays[maps.MAP_TASK_HALO]["lat"] == pins["lat"] == [27.7, 27.7]
    assert "已派发" in pins["hovertext"][0]


def test_map_figure_works_offline_with_markers_in_the_documented_trace_order() -> None:
    fig = maps.map_figure(
        [reporter("a", 27.7, 112.5), reporter("b", 27.6, 112.4, False)], [task("t1")], "en"
    )

    assert [trace.type for trace in fig.data] == ["scattermap"] * maps.MAP_TRACES
    assert all(trace.mode == "markers" for trace in fig.data)  # text would need remote glyphs
    assert fig.layout.map.style == "white-bg"
    assert len(fig.layout.map.layers) >= 2
    assert list(fig.data[maps.MAP_ON_DUTY].lat) == [27.7]
    assert list(fig.data[maps.MAP_OFF_DUTY].lat) == [27.6]
    assert list(fig.data[maps.MAP_TASK].lat) == [27.7]
    assert fig.layout.map.center.lat == pytest.approx(27.734)
    assert fig.layout.map.center.lon == pytest.approx(112.533)


def test_map_figure_of_an_empty_newsroom_still_has_every_trace() -> None:
    fig = maps.map_figure([], [], "zh")

    assert len(fig.data) == maps.MAP_TRACES
    assert all(len(trace.lat) == 0 for trace in fig.data)


def test_range_ring_is_closed_and_has_the_radius_asked_for() -> None:
    lat, lon = maps.CENTRE
    coords = maps.ring(lat, lon, 10)

    assert coords[0] == coords[-1]
    for x, y in coords[:: len(coords) // 8]:
        dy = (y - lat) * 111.32
        dx = (x - lon) * 111.32 * math.cos(math.radians(lat))
        assert math.hypot(dx, dy) == pytest.approx(10, rel=1e-6)


# --- stages and traffic ----------------------------------------------------------------------
def test_stages_figure_has_one_bar_per_stage_in_schema_order() -> None:
    counts = list(range(len(schema.STAGES)))
    fig = figures.stages_figure(counts, "zh")

    assert len(fig.data) == 2  # totals, and the stuck ones over them
    assert list(fig.data[0].y) == [i18n.label("stage", s, "zh") for s in schema.STAGES]
    assert list(fig.data[0].x) == counts
    assert list(fig.data[1].x) == [0] * len(counts)
    assert figures.stages_arrays(counts) == {
        0: {"x": counts, "text": [str(c) for c in counts]},
        1: {"x": [0] * len(counts)},
    }


def test_traffic_figure_has_one_line_per_channel_in_schema_order() -> None:
    traffic = {ch: [i] * 60 for i, ch in enumerate(schema.CHANNELS)}
    fig = figures.traffic_figure(traffic, END, "en")

    names = [i18n.label("channel", c, "en") for c in schema.CHANNELS]
    assert [trace.name for trace in fig.data] == names
    for index, channel in enumerate(schema.CHANNELS):
        assert list(fig.data[index].y) == traffic[channel]
        assert len(fig.data[index].x) == 60


def test_traffic_arrays_can_be_limited_to_some_channels() -> None:
    traffic = {ch: [1] * 60 for ch in schema.CHANNELS}

    arrays = figures.traffic_arrays(traffic, END, ["wechat"])

    assert list(arrays) == [schema.CHANNELS.index("wechat")]


def test_minute_labels_run_oldest_first_one_minute_apart() -> None:
    labels = figures.minute_labels(END, 3)

    assert len(labels) == 3
    assert labels == sorted(labels)
    assert len(set(labels)) == 3


# --- strings ---------------------------------------------------------------------------------
def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_string_has_chinese_and_english_with_the_same_placeholders() -> None:
    for key, entry in i18n.TEXT.items():
        assert set(entry) == set(i18n.LANGS), key
        assert all(entry[lang].strip() for lang in i18n.LANGS), key
        assert _fields(entry["zh"]) == _fields(entry["en"]), key


def test_every_stage_channel_state_priority_and_role_has_a_label_in_both_languages() -> None:
    assert i18n.LABEL_DOMAINS["role"] == auth.ROLES
    for kind, values in i18n.LABEL_DOMAINS.items():
        assert set(i18n.LABELS[kind]) == set(values), kind
        for value in values:
            assert set(i18n.LABELS[kind][value]) == set(i18n.LANGS), (kind, value)


def test_glossary_terms_are_used() -> None:
    assert i18n.label("stage", "lead", "zh") == "线索"
    assert i18n.label("state", "expired", "zh") == "超时未接"
    assert i18n.label("channel", "sms", "zh") == "手机报"
    assert i18n.t("stale", "zh").startswith("数据延迟")


@pytest.mark.parametrize(
    ("requested", "default", "expected"),
    [("en", "zh", "en"), (None, "zh", "zh"), ("fr", "en", "en"), (None, "xx", "zh")],
)
def test_pick_lang(requested: str | None, default: str, expected: str) -> None:
    assert i18n.pick_lang(requested, default) == expected


@pytest.mark.parametrize(
    ("ms", "zh", "en"),
    [
        (4_999, "4秒", "4 s"),
        (125_000, "2分钟", "2 min"),
        (7_300_000, "2小时", "2 h"),
        (-5, "0秒", "0 s"),
    ],
)
def test_age(ms: int, zh: str, en: str) -> None:
    assert i18n.age(ms, "zh") == zh
    assert i18n.age(ms, "en") == en


def test_last_event_text_changes_with_every_event_even_when_the_event_repeats() -> None:
    event = ("location", "王磊", END)

    first = panels.last_event_text(event, 1, "zh")
    second = panels.last_event_text(event, 2, "zh")

    assert first != second
    assert "定位" in first and "王磊" in first
    assert panels.last_event_text(None, 0, "en") == i18n.t("no_events", "en")
