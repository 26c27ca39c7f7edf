"""The command-hall wall (/wall?key=…): read-only, live, readable from 5 m on 1920x1080.

Panels: the reporter map with open task pins, stories per stage, views per channel over the
last hour, open tasks; a header with the counters, the link state and the clock; a ticker
with the last event and each feed source's health (the traffic panel says when all of its
sources are stale). The router renders it from a snapshot; `wall_stream` keeps it live.
"""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, dcc, html

from dashboards import access, figures, i18n, ids, live, model, panels
from dashboards.model import LiveState
from dispatch.runtime import Runtime


def denied(lang: str) -> html.Div:
    """What a missing, unknown or revoked key gets: a clear message and no data."""
    return html.Div(html.Div([
        html.H1(i18n.t("wall_denied", lang)),
        html.P(i18n.t("wall_denied_hint", lang)),
    ], className="nr-message"), id=ids.WALL_DENIED, className="nr-wall nr-denied")


def layout(key: str, lang: str, state: LiveState, now: int) -> html.Div:
    """The wall, filled from `state`; the stream takes over from here."""
    kpis = [
        panels.kpi(ids.WALL_ON_DUTY, i18n.t("kpi_on_duty", lang), state.on_duty, "nr-kpi-green"),
        panels.kpi(ids.WALL_REPORTER_COUNT, i18n.t("kpi_on_map", lang), state.on_map),
        panels.kpi(ids.WALL_OPEN_TASKS_COUNT, i18n.t("kpi_open_tasks", lang), len(state.tasks),
                   "nr-kpi-amber"),
        panels.kpi(ids.WALL_EVENT_RATE, i18n.t("kpi_rate", lang), model.event_rate(state, now)),
    ]
    status = [
        html.Div(i18n.clock(now), id=ids.WALL_CLOCK, className="nr-clock"),
        html.Div([html.Span(panels.link_status("connecting", lang), id=ids.WALL_LINK,
                            className="nr-link"),
                  html.Span(i18n.t("last_update", lang), className="nr-muted"),
                  html.Span(i18n.clock(now), id=ids.WALL_LAST_UPDATE, className="nr-updated")],
                 className="nr-status-line"),
    ]
    header = panels.header(lang, i18n.t("wall_title", lang), kpis, status)
    stages = figures.stages_figure(model.stage_counts(state), lang)
    tasks = panels.task_list(model.task_rows(state, now), lang)
    grid = html.Main([
        panels.panel(i18n.t("panel_map", lang),
                     panels.graph(ids.WALL_MAP, figures.map_figure(state.reporters.values(),
                                                                   state.tasks.values(), lang)),
                     class_name="nr-area-map", extra=panels.legend(lang)),
        panels.panel(i18n.t("panel_stages", lang),
                     panels.graph(ids.WALL_STAGES, stages),
                     class_name="nr-area-stages"),
        panels.panel(i18n.t("panel_traffic", lang),
                     panels.graph(ids.WALL_TRAFFIC,
                                  figures.traffic_figure(state.traffic, state.traffic_end, lang)),
                     panels.stale_mark(ids.WALL_TRAFFIC_STALE, i18n.t("traffic_stale", lang),
                                       model.traffic_stale(state)),
                     class_name="nr-area-traffic"),
        panels.panel(i18n.t("panel_tasks", lang),
                     html.Div(tasks, id=ids.WALL_TASKS, className="nr-task-list"),
                     class_name="nr-area-tasks"),
    ], className="nr-grid")
    feeds = html.Div(panels.feed_chips(state.feeds, lang), id=ids.WALL_FEEDS, className="nr-feeds")
    ticker = panels.ticker(ids.WALL_LAST_EVENT, state.last_event, state.seen, lang, extra=feeds)
    hidden = [
        dcc.Store(id=ids.WALL_TICKET, data={"key": key, "lang": lang}),
        html.Div(id=ids.WALL_LIVE_SINK, hidden=True),
        html.Div("", id=ids.WALL_HEARTBEAT, className="nr-heartbeat", hidden=True),
    ]
    return html.Div([panels.stale_banner(ids.WALL_STALE, lang), header, grid, ticker, *hidden],
                    id=ids.WALL, className=f"nr-wall nr-lang-{lang}", lang=lang)


def render(state: LiveState, parts: set[str], full: bool, now: int, lang: str) -> live.Updates:
    """Props for the parts that changed: whole figures when `full`, Patch deltas otherwise."""
    out: dict[str, dict[str, Any]] = {}
    if model.MAP in parts:
        out.update(live.map_updates(state, full, lang, ids.WALL_MAP, ids.WALL_REPORTER_COUNT))
    if model.STAGES in parts:
        counts = model.stage_counts(state)
        out[ids.WALL_STAGES] = {"figure": figures.stages_figure(counts, lang) if full
                                else live.to_patch(figures.stages_arrays(counts))}
    if model.TRAFFIC in parts:
        out[ids.WALL_TRAFFIC] = {
            "figure": figures.traffic_figure(state.traffic, state.traffic_end, lang) if full
            else live.to_patch(figures.traffic_arrays(state.traffic, state.traffic_end))}
    if model.TASKS in parts:
        out[ids.WALL_TASKS] = {"children": panels.task_list(model.task_rows(state, now), lang)}
    if parts & {model.COUNTS, model.TASKS, model.REPORTERS}:
        out[ids.WALL_ON_DUTY] = {"children": str(state.on_duty)}
        out[ids.WALL_OPEN_TASKS_COUNT] = {"children": str(len(state.tasks))}
        out[ids.WALL_EVENT_RATE] = {"children": str(model.event_rate(state, now))}
    if model.EVENT in parts:
        text = panels.last_event_text(state.last_event, state.seen, lang)
        out[ids.WALL_LAST_EVENT] = {"children": text}
    if model.FEEDS in parts:
        out[ids.WALL_FEEDS] = {"children": panels.feed_chips(state.feeds, lang)}
        out[ids.WALL_TRAFFIC_STALE] = {"hidden": not model.traffic_stale(state)}
    return out


def register(app: Dash, runtime: Runtime) -> None:
    """Register the wall's streaming callback on `app`."""

    @app.callback(Output(ids.WALL_LIVE_SINK, "children"), Input(ids.WALL_TICKET, "data"),
                  websocket=True, persistent=True)
    async def wall_stream(ticket: dict[str, Any] | None) -> str:
        if not isinstance(ticket, dict):
            return ""
        key = ticket.get("key") if isinstance(ticket.get("key"), str) else None
        lang = i18n.pick_lang(ticket.get("lang"), runtime.settings.lang)

        async def authorize() -> bool:
            return await access.wall_principal(runtime, key) is not None

        page = live.Page(
            lang=lang, heartbeat_id=ids.WALL_HEARTBEAT, link_id=ids.WALL_LINK,
            updated_id=ids.WALL_LAST_UPDATE, authorize=authorize,
            render=lambda state, parts, full, now: render(state, parts, full, now, lang),
            denied=lambda: {ids.PAGE: {"children": denied(lang)}})
        return await live.stream(runtime, page)
