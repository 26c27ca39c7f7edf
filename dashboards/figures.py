"""Figures for the wall and the desk, built by pure functions from plain data: stories per
stage and traffic per channel, and the palette and layout every figure shares (the map is in
maps.py, the desk's own figures in desk_figures.py).

Trace order is fixed (documented per figure) so a stream can send `Patch` deltas that
replace only the arrays that changed (`*_arrays` return exactly those arrays). `scale`
multiplies every font and marker size, so a figure reads the same from 5 m on a 1920-wide
screen (1) and a 3840-wide one (2).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]

from dashboards import i18n
from dispatch import schema

FONT = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
    '"DejaVu Sans", system-ui, sans-serif'
)
INK = "#d7e3f4"
MUTED = "#7f93ad"
GRID = "#1b2a3d"
STUCK = "#ff3b5c"

ON_DUTY = "#2ee59d"  # on duty and free
ON_TASK = "#35c2ff"  # on duty, working on a task
OFF_DUTY = "#5d6d84"
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


def base_layout(scale: float = 1.0, **extra: Any) -> dict[str, Any]:
    """The layout every figure starts from: transparent, the house font, no legend."""
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


def px(size: float, scale: float) -> int:
    """A font or marker size for the screen's scale."""
    return round(size * scale)


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
    return go.Figure(
        [
            go.Bar(
                x=arrays[0]["x"],
                y=labels,
                orientation="h",
                text=arrays[0]["text"],
                textposition="outside",
                cliponaxis=False,
                textfont={"size": px(20, scale), "color": INK},
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
        ],
        layout=base_layout(
            scale,
            margin={"l": 8, "r": px(110, scale), "t": 4, "b": 4},
            bargap=0.28,
            barmode="overlay",
            xaxis={"visible": False, "rangemode": "tozero"},
            yaxis={
                "autorange": "reversed",
                "tickfont": {"size": px(19, scale), "color": INK},
                "ticksuffix": "  ",
                "fixedrange": True,
            },
        ),
    )


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
    arrays = traffic_arrays(traffic, end_minute_ms)
    lines = []
    for index, channel in enumerate(schema.CHANNELS):
        reach = channel in REACH_CHANNELS
        lines.append(
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
    tick = {"size": px(15, scale), "color": MUTED}
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
        "font": {"size": px(14, scale), "color": MUTED},
    }
    return go.Figure(
        lines,
        layout=base_layout(
            scale,
            margin={
                "l": px(56, scale),
                "r": px(12, scale),
                "t": px(6, scale),
                "b": px(30, scale),
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
        ),
    )
