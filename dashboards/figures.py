"""Figures for the wall and the desk, built by pure functions from plain data.

Trace order is fixed (documented per figure) so a stream can send `Patch` deltas that
replace only the arrays that changed (`*_arrays` return exactly those arrays). The map needs
no internet: the `white-bg` style, a dark fill, range rings and the county's boundary and main
roads drawn as local GeoJSON layers (assets/map/), markers only (text labels would need glyphs
from a server); a tile URL is optional. `scale` multiplies every font and marker size, so a
figure reads the same from 5 m on a 1920-wide screen (1) and a 3840-wide one (2).
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]

from dashboards import i18n
from dispatch import schema

CENTRE = (27.734, 112.533)  # lat, lon of the county seat
ZOOM = 10.2  # the town and its surroundings (the desk)
COUNTY_ZOOM = 9.4  # the whole county (the wall)
RING_KM = (5, 10, 20)
LOCAL_LAYERS = Path(__file__).resolve().parent.parent / "assets" / "map" / "xiangxiang.geojson"

FONT = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
    '"DejaVu Sans", system-ui, sans-serif'
)
INK = "#d7e3f4"
MUTED = "#7f93ad"
GRID = "#1b2a3d"
MAP_FILL = "#0a1422"
RING = "#1e3a5a"
BOUNDARY = "#3f6fb0"
ROAD = "#2c4a6e"
HIGHWAY = "#4a6a8f"
STUCK = "#ff3b5c"

ON_DUTY = "#2ee59d"  # on duty and free
ON_TASK = "#35c2ff"  # on duty, working on a task
OFF_DUTY = "#5d6d84"
PRIORITY_COLOURS = {"normal": "#f5c04a", "high": "#ff8a3d", "breaking": "#ff3b5c"}
PRIORITY_SIZES = {"normal": 15, "high": 18, "breaking": 22}
STAGE_COLOURS = {
    "lead": "#3b5b8c",
    "pitched": "#3f6fb0",
    "assigned": "#3f83cf",
    "reporting": "#3a9ae6",
    "filed": "#2fb3f0",
    "editing": "#2bc7e0",
    "review": "#2fd6c3",
    "published": "#2ee59d",
    "spiked": "#7d5b6e",
    "corrected": "#f5c04a",
}
CHANNEL_COLOURS = {
    "app": "#35c2ff",
    "web": "#8f7cff",
    "wechat": "#2ee59d",
    "weibo": "#ff8a3d",
    "douyin": "#ff4fa3",
    "sms": "#f5c04a",
    "radio": "#9bd14b",
    "tv": "#c9d6e8",
}
# Radio, TV and the SMS newspaper count people reached, not views: their own chart below.
REACH_CHANNELS = ("sms", "radio", "tv")

# Map traces, in this (drawing) order: task pins under reporters.
MAP_TASK_HALO, MAP_TASK, MAP_OFF_DUTY, MAP_FREE, MAP_ON_TASK = range(5)
MAP_ON_DUTY = MAP_FREE  # on duty and free (the name earlier callers use)
MAP_TRACES = 5
# A fix fades from full opacity at FADE_FROM_MS old to FADE_MIN at FADE_TO_MS and beyond.
FADE_FROM_MS, FADE_TO_MS, FADE_MIN = 2 * 60_000, 30 * 60_000, 0.25

Row = dict[str, Any]


def _base_layout(scale: float = 1.0, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": FONT, "color": INK, "size": round(16 * scale)},
        "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
        "showlegend": False,
        "uirevision": "keep",  # patches never reset what a desk user zoomed into
    }
    layout.update(extra)
    return layout


def _px(size: float, scale: float) -> int:
    return round(size * scale)


# --- map -------------------------------------------------------------------------------------
def ring(lat: float, lon: float, km: float, points: int = 96) -> list[list[float]]:
    """A circle of radius `km` around (lat, lon) as a closed [lon, lat] ring."""
    dlat = km / 111.32
    dlon = km / (111.32 * math.cos(math.radians(lat)))
    coords = [
        [
            lon + dlon * math.cos(2 * math.pi * i / points),
            lat + dlat * math.sin(2 * math.pi * i / points),
        ]
        for i in range(points)
    ]
    return [*coords, coords[0]]


@functools.cache
def local_features() -> dict[str, dict[str, Any]]:
    """The county's boundary and main roads (assets/map/xiangxiang.geojson, hand-drawn and
    approximate: for orientation, not survey data) as one GeoJSON object per kind. Read once;
    a missing or broken file leaves the layers out rather than the map."""
    try:
        collection = json.loads(LOCAL_LAYERS.read_text(encoding="utf-8"))
        features = collection["features"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    out: dict[str, dict[str, Any]] = {}
    for feature in features:
        kind = feature.get("properties", {}).get("kind", "road")
        out.setdefault(kind, {"type": "FeatureCollection", "features": []})["features"].append(
            feature
        )
    return out


def map_layers(
    centre: tuple[float, float] = CENTRE, tiles: str | None = None, scale: float = 1.0
) -> list[dict[str, Any]]:
    """Ground (a dark fill, or the tiles when configured), the county's boundary and roads,
    and range rings, all local (inline GeoJSON); nothing needs a glyph server."""
    lat, lon = centre
    ground = {
        "type": "Polygon",
        "coordinates": [[[-180, -85], [180, -85], [180, 85], [-180, 85], [-180, -85]]],
    }
    rings = {"type": "MultiLineString", "coordinates": [ring(lat, lon, km) for km in RING_KM]}
    layers: list[dict[str, Any]] = [
        {"sourcetype": "raster", "source": [tiles], "below": "traces"}
        if tiles
        else {
            "sourcetype": "geojson",
            "source": ground,
            "type": "fill",
            "color": MAP_FILL,
            "below": "traces",
        },
    ]
    local = local_features()
    if "boundary" in local:
        layers += [
            {
                "sourcetype": "geojson",
                "source": local["boundary"],
                "type": "fill",
                "color": BOUNDARY,
                "opacity": 0.07,
                "below": "traces",
            },
            {
                "sourcetype": "geojson",
                "source": local["boundary"],
                "type": "line",
                "color": BOUNDARY,
                "line": {"width": 2 * scale},
                "opacity": 0.9,
                "below": "traces",
            },
        ]
    for kind, colour, width in (("road", ROAD, 1.5), ("highway", HIGHWAY, 2.5)):
        if kind in local:
            layers.append(
                {
                    "sourcetype": "geojson",
                    "source": local[kind],
                    "type": "line",
                    "color": colour,
                    "line": {"width": width * scale},
                    "opacity": 0.9,
                    "below": "traces",
                }
            )
    layers.append(
        {
            "sourcetype": "geojson",
            "source": rings,
            "type": "line",
            "color": RING,
            "line": {"width": 1.2 * scale, "dash": [2, 2]},
            "opacity": 0.7,
            "below": "traces",
        }
    )
    return layers


def fix_opacity(fix_ts: int | None, now: int | None) -> float:
    """How solid a reporter's dot is: full for a fresh fix, fading to FADE_MIN with its age."""
    if now is None:
        return 1.0
    if not fix_ts:
        return FADE_MIN
    age = now - fix_ts
    if age <= FADE_FROM_MS:
        return 1.0
    if age >= FADE_TO_MS:
        return FADE_MIN
    share = (age - FADE_FROM_MS) / (FADE_TO_MS - FADE_FROM_MS)
    return round((1.0 - share * (1.0 - FADE_MIN)) * 20) / 20  # steps of 0.05: fewer patches


