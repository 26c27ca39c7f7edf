"""The command-hall wall (/wall?key=…): read-only, live, readable from 5 m at 1920×1080 and 4K.

Panels (any subset, in any order, or rotating views: see wall_options): the reporter map
(reporters by state, fading with the age of their fix; task pins by priority; the county's
boundary and roads), the story pipeline with stuck stories, traffic per channel with reach
apart, top stories with sparklines, open tasks against their deadlines, the channel deadline
board, recent alerts. A header with the counters, the link state and the clock; a ticker with
the last event and each feed source's health. The router renders it from a snapshot;
`wall_stream` keeps it live with Patch deltas. The wall registers no callback that writes:
one streaming callback and one clientside callback (the screen's scale).
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass
from typing import Any

from dash import Dash, Input, Output, dcc, html

from dashboards import access, figures, i18n, ids, live, model, panels, wall_panels
from dashboards.model import LiveState
from dashboards.wall_options import PANELS, Options, View
from dashboards.wall_options import parse as parse_options
from dashboards.wall_schedule import DEFAULT, Schedule
from dashboards.wall_schedule import load as load_schedule
from dispatch.runtime import Runtime

TASK_ROWS = 20  # more would not fit; the DOM stays bounded
TOP_EVERY_S = 4.0  # re-read the top stories at most this often while traffic comes in
TOP_MAX_AGE_S = 30.0  # ... and at least this often (the window moves with the clock)
FADE_EVERY_S = 20.0  # redraw the map this often so old fixes fade
# The screen's scale against the 1920×1080 design (the CSS uses the same rule for its fonts).
SCALE_JS = """function (seed) {
  if (!seed) { return window.dash_clientside.no_update; }
  var s = Math.min(window.innerWidth / 1920, window.innerHeight / 1080);
  s = Math.max(0.5, Math.min(4, s));
  return Object.assign({}, seed, {scale: Math.round(s * 100) / 100});
}"""


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
        return figures.COUNTY_ZOOM + math.log2(self.scale)

    @property
    def stage_limits(self) -> dict[str, float]:
        return self.limits if self.limits is not None else DEFAULT.stage_limits_min


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
    counts, stuck = model.stage_counts(state), model.stuck_counts(state, now, look.stage_limits)
    tasks = panels.task_list(model.task_rows(state, now, TASK_ROWS), lang)
    return {
        "map": (
            "panel_map",
            [
                panels.graph(
                    ids.WALL_MAP,
                    figures.map_figure(
                        state.reporters.values(),
                        state.tasks.values(),
                        lang,
                        zoom=look.zoom,
                        now=now,
                        scale=scale,
                        tiles=look.tiles,
                    ),
                )
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
                    wall_panels.top_list(state.top, state.titles, lang),
                    id=ids.WALL_TOP,
                    className="nr-list nr-top",
                )
            ],
            None,
        ),
        "tasks": (
            "panel_tasks",
            [html.Div(tasks, id=ids.WALL_TASKS, className="nr-task-list")],
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
                    wall_panels.alert_list(state.alerts, lang),
                    id=ids.WALL_ALERTS,
                    className="nr-list nr-alerts",
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
    feeds = html.Div(panels.feed_chips(state.feeds, lang), id=ids.WALL_FEEDS, className="nr-feeds")
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


def render(state: LiveState, parts: set[str], full: bool, now: int, look: Look) -> live.Updates:
    """Props for the parts that changed: whole figures when `full`, Patch deltas otherwise.
    Only the panels on this wall are updated."""
    lang, shown, scale = look.lang, look.panels, look.scale
    out: dict[str, dict[str, Any]] = {}
    if model.MAP in parts:
        if "map" in shown:
            out.update(
                live.map_updates(
                    state,
                    full,
                    lang,
                    ids.WALL_MAP,
                    ids.WALL_REPORTER_COUNT,
                    now=now,
                    scale=scale,
                    tiles=look.tiles,
                    zoom=look.zoom,
                )
            )
        else:
            out[ids.WALL_REPORTER_COUNT] = {"children": str(state.on_map)}
    if model.STAGES in parts and "stages" in shown:
        counts = model.stage_counts(state)
        stuck = model.stuck_counts(state, now, look.stage_limits)
        out[ids.WALL_STAGES] = {
            "figure": figures.stages_figure(counts, lang, stuck, scale)
            if full
            else live.to_patch(figures.stages_arrays(counts, stuck, lang))
        }
        out[ids.WALL_STUCK] = {"children": wall_panels.stuck_badge(stuck, lang)}
    if model.TRAFFIC in parts and "traffic" in shown:
        out[ids.WALL_TRAFFIC] = {
            "figure": figures.traffic_figure(state.traffic, state.traffic_end, lang, scale)
            if full
            else live.to_patch(figures.traffic_arrays(state.traffic, state.traffic_end))
        }
    if model.TASKS in parts and "tasks" in shown:
        rows = model.task_rows(state, now, TASK_ROWS)
        out[ids.WALL_TASKS] = {"children": panels.task_list(rows, lang)}
    if model.TOP in parts and "top" in shown:
        out[ids.WALL_TOP] = {"children": wall_panels.top_list(state.top, state.titles, lang)}
    if model.ALERTS in parts and "alerts" in shown:
        out[ids.WALL_ALERTS] = {"children": wall_panels.alert_list(state.alerts, lang)}
    if parts & {model.COUNTS, model.TASKS, model.REPORTERS}:
        out[ids.WALL_ON_DUTY] = {"children": str(state.on_duty)}
        out[ids.WALL_OPEN_TASKS_COUNT] = {"children": str(len(state.tasks))}
        out[ids.WALL_EVENT_RATE] = {"children": str(model.event_rate(state, now))}
    if model.EVENT in parts:
        text = panels.last_event_text(state.last_event, state.seen, lang)
        out[ids.WALL_LAST_EVENT] = {"children": text}
    if model.FEEDS in parts:
        out[ids.WALL_FEEDS] = {"children": panels.feed_chips(state.feeds, lang)}
        if "traffic" in shown:
            out[ids.WALL_TRAFFIC_STALE] = {"hidden": not model.traffic_stale(state)}
    return out


def _look(runtime: Runtime, ticket: dict[str, Any]) -> Look:
    lang = i18n.pick_lang(ticket.get("lang"), runtime.settings.lang)
    wanted = ticket.get("panels")
    shown = frozenset(p for p in wanted if p in PANELS) if isinstance(wanted, list) else None
    scale = ticket.get("scale")
    if not isinstance(scale, int | float) or isinstance(scale, bool) or not 0.5 <= scale <= 4:
        scale = 1.0
    schedule = load_schedule(runtime.settings.data_dir)
    return Look(
        lang,
        shown or frozenset(PANELS),
        float(scale),
        map_tiles(runtime),
        schedule.stage_limits_min,
    )


def beat_refresher(runtime: Runtime, look: Look) -> Any:
    """The wall's clock-driven refreshes, for live.Page.on_beat (one per connection): stuck
    stories, the top stories (re-read while traffic comes in, and as the window moves) and
    the map's fading dots."""
    loop = asyncio.get_running_loop()
    last = {"top": loop.time(), "fade": loop.time()}

    async def on_beat(state: LiveState, stamp: int) -> set[str]:
        parts: set[str] = set()
        now = loop.time()
        stuck = model.stuck_counts(state, stamp, look.stage_limits)
        if stuck != state.stuck:
            state.stuck = stuck
            parts.add(model.STAGES)
        if "top" in look.panels and (
            (state.top_dirty and now >= last["top"] + TOP_EVERY_S)
            or now >= last["top"] + TOP_MAX_AGE_S
        ):
            last["top"] = now
            state.top_dirty = False
            state.top = await live.read_top(runtime, stamp)
            parts.add(model.TOP)
        if "map" in look.panels and now >= last["fade"] + FADE_EVERY_S:
            last["fade"] = now
            parts.add(model.MAP)
        return parts

    return on_beat


