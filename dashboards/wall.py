"""The command-hall wall (/wall?key=…): read-only, live, readable from 5 m at 1920×1080 and 4K.

Panels (any subset, in any order, or rotating views: see wall_options): the reporter map
(reporters by state, fading with the age of their fix; task pins by priority; the county's
boundary and roads), the story pipeline with stuck stories, traffic per channel with reach
apart, top stories with sparklines, open tasks against their deadlines, the channel deadline
board, recent alerts. A header with the counters, the link state and the clock; a ticker with
the last event and each feed source's health. The router renders it from a snapshot (this
module); wall_live.py keeps it live: Patch deltas for the charts, HTML fragments for the
lists, the markers for the map's canvas. The wall registers no callback that writes: one
streaming callback and one clientside callback (the screen's scale).
"""

from __future__ import annotations

import json
import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from dash import dcc, html

from dashboards import figures, fragments, i18n, ids, maps, model, panels, wall_panels
from dashboards.model import LiveState
from dashboards.wall_options import Options, View
from dashboards.wall_options import parse as parse_options
from dashboards.wall_schedule import DEFAULT, Schedule
from dispatch.runtime import Runtime


def map_tiles(runtime: Runtime) -> str | None:
    """The optional tile URL (NEWSROOM_MAP_TILES, `{z}/{x}/{y}`). Unset: the map is the local
    layers on a dark ground, no internet."""
    return runtime.settings.map_tiles


@dataclass(frozen=True)
class Look:
    """How one wall connection draws: what it shows and at which size."""

    lang: str
    panels: frozenset[str]
    scale: float = 1.0
    tiles: str | None = None
    limits: dict[str, float] | None = None

    @property
    def zoom(self) -> float:
        """The whole county, whatever the screen: a screen twice as wide needs one zoom more."""
        return maps.COUNTY_ZOOM + math.log2(self.scale)

    @property
    def stage_limits(self) -> dict[str, float]:
        return self.limits if self.limits is not None else DEFAULT.stage_limits_min

    def base_map(self) -> Any:
        """The map's figure (a go.Figure): the ground and the county's layers, drawn once
        (the markers go over it: `markers`)."""
        return maps.map_figure([], [], self.lang, zoom=self.zoom, tiles=self.tiles, overlay=True)

    def markers(self, state: LiveState, now: int) -> str:
        """The map's markers at `now`, for its overlay canvas's data-markers."""
        return maps.overlay_attribute(
            state.reporters.values(), state.tasks.values(), now, self.scale
        )

    @property
    def key(self) -> Hashable:
        """Everything the wall's live render depends on: walls with equal keys share it."""
        limits = tuple(sorted(self.stage_limits.items()))
        return (self.lang, self.panels, self.scale, self.tiles, limits)


def denied(lang: str) -> html.Div:
    """What a missing, unknown or revoked key gets: a clear message and no data."""
    return html.Div(
        html.Div(
            [
                html.H1(i18n.t("wall_denied", lang)),
                html.P(i18n.t("wall_denied_hint", lang)),
            ],
            className="nr-message",
        ),
        id=ids.WALL_DENIED,
        className="nr-wall nr-denied",
    )


def _panels(state: LiveState, look: Look, schedule: Schedule, now: int) -> dict[str, Any]:
    """Each panel's title, body and extra, by name."""
    lang, scale = look.lang, look.scale
    markers: dict[str, Any] = {"data-markers": look.markers(state, now)}
    counts, stuck = model.stage_counts(state), model.stuck_counts(state, now, look.stage_limits)
    tasks = wall_panels.open_tasks(state, now, lang)
    return {
        "map": (
            "panel_map",
            [
                panels.graph(ids.WALL_MAP, look.base_map()),
                html.Canvas(id=ids.WALL_MAP_OVERLAY, className="nr-map-overlay", **markers),
            ],
            panels.legend(lang),
        ),
        "stages": (
            "panel_stages",
            [panels.graph(ids.WALL_STAGES, figures.stages_figure(counts, lang, stuck, scale))],
            html.Div(wall_panels.stuck_badge(stuck, lang), id=ids.WALL_STUCK),
        ),
        "traffic": (
            "panel_traffic",
            [
                wall_panels.channel_legend(lang),
                html.Div(
                    panels.graph(
                        ids.WALL_TRAFFIC,
                        figures.traffic_figure(state.traffic, state.traffic_end, lang, scale),
                    ),
                    className="nr-graph-box",
                ),
                panels.stale_mark(
                    ids.WALL_TRAFFIC_STALE,
                    i18n.t("traffic_stale", lang),
                    model.traffic_stale(state),
                ),
            ],
            None,
        ),
        "top": (
            "panel_top",
            [
                html.Div(
                    id=ids.WALL_TOP,
                    className="nr-list nr-top",
                    **fragments.fragment(wall_panels.top_list(state.top, state.titles, lang)),
                )
            ],
            None,
        ),
        "tasks": (
            "panel_tasks",
            [html.Div(id=ids.WALL_TASKS, className="nr-task-list", **fragments.fragment(tasks))],
            None,
        ),
        "deadlines": (
            "panel_deadlines",
            [
                html.Div(
                    wall_panels.deadline_board(schedule, lang, now),
                    id=ids.WALL_DEADLINES,
                    className="nr-list",
                )
            ],
            None,
        ),
        "alerts": (
            "panel_alerts",
            [
                html.Div(
                    id=ids.WALL_ALERTS,
                    className="nr-list nr-alerts",
                    **fragments.fragment(wall_panels.alert_list(state.alerts, lang)),
                )
            ],
            None,
        ),
    }


