"""The reporter map, for the wall and the desk, built by pure functions from plain data.

Reporters by state (on task, free, off duty), fading with the age of their fix, and open task
pins by priority, over local layers. Trace order is fixed (MAP_*) so a stream can send `Patch`
deltas that replace only the arrays that changed (`map_arrays` returns exactly those arrays).
The map needs no internet: the `white-bg` style, a dark fill, range rings and the county's
boundary and main roads drawn as local GeoJSON layers (assets/map/), markers only (text
labels would need glyphs from a server); a tile URL is optional. `scale` multiplies every
font and marker size, as in figures.py.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]

from dashboards import figures, i18n

CENTRE = (27.734, 112.533)  # lat, lon of the county seat
ZOOM = 10.2  # the town and its surroundings (the desk)
COUNTY_ZOOM = 9.4  # the whole county (the wall)
RING_KM = (5, 10, 20)
LOCAL_LAYERS = Path(__file__).resolve().parent.parent / "assets" / "map" / "xiangxiang.geojson"

MAP_FILL = "#0a1422"
RING = "#1e3a5a"
BOUNDARY = "#3f6fb0"
ROAD = "#2c4a6e"
HIGHWAY = "#4a6a8f"
PRIORITY_COLOURS = {"normal": "#f5c04a", "high": "#ff8a3d", "breaking": "#ff3b5c"}
PRIORITY_SIZES = {"normal": 15, "high": 18, "breaking": 22}

# Map traces, in this (drawing) order: task pins under reporters.
MAP_TASK_HALO, MAP_TASK, MAP_OFF_DUTY, MAP_FREE, MAP_ON_TASK = range(5)
MAP_ON_DUTY = MAP_FREE  # on duty and free (the name earlier callers use)
MAP_TRACES = 5
# A fix fades from full opacity at FADE_FROM_MS old to FADE_MIN at FADE_TO_MS and beyond.
FADE_FROM_MS, FADE_TO_MS, FADE_MIN = 2 * 60_000, 30 * 60_000, 0.25

Row = dict[str, Any]


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
    hover: bool = True,
) -> dict[int, dict[str, list[Any]]]:
    """The per-trace arrays of the map (trace index -> property -> values), for a figure or a
    Patch (`color`, `size` and `opacity` are the markers'); without `hover`, no hover texts.

    Reporters without a fix are left out; off-duty reporters are drawn grey at their last fix;
    with `now`, each dot fades with the age of its fix.
    """
    tasks = list(tasks)
    busy = busy_reporters(tasks)
    traces: dict[int, dict[str, list[Any]]] = {
        index: {"lat": [], "lon": [], "opacity": [], **({"hovertext": []} if hover else {})}
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
        if hover:
            target["hovertext"].append(_reporter_hover(rep, lang, task, now))
        target["opacity"].append(fix_opacity(rep.get("fix_ts"), now))
    pins: dict[str, list[Any]] = {"lat": [], "lon": [], "color": [], "size": []}
    if hover:
        pins["hovertext"] = []
    for task in sorted(tasks, key=lambda t: t["task_id"]):
        priority = task.get("priority", "normal")
        pins["lat"].append(task["lat"])
        pins["lon"].append(task["lon"])
        if hover:
            state = i18n.label("state", task["state"], lang)
            pins["hovertext"].append(f"{task['title']} · {state}")
        pins["color"].append(PRIORITY_COLOURS.get(priority, PRIORITY_COLOURS["normal"]))
        pins["size"].append(figures.px(PRIORITY_SIZES.get(priority, 15), scale))
    halo = {
        "lat": pins["lat"],
        "lon": pins["lon"],
        "color": pins["color"],
        "size": [round(size * 2.3) for size in pins["size"]],
    }
    return {**traces, MAP_TASK_HALO: halo, MAP_TASK: pins}


# Reporter traces: marker size (before `scale`) and colour; pins carry theirs per point.
REPORTER_STYLE = {
    MAP_ON_TASK: (17, figures.ON_TASK),
    MAP_FREE: (17, figures.ON_DUTY),
    MAP_OFF_DUTY: (13, figures.OFF_DUTY),
}
HALO_OPACITY = 0.28


def marker(index: int, data: dict[str, list[Any]], scale: float) -> dict[str, Any]:
    """Trace `index`'s marker (size, colour, opacity: one value or one per point) from its
    arrays (`map_arrays`)."""
    if index in REPORTER_STYLE:
        size, colour = REPORTER_STYLE[index]
        return {"size": figures.px(size, scale), "color": colour, "opacity": data["opacity"]}
    opacity = HALO_OPACITY if index == MAP_TASK_HALO else 1.0
    return {"size": data["size"], "color": data["color"], "opacity": opacity}


def overlay_markers(
    reporters: Iterable[Row], tasks: Iterable[Row], now: int | None = None, scale: float = 1.0
) -> dict[str, Any]:
    """What assets/map_overlay.js draws over the wall's map: the map's traces in drawing
    order (MAP_*), each {lat, lon, size, color, opacity}, positions to 1e-5 degrees (~1 m)."""
    arrays = map_arrays(reporters, tasks, "en", now, scale, hover=False)
    traces = []
    for index in range(MAP_TRACES):
        data = arrays[index]
        traces.append(
            {
                "lat": [round(v, 5) for v in data["lat"]],
                "lon": [round(v, 5) for v in data["lon"]],
                **marker(index, data, scale),
            }
        )
    return {"traces": traces}


def overlay_attribute(
    reporters: Iterable[Row], tasks: Iterable[Row], now: int | None = None, scale: float = 1.0
) -> str:
    """`overlay_markers` as the canvas's data-markers attribute (compact JSON). An attribute,
    not a dcc.Store feeding a callback: Dash keeps every server-set change of a callback's
    input in its undo history, for ever (a leak at two updates a second)."""
    markers = overlay_markers(reporters, tasks, now, scale)
    return json.dumps(markers, separators=(",", ":"), allow_nan=False)


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
    overlay: bool = False,
) -> go.Figure:
    """Reporters coloured by state (on task, free, off duty), fading with the age of their fix
    (given `now`), and open task pins coloured and sized by priority.

    With `overlay` (the wall), only the ground, the local layers and one empty trace: the
    markers (`overlay_markers`) are drawn by assets/map_overlay.js on a canvas over the map,
    so the WebGL map is drawn once, not on every move of a reporter (docs/performance.md §4)."""
    if overlay:  # one empty trace: a map subplot exists only for the traces drawn on it
        traces = [go.Scattermap(lat=[], lon=[], mode="markers", hoverinfo="skip")]
    else:
        arrays = map_arrays(reporters, tasks, lang, now, scale)
        traces = [
            go.Scattermap(
                lat=arrays[index]["lat"],
                lon=arrays[index]["lon"],
                mode="markers",
                marker=marker(index, arrays[index], scale),
                hovertext=arrays[index].get("hovertext"),
                hoverinfo="text" if "hovertext" in arrays[index] else "skip",
            )
            for index in range(MAP_TRACES)
        ]
    return go.Figure(
        traces,
        layout=figures.base_layout(
            scale,
            margin={"l": 0, "r": 0, "t": 0, "b": 0},
            map={
                "style": "white-bg",
                "center": {"lat": centre[0], "lon": centre[1]},
                "zoom": zoom,
                "layers": map_layers(centre, tiles, scale),
            },
            hoverlabel={"font": {"family": figures.FONT, "size": figures.px(16, scale)}},
        ),
    )
