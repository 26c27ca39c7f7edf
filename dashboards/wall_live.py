"""The wall kept live: one streaming callback per screen (`wall_stream`) joins the process's
live hub with its look (`Look.key`: walls that look alike share one render); `render` turns
what changed into props (whole figures on a full redraw, Patch deltas otherwise) and
`beat_refresher` what the clock moves (stuck stories, fading dots; the hub re-reads the top
stories). A clientside callback measures the screen's scale first. The map's markers go to
their canvas's data-markers (assets/map_overlay.js draws them). Only the panels on that wall
are updated.
"""

from __future__ import annotations

import asyncio
from typing import Any

from dash import Dash, Input, Output

from dashboards import (
    access,
    figures,
    fragments,
    i18n,
    ids,
    live,
    model,
    panels,
    wall_panels,
)
from dashboards.batching import Updates
from dashboards.live_hub import Hub
from dashboards.model import LiveState
from dashboards.wall import Look, denied, map_tiles
from dashboards.wall_options import PANELS
from dashboards.wall_schedule import load as load_schedule
from dispatch.runtime import Runtime

FADE_EVERY_S = 20.0  # redraw the map this often so old fixes fade
# The screen's scale against the 1920×1080 design (the CSS uses the same rule for its fonts).
SCALE_JS = """function (seed) {
  if (!seed) { return window.dash_clientside.no_update; }
  var s = Math.min(window.innerWidth / 1920, window.innerHeight / 1080);
  s = Math.max(0.5, Math.min(4, s));
  return Object.assign({}, seed, {scale: Math.round(s * 100) / 100});
}"""


def render(state: LiveState, parts: set[str], full: bool, now: int, look: Look) -> Updates:
    """Props for the parts that changed: whole figures when `full`, Patch deltas otherwise.
    Only the panels on this wall are updated."""
    lang, shown, scale = look.lang, look.panels, look.scale
    out: dict[str, dict[str, Any]] = {}
    if model.MAP in parts:
        if "map" in shown:
            if full:  # the base map: drawn once, the markers go over it (maps.overlay_markers)
                out[ids.WALL_MAP] = {"figure": look.base_map()}
            out[ids.WALL_MAP_OVERLAY] = {"data-markers": look.markers(state, now)}
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
        out[ids.WALL_TASKS] = fragments.fragment(wall_panels.open_tasks(state, now, lang))
    if model.TOP in parts and "top" in shown:
        out[ids.WALL_TOP] = fragments.fragment(wall_panels.top_list(state.top, state.titles, lang))
    if model.ALERTS in parts and "alerts" in shown:
        out[ids.WALL_ALERTS] = fragments.fragment(wall_panels.alert_list(state.alerts, lang))
    if parts & {model.COUNTS, model.TASKS, model.REPORTERS}:
        out[ids.WALL_ON_DUTY] = {"children": str(state.on_duty)}
        out[ids.WALL_OPEN_TASKS_COUNT] = {"children": str(len(state.tasks))}
        out[ids.WALL_EVENT_RATE] = {"children": str(model.event_rate(state, now))}
    if model.EVENT in parts:
        text = panels.last_event_text(state.last_event, state.seen, lang)
        out[ids.WALL_LAST_EVENT] = {"children": text}
    if model.FEEDS in parts:
        out[ids.WALL_FEEDS] = fragments.fragment(panels.feed_chips(state.feeds, lang))
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


def beat_refresher(look: Look) -> live.Beat:
    """The wall's clock-driven refreshes for one look, for live.Page.on_beat (the hub runs it
    once per tick per look): stuck stories (against what this look last showed) and the map's
    fading dots."""
    loop = asyncio.get_running_loop()
    last: dict[str, Any] = {"fade": loop.time(), "stuck": []}

    async def on_beat(state: LiveState, stamp: int) -> set[str]:
        parts: set[str] = set()
        stuck = model.stuck_counts(state, stamp, look.stage_limits)
        if stuck != last["stuck"]:
            last["stuck"] = stuck
            parts.add(model.STAGES)
        if "map" in look.panels and loop.time() >= last["fade"] + FADE_EVERY_S:
            last["fade"] = loop.time()
            parts.add(model.MAP)
        return parts

    return on_beat


def register(app: Dash, runtime: Runtime, hub: Hub | None = None) -> None:
    """Register the wall's callbacks on `app`: the screen's scale (clientside) and the stream,
    fed by `hub` (the process's, shared with the desk; by default one of its own)."""
    hub = hub or Hub(runtime)
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
            key=("wall", look.key),
            updated_id=ids.WALL_LAST_UPDATE,
            authorize=authorize,
            extras="top" in look.panels,
            on_beat=beat_refresher(look),
            render=lambda state, parts, full, now: render(state, parts, full, now, look),
            denied=lambda: {ids.PAGE: {"children": denied(look.lang)}},
        )
        return await live.stream(hub, page)