def busy_reporters(tasks: Iterable[Row]) -> dict[str, Row]:
    """Reporter id -> the task they are working on (accepted … filed)."""
    busy: dict[str, Row] = {}
    for task in tasks:
        if task.get("assignee") and task.get("state") in (
            "accepted",
            "en_route",
            "on_scene",
            "filed",
        ):
            busy[task["assignee"]] = task
    return busy


def _reporter_hover(rep: Row, lang: str, task: Row | None, now: int | None) -> str:
    duty = i18n.label("duty", "on" if rep.get("on_duty") else "off", lang)
    if task is not None:
        duty = f"{i18n.t('legend_on_task', lang)}: {task['title']}"
    battery, accuracy = rep.get("battery"), rep.get("accuracy_m")
    extra = f" · {i18n.t('col_battery', lang)} {battery:.0f}%" if battery is not None else ""
    if accuracy is not None:  # how far off the dot may be, as the phone reported it
        extra += f" · ±{accuracy:.0f} m"
    if now is not None and rep.get("fix_ts"):
        extra += " · " + i18n.t("ago", lang).format(age=i18n.age(now - rep["fix_ts"], lang))
    return f"{rep.get('name') or rep['reporter_id']} · {duty}{extra}"


def map_arrays(
    reporters: Iterable[Row],
    tasks: Iterable[Row],
    lang: str,
    now: int | None = None,
    scale: float = 1.0,
) -> dict[int, dict[str, list[Any]]]:
    """The per-trace arrays of the map (trace index -> property -> values), for a figure or a
    Patch (`color`, `size` and `opacity` are the markers').

    Reporters without a fix are left out; off-duty reporters are drawn grey at their last fix;
    with `now`, each dot fades with the age of its fix.
    """
    tasks = list(tasks)
    busy = busy_reporters(tasks)
    traces: dict[int, dict[str, list[Any]]] = {
        index: {"lat": [], "lon": [], "hovertext": [], "opacity": []}
        for index in (MAP_OFF_DUTY, MAP_FREE, MAP_ON_TASK)
    }
    for rep in sorted(reporters, key=lambda r: r["reporter_id"]):
        if rep.get("lat") is None or rep.get("lon") is None:
            continue
        task = busy.get(rep["reporter_id"]) if rep.get("on_duty") else None
        index = MAP_OFF_DUTY if not rep.get("on_duty") else MAP_ON_TASK if task else MAP_FREE
        target = traces[index]
        target["lat"].append(rep["lat"])
        target["lon"].append(rep["lon"])
        target["hovertext"].append(_reporter_hover(rep, lang, task, now))
        target["opacity"].append(fix_opacity(rep.get("fix_ts"), now))
    pins: dict[str, list[Any]] = {"lat": [], "lon": [], "hovertext": [], "color": [], "size": []}
    for task in sorted(tasks, key=lambda t: t["task_id"]):
        priority = task.get("priority", "normal")
        pins["lat"].append(task["lat"])
        pins["lon"].append(task["lon"])
        pins["hovertext"].append(f"{task['title']} · {i18n.label('state', task['state'], lang)}")
        pins["color"].append(PRIORITY_COLOURS.get(priority, PRIORITY_COLOURS["normal"]))
        pins["size"].append(_px(PRIORITY_SIZES.get(priority, 15), scale))
    halo = {
        "lat": pins["lat"],
        "lon": pins["lon"],
        "color": pins["color"],
        "size": [round(size * 2.3) for size in pins["size"]],
    }
    return {**traces, MAP_TASK_HALO: halo, MAP_TASK: pins}