def register(app: Dash, runtime: Runtime) -> None:
    """Register the wall's callbacks on `app`: the screen's scale (clientside) and the stream."""
    app.clientside_callback(  # type: ignore[no-untyped-call]  # Dash leaves it unannotated
        SCALE_JS, Output(ids.WALL_TICKET, "data"), Input(ids.WALL_SEED, "data")
    )

    @app.callback(
        Output(ids.WALL_LIVE_SINK, "children"),
        Input(ids.WALL_TICKET, "data"),
        websocket=True,
        persistent=True,
    )
    async def wall_stream(ticket: dict[str, Any] | None) -> str:
        if not isinstance(ticket, dict):
            return ""
        key = ticket.get("key") if isinstance(ticket.get("key"), str) else None
        look = _look(runtime, ticket)

        async def authorize() -> bool:
            return await access.wall_principal(runtime, key) is not None

        page = live.Page(
            lang=look.lang,
            heartbeat_id=ids.WALL_HEARTBEAT,
            link_id=ids.WALL_LINK,
            updated_id=ids.WALL_LAST_UPDATE,
            authorize=authorize,
            extras=True,
            on_beat=beat_refresher(runtime, look),
            render=lambda state, parts, full, now: render(state, parts, full, now, look),
            denied=lambda: {ids.PAGE: {"children": denied(look.lang)}},
        )
        return await live.stream(runtime, page)
