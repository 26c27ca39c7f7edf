"""Figures for the wall and the desk, built by pure functions from plain data.

Trace order is fixed (documented per figure) so a stream can send `Patch` deltas that
replace only the arrays that changed (`*_arrays` return exactly those arrays). The map needs
no internet: the `white-bg` style, a dark fill and range rings drawn as local GeoJSON layers,
markers only (text labels would need glyphs from a server).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]

from dashboards import i18n
from dispatch import schema

CENTRE = (27.734, 112.533)  # lat, lon of the county seat
ZOOM = 10.2
RING_KM = (5, 10, 20, 40)

FONT = ('"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
        '"DejaVu Sans", system-ui, sans-serif')
INK = "#d7e3f4"
MUTED = "#7f93ad"
GRID = "#1b2a3d"
MAP_FILL = "#0a1422"
RING = "#1e3a5a"

ON_DUTY = "#2ee59d"
OFF_DUTY = "#5d6d84"
PRIORITY_COLOURS = {"normal": "#f5c04a", "high": "#ff8a3d", "breaking": "#ff3b5c"}
STAGE_COLOURS = {
    "lead": "#3b5b8c", "pitched": "#3f6fb0", "assigned": "#3f83cf", "reporting": "#3a9ae6",
    "filed": "#2fb3f0", "editing": "#2bc7e0", "review": "#2fd6c3", "published": "#2ee59d",
    "spiked": "#7d5b6e", "corrected": "#f5c04a",
}
CHANNEL_COLOURS = {
    "app": "#35c2ff", "web": "#8f7cff", "wechat": "#2ee59d", "weibo": "#ff8a3d",
    "douyin": "#ff4fa3", "sms": "#f5c04a", "radio": "#9bd14b", "tv": "#c9d6e8",
}

# Map traces, in this (drawing) order: task pins under reporters.
MAP_TASK_HALO, MAP_TASK, MAP_OFF_DUTY, MAP_ON_DUTY = range(4)

Row = dict[str, Any]


def _base_layout(**extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": FONT, "color": INK, "size": 16},
        "margin": {"l": 8, "r": 8, "t": 8, "b": 8}, "showlegend": False,
        "uirevision": "keep",  # patches never reset what a desk user zoomed into
    }
    layout.update(extra)
    return layout


# --- map -------------------------------------------------------------------------------------
def ring(lat: float, lon: float, km: float, points: int = 96) -> list[list[float]]:
    """A circle of radius `km` around (lat, lon) as a closed [lon, lat] ring."""
    dlat = km / 111.32
    dlon = km / (111.32 * math.cos(math.radians(lat)))
    coords = [[lon + dlon * math.cos(2 * math.pi * i / points),
               lat + dlat * math.sin(2 * math.pi * i / points)] for i in range(points)]
    return [*coords, coords[0]]


def map_layers(centre: tuple[float, float] = CENTRE) -> list[dict[str, Any]]:
    """A dark ground, range rings and a crosshair, all inline GeoJSON (no tiles, no glyphs)."""
    lat, lon = centre
    ground = {"type": "Polygon", "coordinates": [[[-180, -85], [180, -85], [180, 85], [-180, 85],
                                                  [-180, -85]]]}
    rings = {"type": "MultiLineString", "coordinates": [ring(lat, lon, km) for km in RING_KM]}
    span = RING_KM[-1] * 1.2
    dlat, dlon = span / 111.32, span / (111.32 * math.cos(math.radians(lat)))
    cross = {"type": "MultiLineString", "coordinates": [[[lon - dlon, lat], [lon + dlon, lat]],
                                                         [[lon, lat - dlat], [lon, lat + dlat]]]}
    return [
        {"sourcetype": "geojson", "source": ground, "type": "fill", "color": MAP_FILL,
         "below": "traces"},
        {"sourcetype": "geojson", "source": cross, "type": "line", "color": RING,
         "line": {"width": 1}, "opacity": 0.6, "below": "traces"},
        {"sourcetype": "geojson", "source": rings, "type": "line", "color": RING,
         "line": {"width": 1.5, "dash": [2, 2]}, "below": "traces"},
    ]


def _reporter_hover(rep: Row, lang: str) -> str:
    duty = i18n.label("duty", "on" if rep.get("on_duty") else "off", lang)
    battery, accuracy = rep.get("battery"), rep.get("accuracy_m")
    extra = f" · {i18n.t('col_battery', lang)} {battery:.0f}%" if battery is not None else ""
    if accuracy is not None:  # how far off the dot may be, as the phone reported it
        extra += f" · ±{accuracy:.0f} m"
    return f"{rep.get('name') or rep['reporter_id']} · {duty}{extra}"


def map_arrays(reporters: Iterable[Row], tasks: Iterable[Row],
               lang: str) -> dict[int, dict[str, list[Any]]]:
    """The per-trace arrays of the map (trace index -> property -> values), for a figure or a Patch.

    Reporters without a fix are left out; off-duty reporters are drawn grey at their last fix.
    """
    on: dict[str, list[Any]] = {"lat": [], "lon": [], "hovertext": []}
    off: dict[str, list[Any]] = {"lat": [], "lon": [], "hovertext": []}
    for rep in sorted(reporters, key=lambda r: r["reporter_id"]):
        if rep.get("lat") is None or rep.get("lon") is None:
            continue
        target = on if rep.get("on_duty") else off
        target["lat"].append(rep["lat"])
        target["lon"].append(rep["lon"])
        target["hovertext"].append(_reporter_hover(rep, lang))
    pins: dict[str, list[Any]] = {"lat": [], "lon": [], "hovertext": [], "color": []}
    for task in sorted(tasks, key=lambda t: t["task_id"]):
        pins["lat"].append(task["lat"])
        pins["lon"].append(task["lon"])
        pins["hovertext"].append(f"{task['title']} · {i18n.label('state', task['state'], lang)}")
        priority = task.get("priority", "normal")
        pins["color"].append(PRIORITY_COLOURS.get(priority, PRIORITY_COLOURS["normal"]))
    halo = {"lat": pins["lat"], "lon": pins["lon"], "color": pins["color"]}
    task = {"lat": pins["lat"], "lon": pins["lon"], "hovertext": pins["hovertext"],
            "color": pins["color"]}
    return {MAP_ON_DUTY: on, MAP_OFF_DUTY: off, MAP_TASK_HALO: halo, MAP_TASK: task}


def map_figure(reporters: Iterable[Row], tasks: Iterable[Row], lang: str,
               centre: tuple[float, float] = CENTRE, zoom: float = ZOOM) -> go.Figure:
    """Reporters (green on duty, grey off duty) and open task pins coloured by priority."""
    arrays = map_arrays(reporters, tasks, lang)
    style = {MAP_ON_DUTY: (17, ON_DUTY, 1.0), MAP_OFF_DUTY: (13, OFF_DUTY, 0.9),
             MAP_TASK_HALO: (38, None, 0.28), MAP_TASK: (17, None, 1.0)}
    fig = go.Figure()
    for index in range(4):
        size, colour, opacity = style[index]
        data = arrays[index]
        fig.add_trace(go.Scattermap(
            lat=data["lat"], lon=data["lon"], mode="markers",
            hovertext=data.get("hovertext"), hoverinfo="text" if "hovertext" in data else "skip",
            marker={"size": size, "color": colour or data["color"], "opacity": opacity}))
    fig.update_layout(**_base_layout(
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        map={"style": "white-bg", "center": {"lat": centre[0], "lon": centre[1]}, "zoom": zoom,
             "layers": map_layers(centre)},
        hoverlabel={"font": {"family": FONT, "size": 16}}))
    return fig


# --- stories per stage -----------------------------------------------------------------------
def stages_figure(counts: Sequence[int], lang: str) -> go.Figure:
    """One horizontal bar trace over schema.STAGES (lead at the top); Patch x and text."""
    labels = [i18n.label("stage", s, lang) for s in schema.STAGES]
    fig = go.Figure(go.Bar(
        x=list(counts), y=labels, orientation="h", text=list(counts), textposition="outside",
        cliponaxis=False, textfont={"size": 20, "color": INK},
        marker={"color": [STAGE_COLOURS[s] for s in schema.STAGES]}, hoverinfo="skip"))
    fig.update_layout(**_base_layout(
        margin={"l": 8, "r": 40, "t": 4, "b": 4}, bargap=0.28,
        xaxis={"visible": False, "rangemode": "tozero"},
        yaxis={"autorange": "reversed", "tickfont": {"size": 19, "color": INK}, "ticksuffix": "  ",
               "fixedrange": True}))
    return fig


def stages_arrays(counts: Sequence[int]) -> dict[int, dict[str, list[Any]]]:
    """The arrays of stages_figure that change with the counts."""
    return {0: {"x": list(counts), "text": list(counts)}}


# --- traffic per channel ---------------------------------------------------------------------
def minute_labels(end_minute_ms: int, minutes: int = 60) -> list[str]:
    """Local wall-clock times of the last `minutes` minutes, oldest first (date-axis strings)."""
    return [time.strftime("%Y-%m-%d %H:%M", time.localtime((end_minute_ms - 60_000 * i) / 1000))
            for i in range(minutes - 1, -1, -1)]


def traffic_arrays(traffic: Mapping[str, Sequence[int]], end_minute_ms: int,
                   channels: Iterable[str] | None = None) -> dict[int, dict[str, list[Any]]]:
    """y (and x) per channel trace, in schema.CHANNELS order; only `channels` if given."""
    wanted = set(schema.CHANNELS if channels is None else channels)
    out: dict[int, dict[str, list[Any]]] = {}
    x = minute_labels(end_minute_ms, len(next(iter(traffic.values()), [])) or 60)
    for index, channel in enumerate(schema.CHANNELS):
        if channel in wanted:
            out[index] = {"x": x, "y": list(traffic.get(channel, []))}
    return out


def traffic_figure(traffic: Mapping[str, Sequence[int]], end_minute_ms: int,
                   lang: str) -> go.Figure:
    """One line per channel (schema.CHANNELS order), views per minute over the last hour."""
    fig = go.Figure()
    arrays = traffic_arrays(traffic, end_minute_ms)
    for index, channel in enumerate(schema.CHANNELS):
        fig.add_trace(go.Scatter(
            x=arrays[index]["x"], y=arrays[index]["y"], mode="lines",
            name=i18n.label("channel", channel, lang),
            line={"color": CHANNEL_COLOURS[channel], "width": 3, "shape": "spline",
                  "smoothing": 0.6}))
    fig.update_layout(**_base_layout(
        showlegend=True, margin={"l": 56, "r": 12, "t": 40, "b": 36},
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom",
                "font": {"size": 15, "color": INK}, "itemwidth": 30},
        hovermode="x unified",
        xaxis={"type": "date", "tickformat": "%H:%M", "gridcolor": GRID, "linecolor": GRID,
               "tickfont": {"size": 15, "color": MUTED}, "fixedrange": True},
        yaxis={"gridcolor": GRID, "zeroline": False, "rangemode": "tozero",
               "tickfont": {"size": 15, "color": MUTED}, "fixedrange": True}))
    return fig
