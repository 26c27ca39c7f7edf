"""The Dash UI: the read-only live wall (/wall) and the supervisors' desk (/desk).

The composition root builds the Dash app (FastAPI backend, `websocket_inactivity_timeout=0`)
and calls `register(app, runtime)`, which sets the layout and registers every callback on
that app object (never the global `dash.callback`, whose websocket callbacks would not be
known to this app until it warms up). Dash Pages are not used: their built-in clientside
title callback fails on this backend, so `router.py` routes by itself.

    router.py   the shell layout and the page router (HTTP callback; reads the desk cookie)
    wall.py     the wall's layout (from a snapshot)
    wall_live.py      the wall's renderer, clock-driven refreshes and streaming callback
    wall_options.py   the wall's kiosk options (?panels, ?views, ?rotate) and panel placement
    wall_schedule.py  the deadline board's schedule (NEWSROOM_DATA_DIR/schedule.toml) and limits
    wall_panels.py    the wall's own components (top stories, alerts, deadline board, notice)
    desk.py     the desk's layout, login form and streaming callback
    desk_form.py      the task form: suggestions and one-click dispatch
    desk_place.py     the form's place: by map click, coordinates or gazetteer
    desk_followup.py  the follow-up task a story alert asks for, pre-filled
    desk_actions.py   reassign, cancel, link a story (expected_version; the server's reason)
    desk_alerts.py    the alert list with acknowledge and follow-up
    desk_stories.py   the story table (desk, stage, channel filters) and the roster
    desk_review.py    the after-action review (chart, CSV; PNG from the chart's modebar)
    desk_live.py, desk_views.py, desk_lists.py, desk_figures.py, desk_data.py   the desk's
                refresh, views, figures and reads; ids_desk.py and desk_strings.py its ids
                and strings
    timeline.py the desk's task timeline (pick a task, its transitions, refreshed by push)
    live.py     the streaming both pages share: a page's connection, its Page, the snapshot
    live_hub.py the shared half: one subscription, state and render per look per process
    batching.py batches of bus messages, encoded frames, set_props with memory
    model.py    the live state (one per process, in the hub) and how events change it (pure)
    figures.py  stages and traffic figures, the shared palette and layout (pure)
    maps.py     the reporter map (pure); the county's layers are assets/map/
    panels.py   shared components (task list, reporter table, KPIs, banners; pure)
    access.py   wall keys, desk sessions and the desk's view tickets
    i18n.py     every interface string, zh and en
    ids.py      every component id (and the session cookie's name)
"""

from __future__ import annotations

from dash import Dash

from dashboards import desk, router, wall_live
from dashboards.live_hub import Hub
from dispatch.runtime import Runtime


def register(app: Dash, runtime: Runtime) -> None:
    """Set `app.layout`, register the router, wall and desk callbacks on `app`, and warm it.
    The wall and the desk share one live hub: one state and one render per look."""
    hub = Hub(runtime)
    router.register(app, runtime)
    wall_live.register(app, runtime, hub)
    desk.register(app, runtime, hub)
    warm(app)


def warm(app: Dash) -> None:
    """Do Dash's first-request setup now (idempotent).

    With the FastAPI backend Dash runs that setup (which, among other things, finds the
    files in assets/) only before its own `/_dash-*` requests, not before the HTML page: the
    first page served after a start would come without the CSS and without the watchdog
    script, which is exactly the page a wall gets when it reloads after a server restart.
    Safe to call again from the composition root once everything is registered.
    """
    app._setup_server()  # type: ignore[no-untyped-call]  # no public way to warm it


__all__ = ["register"]