def map_figure(
    reporters: Iterable[Row],
    tasks: Iterable[Row],
    lang: str,
    centre: tuple[float, float] = CENTRE,
    zoom: float = ZOOM,
    *,
    now: int | None = None,
    scale: float = 1.0,
    tiles: str | None = None,
) -> go.Figure:
    """Reporters coloured by state (on task, free, off duty), fading with the age of their fix
    (given `now`), and open task pins coloured and sized by priority."""
    arrays = map_arrays(reporters, tasks, lang, now, scale)
    style = {MAP_ON_TASK: (17, ON_TASK), MAP_FREE: (17, ON_DUTY), MAP_OFF_DUTY: (13, OFF_DUTY)}
    fig = go.Figure()
    for index in range(MAP_TRACES):
        data = arrays[index]
        if index in style:
            size, colour = style[index]
            marker = {"size": _px(size, scale), "color": colour, "opacity": data["opacity"]}
        else:
            marker = {
                "size": data["size"],
                "color": data["color"],
                "opacity": 0.28 if index == MAP_TASK_HALO else 1.0,
            }
        fig.add_trace(
            go.Scattermap(
                lat=data["lat"],
                lon=data["lon"],
                mode="markers",
                marker=marker,
                hovertext=data.get("hovertext"),
                hoverinfo="text" if "hovertext" in data else "skip",
            )
        )
    fig.update_layout(
        **_base_layout(
            scale,
            margin={"l": 0, "r": 0, "t": 0, "b": 0},
            map={
                "style": "white-bg",
                "center": {"lat": centre[0], "lon": centre[1]},
                "zoom": zoom,
                "layers": map_layers(centre, tiles, scale),
            },
            hoverlabel={"font": {"family": FONT, "size": _px(16, scale)}},
        )
    )
    return fig


# --- stories per stage -----------------------------------------------------------------------
def _stage_text(count: int, stuck: int, lang: str) -> str:
    return f"{count}  ⚠{stuck} {i18n.t('stuck', lang)}" if stuck else str(count)


def stages_arrays(
    counts: Sequence[int], stuck: Sequence[int] | None = None, lang: str = "en"
) -> dict[int, dict[str, list[Any]]]:
    """The arrays of stages_figure that change: totals (trace 0) and stuck stories (trace 1)."""
    stuck = list(stuck) if stuck is not None else [0] * len(counts)
    return {
        0: {
            "x": list(counts),
            "text": [_stage_text(c, s, lang) for c, s in zip(counts, stuck, strict=True)],
        },
        1: {"x": stuck},
    }