def _place_style(view: View, name: str) -> dict[str, str]:
    col, row, span = view.places[name]
    return {"gridColumn": str(col), "gridRow": f"{row} / span {span}"}


def layout(
    key: str,
    lang: str,
    state: LiveState,
    now: int,
    options: Options | None = None,
    schedule: Schedule = DEFAULT,
    tiles: str | None = None,
) -> html.Div:
    """The wall, filled from `state`; the stream takes over from here."""
    options = options or parse_options({}, i18n.LANGS)
    look = Look(lang, frozenset(options.panels), tiles=tiles, limits=schedule.stage_limits_min)
    kpis = [
        panels.kpi(ids.WALL_ON_DUTY, i18n.t("kpi_on_duty", lang), state.on_duty, "nr-kpi-green"),
        panels.kpi(ids.WALL_REPORTER_COUNT, i18n.t("kpi_on_map", lang), state.on_map),
        panels.kpi(
            ids.WALL_OPEN_TASKS_COUNT,
            i18n.t("kpi_open_tasks", lang),
            len(state.tasks),
            "nr-kpi-amber",
        ),
        panels.kpi(ids.WALL_EVENT_RATE, i18n.t("kpi_rate", lang), model.event_rate(state, now)),
    ]
    status = [
        html.Div(i18n.clock(now), id=ids.WALL_CLOCK, className="nr-clock"),
        html.Div(
            [
                html.Span(
                    panels.link_status("connecting", lang), id=ids.WALL_LINK, className="nr-link"
                ),
                html.Span(i18n.t("last_update", lang), className="nr-muted"),
                html.Span(i18n.clock(now), id=ids.WALL_LAST_UPDATE, className="nr-updated"),
            ],
            className="nr-status-line",
        ),
    ]
    header = panels.header(lang, i18n.t("wall_title", lang), kpis, status)
    first = options.views[0]
    built = _panels(state, look, schedule, now)
    sections = []
    for name in options.panels:
        title, body, extra = built[name]
        shown = name in first.places
        sections.append(
            panels.panel(
                i18n.t(title, lang),
                *body,
                extra=extra,
                class_name=f"nr-area-{name}" + ("" if shown else " nr-off"),
                id=ids.WALL_PANEL + name,
                style=_place_style(first, name) if shown else {},
                **{"data-panel": name},
            )
        )
    rotation: dict[str, Any] = {
        "data-view": "0",
        "data-rotate": str(options.rotate_s),
        "data-views": json.dumps([v.as_json() for v in options.views]),
    }
    grid = html.Main(
        sections,
        id=ids.WALL_GRID,
        className="nr-grid nr-wall-grid",
        style={"gridTemplateColumns": first.columns},
        **rotation,
    )
    feeds = html.Div(
        id=ids.WALL_FEEDS,
        className="nr-feeds",
        **fragments.fragment(panels.feed_chips(state.feeds, lang)),
    )
    notice = html.Div(
        wall_panels.notice(options.ignored, schedule.error, lang),
        id=ids.WALL_NOTICE,
        className="nr-notices",
    )
    ticker = panels.ticker(
        ids.WALL_LAST_EVENT,
        state.last_event,
        state.seen,
        lang,
        extra=html.Div([notice, feeds], className="nr-ticker-end"),
    )
    seed = {"key": key, "lang": lang, "panels": list(options.panels)}
    hidden = [
        dcc.Store(id=ids.WALL_SEED, data=seed),
        dcc.Store(id=ids.WALL_TICKET),
        html.Div(id=ids.WALL_LIVE_SINK, hidden=True),
        html.Div("", id=ids.WALL_HEARTBEAT, className="nr-heartbeat", hidden=True),
    ]
    return html.Div(
        [panels.stale_banner(ids.WALL_STALE, lang), header, grid, ticker, *hidden],
        id=ids.WALL,
        className=f"nr-wall nr-lang-{lang}",
        lang=lang,
    )
