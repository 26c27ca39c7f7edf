"""The desk's figures, built by pure functions from plain data: the map's pin for the new
task's place, a story's audience per channel, and the after-action review (dispatch,
arrival, CMS stages and the traffic curve on one time axis) with its CSV.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]

from dashboards import figures, i18n
from dispatch import schema

PIN_COLOUR = "#ffffff"
MINUTE_MS = 60_000
# The task states the review marks with a line across the chart: dispatch and arrival.
MARKED = {"offered": "dk_mark_dispatch", "on_scene": "dk_mark_arrival"}
# The transitions the chart writes next to their points (the others show on hover).
LABELLED = frozenset({"offered", "on_scene", "filed", "done", "cancelled", "declined", "expired"})
STATE_COLOURS = {
    "created": figures.MUTED,
    "offered": "#f5c04a",
    "delivered": "#35c2ff",
    "accepted": "#2ee59d",
    "declined": "#ff8a3d",
    "en_route": "#2ee59d",
    "on_scene": "#2ee59d",
    "filed": "#2fb3f0",
    "done": "#d7e3f4",
    "cancelled": "#5d6d84",
    "expired": "#ff3b5c",
}


# --- the map's pin ---------------------------------------------------------------------------
def pin_trace(point: tuple[float, float] | None) -> go.Scattermap:
    """A white dot where the new task will be (drawn above the reporters and tasks)."""
    lat, lon = point if point else (None, None)
    return go.Scattermap(
        lat=[lat] if lat is not None else [],
        lon=[lon] if lon is not None else [],
        mode="markers",
        hoverinfo="skip",
        marker={"size": 15, "color": PIN_COLOUR, "opacity": 0.95},
    )


def with_pin(fig: go.Figure, point: tuple[float, float] | None) -> go.Figure:
    """The map with the pin as its last trace (its index is the map's trace count)."""
    fig.add_trace(pin_trace(point))
    return fig


# --- a story's audience ----------------------------------------------------------------------
def audience_figure(traffic: Mapping[str, Sequence[int]], lang: str) -> go.Figure:
    """Views (or people reached) per channel over the series given, one bar per channel that
    had any, in schema.CHANNELS order."""
    totals = [(ch, sum(traffic.get(ch, ()))) for ch in schema.CHANNELS]
    shown = [(ch, n) for ch, n in totals if n > 0]
    return go.Figure(
        go.Bar(
            x=[n for _, n in shown],
            y=[i18n.label("channel", ch, lang) for ch, _ in shown],
            orientation="h",
            text=[f"{n:,}" for _, n in shown],
            textposition="outside",
            cliponaxis=False,
            marker={"color": [figures.CHANNEL_COLOURS[ch] for ch, _ in shown]},
            hoverinfo="skip",
            textfont={"size": 13, "color": figures.INK},
        ),
        layout={
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "showlegend": False,
            "font": {"family": figures.FONT, "color": figures.INK, "size": 13},
            "margin": {"l": 8, "r": 48, "t": 4, "b": 4},
            "bargap": 0.3,
            "xaxis": {"visible": False, "rangemode": "tozero", "fixedrange": True},
            "yaxis": {"autorange": "reversed", "fixedrange": True, "ticksuffix": " "},
        },
    )


# --- after-action review ---------------------------------------------------------------------
@dataclass
class Review:
    """Everything the review shows, as plain data (see desk_review.load)."""

    kind: str  # "task" or "story"
    subject: str  # task_id or story_id
    title: str
    tasks: list[dict[str, Any]] = field(default_factory=list)  # each with its timeline
    story: dict[str, Any] | None = None
    stages: list[tuple[int, str]] = field(default_factory=list)  # (at, stage), oldest first
    traffic: dict[str, list[int]] = field(default_factory=dict)  # channel -> per minute
    traffic_start: int = 0  # the first minute of `traffic`
    names: dict[str, str] = field(default_factory=dict)  # reporter id -> name
    now: int = 0


@dataclass(frozen=True)
class Mark:
    """One point on the review's time axis."""

    at: int
    lane: str  # "task" | "story"
    subject: str  # task_id | story_id
    code: str  # task state | story stage
    text: str  # what the chart writes next to the point
    who: str = ""
    note: str = ""


def local(ms: int, seconds: bool = True) -> str:
    """Local time as a date-axis string (as figures.minute_labels)."""
    return time.strftime(
        "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M", time.localtime(ms / 1000)
    )


def marks(review: Review, lang: str) -> list[Mark]:
    """Every task transition and every CMS stage, oldest first. A timeline entry in the same
    state as the one before is an edit of the task's details (its reason says which)."""
    out: list[Mark] = []
    for task in review.tasks:
        before = ""
        for event in task.get("timeline", []):
            state = event["state"]
            actor = event.get("actor") or ""
            who = review.names.get(actor, actor)
            note = event.get("reason") or ""
            if state == before:
                out.append(
                    Mark(
                        at=event["at"],
                        lane="task",
                        subject=task["task_id"],
                        code="edited",
                        text=i18n.t("dk_edited", lang),
                        who=who,
                        note=note,
                    )
                )
                continue
            before = state
            text = i18n.label("state", state, lang)
            assignee = event.get("assignee")
            if state == "offered" and assignee:
                text += " → " + review.names.get(assignee, assignee)
            out.append(
                Mark(
                    at=event["at"],
                    lane="task",
                    subject=task["task_id"],
                    code=state,
                    text=text,
                    who=who,
                    note=note,
                )
            )
    story_id = review.story["story_id"] if review.story else review.subject
    for at, stage in review.stages:
        out.append(
            Mark(
                at=at,
                lane="story",
                subject=story_id,
                code=stage,
                text=i18n.label("stage", stage, lang),
            )
        )
    return sorted(out, key=lambda m: (m.at, m.lane))


def minutes(start: int, count: int) -> list[int]:
    return [start + MINUTE_MS * i for i in range(count)]


def review_figure(review: Review, lang: str) -> go.Figure:
    """Traffic per channel (stacked, views per minute) below, the task's transitions and the
    story's CMS stages as two lanes of points above, dispatch and arrival as lines across."""
    traces: list[go.Scatter] = []
    width = len(next(iter(review.traffic.values()), []))
    x = [local(m, seconds=False) for m in minutes(review.traffic_start, width)]
    for channel in schema.CHANNELS:
        series = review.traffic.get(channel) or []
        if not any(series):
            continue
        traces.append(
            go.Scatter(
                x=x,
                y=list(series),
                mode="lines",
                stackgroup="views",
                yaxis="y",
                name=i18n.label("channel", channel, lang),
                line={"color": figures.CHANNEL_COLOURS[channel], "width": 1.5},
                hovertemplate="%{y}<extra>%{fullData.name}</extra>",
            )
        )
    points = marks(review, lang)
    lanes = {"task": i18n.t("dk_lane_task", lang), "story": i18n.t("dk_lane_story", lang)}
    for lane in ("story", "task"):
        mine = [m for m in points if m.lane == lane]
        traces.append(
            go.Scatter(
                x=[local(m.at) for m in mine],
                y=[lanes[lane]] * len(mine),
                yaxis="y2",
                mode="markers+text",
                text=[m.text if m.lane == "story" or m.code in LABELLED else "" for m in mine],
                hovertext=[f"{m.text} · {m.who}" if m.who else m.text for m in mine],
                textposition="top center",
                textfont={"size": 11, "color": figures.INK},
                name=lanes[lane],
                showlegend=False,
                marker={
                    "size": 11,
                    "symbol": "diamond" if lane == "story" else "circle",
                    "color": [
                        figures.STAGE_COLOURS.get(m.code)
                        or STATE_COLOURS.get(m.code)
                        or figures.INK
                        for m in mine
                    ],
                    "line": {"width": 1, "color": "#04121f"},
                },
                hovertemplate="%{hovertext}<br>%{x}<extra></extra>",
            )
        )
    shapes, notes = [], []
    for m in points:
        if m.lane == "task" and m.code in MARKED:
            colour = STATE_COLOURS[m.code]
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": local(m.at),
                    "x1": local(m.at),
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": colour, "width": 1.5, "dash": "dot"},
                }
            )
            notes.append(
                {
                    "x": local(m.at),
                    "xref": "x",
                    "yref": "paper",
                    "y": 0.64,
                    "text": i18n.t(MARKED[m.code], lang),
                    "showarrow": False,
                    "xanchor": "left",
                    "font": {"size": 11, "color": colour},
                }
            )
    start = (
        min([review.traffic_start, *(m.at for m in points)]) if points else (review.traffic_start)
    )
    end = max(review.now, start)
    layout: dict[str, Any] = {
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": figures.FONT, "color": figures.INK, "size": 13},
        "margin": {"l": 64, "r": 16, "t": 26, "b": 36},
        "hovermode": "closest",
        "shapes": shapes,
        "annotations": notes,
        "uirevision": f"{review.kind}:{review.subject}",
        "legend": {
            "orientation": "h",
            "x": 0,
            "y": 0.6,
            "yanchor": "top",
            "font": {"size": 11},
            "bgcolor": "rgba(0,0,0,0)",
        },
        "xaxis": {
            "type": "date",
            "gridcolor": figures.GRID,
            "linecolor": figures.GRID,
            "tickfont": {"color": figures.MUTED},
            "range": [
                local(start - 2 * MINUTE_MS),
                local(end + max(2 * MINUTE_MS, (end - start) // 12)),
            ],
        },
        "yaxis": {
            "domain": [0, 0.62],
            "title": {
                "text": i18n.t("dk_views_min", lang),
                "font": {"size": 11, "color": figures.MUTED},
            },
            "gridcolor": figures.GRID,
            "rangemode": "tozero",
            "zeroline": False,
            "tickfont": {"color": figures.MUTED},
        },
        "yaxis2": {
            "domain": [0.7, 0.97],
            "type": "category",
            "categoryorder": "array",
            "categoryarray": [lanes["story"], lanes["task"]],
            "showgrid": False,
            "tickfont": {"color": figures.INK},
            "fixedrange": True,
        },
    }
    if not points and not width:  # nothing picked yet: no axes to stare at
        for axis in ("xaxis", "yaxis", "yaxis2"):
            layout[axis]["visible"] = False
    return go.Figure(traces, layout=layout)


def review_csv(review: Review, lang: str) -> str:
    """The review's data as CSV (UTF-8 with a byte order mark, so spreadsheet programs read the
    Chinese right): every transition and stage, then the views per channel and minute."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")
    out.writerow(
        [
            i18n.t(k, lang)
            for k in (
                "dk_csv_time",
                "dk_csv_ms",
                "dk_csv_lane",
                "dk_csv_subject",
                "dk_csv_event",
                "dk_csv_code",
                "dk_csv_value",
                "dk_csv_who",
                "dk_csv_note",
            )
        ]
    )
    lanes = {
        "task": i18n.t("dk_lane_task", lang),
        "story": i18n.t("dk_lane_story", lang),
        "traffic": i18n.t("dk_lane_traffic", lang),
    }
    for m in marks(review, lang):
        out.writerow(
            [local(m.at), m.at, lanes[m.lane], m.subject, m.text, m.code, "", m.who, m.note]
        )
    width = len(next(iter(review.traffic.values()), []))
    story_id = review.story["story_id"] if review.story else review.subject
    for index, minute in enumerate(minutes(review.traffic_start, width)):
        for channel in schema.CHANNELS:
            series = review.traffic.get(channel) or []
            if index < len(series) and series[index]:
                out.writerow(
                    [
                        local(minute),
                        minute,
                        lanes["traffic"],
                        story_id,
                        i18n.label("channel", channel, lang),
                        channel,
                        series[index],
                        "",
                        "",
                    ]
                )
    return "\ufeff" + buf.getvalue()