def stages_figure(
    counts: Sequence[int], lang: str, stuck: Sequence[int] | None = None, scale: float = 1.0
) -> go.Figure:
    """Stories per stage (schema.STAGES, lead at the top): trace 0 the totals, trace 1 the stuck
    ones (over their limit in the stage), drawn red over the start of the same bar."""
    labels = [i18n.label("stage", s, lang) for s in schema.STAGES]
    arrays = stages_arrays(counts, stuck, lang)
    fig = go.Figure(
        [
            go.Bar(
                x=arrays[0]["x"],
                y=labels,
                orientation="h",
                text=arrays[0]["text"],
                textposition="outside",
                cliponaxis=False,
                textfont={"size": _px(20, scale), "color": INK},
                marker={"color": [STAGE_COLOURS[s] for s in schema.STAGES]},
                hoverinfo="skip",
            ),
            go.Bar(
                x=arrays[1]["x"],
                y=labels,
                orientation="h",
                width=0.5,
                marker={"color": STUCK, "line": {"width": 0}},
                hoverinfo="skip",
            ),
        ]
    )
    fig.update_layout(
        **_base_layout(
            scale,
            margin={"l": 8, "r": _px(110, scale), "t": 4, "b": 4},
            bargap=0.28,
            barmode="overlay",
            xaxis={"visible": False, "rangemode": "tozero"},
            yaxis={
                "autorange": "reversed",
                "tickfont": {"size": _px(19, scale), "color": INK},
                "ticksuffix": "  ",
                "fixedrange": True,
            },
        )
    )
    return fig


# --- traffic per channel ---------------------------------------------------------------------
def minute_labels(end_minute_ms: int, minutes: int = 60) -> list[str]:
    """Local wall-clock times of the last `minutes` minutes, oldest first (date-axis strings)."""
    return [
        time.strftime("%Y-%m-%d %H:%M", time.localtime((end_minute_ms - 60_000 * i) / 1000))
        for i in range(minutes - 1, -1, -1)
    ]


def traffic_arrays(
    traffic: Mapping[str, Sequence[int]], end_minute_ms: int, channels: Iterable[str] | None = None
) -> dict[int, dict[str, list[Any]]]:
    """y (and x) per channel trace, in schema.CHANNELS order; only `channels` if given."""
    wanted = set(schema.CHANNELS if channels is None else channels)
    out: dict[int, dict[str, list[Any]]] = {}
    x = minute_labels(end_minute_ms, len(next(iter(traffic.values()), [])) or 60)
    for index, channel in enumerate(schema.CHANNELS):
        if channel in wanted:
            out[index] = {"x": x, "y": list(traffic.get(channel, []))}
    return out


def traffic_figure(
    traffic: Mapping[str, Sequence[int]], end_minute_ms: int, lang: str, scale: float = 1.0
) -> go.Figure:
    """One line per channel (schema.CHANNELS order), per minute over the last hour: views of
    the digital channels above, people reached by radio, TV and the SMS newspaper below (their
    own axis: reach is not views). The legend is HTML (panels.channel_legend)."""
    fig = go.Figure()
    arrays = traffic_arrays(traffic, end_minute_ms)
    for index, channel in enumerate(schema.CHANNELS):
        reach = channel in REACH_CHANNELS
        fig.add_trace(
            go.Scatter(
                x=arrays[index]["x"],
                y=arrays[index]["y"],
                mode="lines",
                name=i18n.label("channel", channel, lang),
                xaxis="x2" if reach else "x",
                yaxis="y2" if reach else "y",
                line={
                    "color": CHANNEL_COLOURS[channel],
                    "width": 3 * scale,
                    "shape": "spline",
                    "smoothing": 0.6,
                    "dash": "dot" if reach else "solid",
                },
            )
        )
    tick = {"size": _px(15, scale), "color": MUTED}
    axis = {
        "gridcolor": GRID,
        "zeroline": False,
        "rangemode": "tozero",
        "tickfont": tick,
        "fixedrange": True,
        "nticks": 4,
    }
    time_axis = {
        "type": "date",
        "tickformat": "%H:%M",
        "gridcolor": GRID,
        "linecolor": GRID,
        "tickfont": tick,
        "fixedrange": True,
    }
    caption = {
        "xref": "paper",
        "yref": "paper",
        "x": 0,
        "xanchor": "left",
        "showarrow": False,
        "font": {"size": _px(14, scale), "color": MUTED},
    }
    fig.update_layout(
        **_base_layout(
            scale,
            margin={
                "l": _px(56, scale),
                "r": _px(12, scale),
                "t": _px(6, scale),
                "b": _px(30, scale),
            },
            hovermode="x unified",
            xaxis={**time_axis, "anchor": "y", "showticklabels": False},
            xaxis2={**time_axis, "anchor": "y2", "matches": "x"},
            yaxis={**axis, "domain": [0.36, 0.92]},
            yaxis2={**axis, "domain": [0.0, 0.24]},
            annotations=[
                {**caption, "y": 0.93, "yanchor": "bottom", "text": i18n.t("views_axis", lang)},
                {**caption, "y": 0.25, "yanchor": "bottom", "text": i18n.t("reach_axis", lang)},
            ],
        )
    )
    return fig
