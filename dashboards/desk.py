"""The duty desk (/desk): supervisors log in, create a task (a click on the map, typed
coordinates or a place name), see who is nearest and why, dispatch in one click, follow the
task to its story and that story's audience, act on alerts, and review afterwards.

Every action re-checks the session on the server (the HttpOnly cookie, read in each HTTP
callback) and the service it calls re-checks the role; the live view is admitted by a view
ticket (see access.py). Login and logout are plain form POSTs handled by the composition root
(/desk/login, /desk/logout).

    desk.py          layout, the stream's renderer, login and ended pages, registration
    desk_form.py     the task form: suggestions, dispatch (linked to a story for a follow-up)
    desk_place.py    the form's place: map click and pin, coordinates, the gazetteer
    desk_followup.py the follow-up task a story alert asks for, pre-filled
    desk_actions.py  reassign / cancel / link story on the shown task; its story's audience
    desk_alerts.py   alerts with acknowledgements
    desk_stories.py  the story table with its filters
    desk_review.py   the after-action review chart, CSV and PNG
    desk_live.py     the stream's extra nudges for the lists above, and how they re-read
    desk_views.py, desk_lists.py, desk_figures.py   pure components and figures;
    desk_data.py     reads, link
    timeline.py      the task timeline
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from dash import Dash, Input, Output, ctx, dcc, html
from redis.exceptions import RedisError

from dashboards import (
    access,
    desk_actions,
    desk_alerts,
    desk_figures,
    desk_followup,
    desk_form,
    desk_live,
    desk_place,
    desk_review,
    desk_stories,
    desk_views,
    i18n,
    ids,
    live,
    live_hub,
    maps,
    model,
    panels,
    timeline,
)
from dashboards.batching import Updates
from dashboards.model import LiveState
from dispatch import auth
from dispatch.auth import Principal
from dispatch.errors import Forbidden, Unauthorized
from dispatch.runtime import Runtime

DESK_FORM_KEY = desk_form.DESK_FORM_KEY


def login(lang: str, error: bool) -> html.Div:
    """The login form; it posts the token to /desk/login, which sets the session cookie."""
    form = html.Form(
        [
            html.H1(i18n.t("login_title", lang)),
            html.Label(i18n.t("login_token", lang), htmlFor="desk-token"),
            dcc.Input(
                id="desk-token",
                name="token",
                type="password",
                autoComplete="off",
                required=True,
                className="nr-input",
            ),
            dcc.Input(type="hidden", name="lang", value=lang),
            html.Button(
                i18n.t("login_submit", lang), type="submit", className="nr-button nr-primary"
            ),
            html.P(i18n.t("login_error", lang), id=ids.DESK_LOGIN_ERROR, className="nr-error")
            if error
            else None,
            html.P(i18n.t("login_hint", lang), className="nr-muted"),
        ],
        id=ids.DESK_LOGIN,
        action="/desk/login",
        method="POST",
        className="nr-login",
    )
    return html.Div(form, className="nr-desk nr-login-page")


def ended(lang: str) -> html.Div:
    """Shown in place of the desk when the session ends while it is open."""
    return html.Div(
        html.Div(
            [
                html.H1(i18n.t("session_ended", lang)),
                html.A(
                    i18n.t("login_submit", lang), href="/desk", className="nr-button nr-primary"
                ),
            ],
            className="nr-message",
        ),
        id=ids.DESK_SESSION_ENDED,
        className="nr-desk",
    )


def map_figure(
    state: LiveState, lang: str, now: int | None = None, tiles: str | None = None
) -> Any:
    """The wall's map with the desk's pin (the new task's place) as its last trace."""
    reps, open_tasks = state.reporters.values(), state.tasks.values()
    return desk_figures.with_pin(
        maps.map_figure(reps, open_tasks, lang, now=now, tiles=tiles), None
    )


def pin_index() -> int:
    """The pin's trace index: the map's trace count, whatever the map draws."""
    return len(maps.map_figure([], [], "en").data)


def layout(
    principal: Principal,
    ticket: str,
    lang: str,
    state: LiveState,
    now: int,
    tiles: str | None = None,
) -> html.Div:
    """The desk for a logged-in supervisor, filled from `state`; `tiles` is the optional map
    tile URL (NEWSROOM_MAP_TILES; the stream's first full map brings it too)."""
    kpis = [
        panels.kpi(ids.DESK_ON_DUTY, i18n.t("kpi_on_duty", lang), state.on_duty, "nr-kpi-green"),
        panels.kpi(ids.DESK_REPORTER_COUNT, i18n.t("kpi_on_map", lang), state.on_map),
        panels.kpi(
            ids.DESK_OPEN_TASKS_COUNT,
            i18n.t("kpi_open_tasks", lang),
            len(state.tasks),
            "nr-kpi-amber",
        ),
    ]
    role = i18n.label("role", principal.role, lang)
    status = [
        html.Span(panels.link_status("connecting", lang), id=ids.DESK_LINK, className="nr-link"),
        html.Span(
            [i18n.t("logged_in_as", lang), ": ", html.B(principal.subject), f" · {role}"],
            id=ids.DESK_USER,
            className="nr-user",
        ),
        html.Form(
            html.Button(i18n.t("logout", lang), type="submit", className="nr-button"),
            id=ids.DESK_LOGOUT,
            action="/desk/logout",
            method="POST",
        ),
    ]
    header = panels.header(
        lang, i18n.t("desk_title", lang), kpis, status, "nr-status nr-desk-status"
    )
    task_rows = panels.task_list(model.task_rows(state, now), lang, pick=timeline.row_id)
    roster = desk_views.roster(model.reporter_rows(state, now), state.tasks.values(), lang)
    grid = html.Main(
        [
            desk_form.layout(lang),
            panels.panel(
                i18n.t("panel_map", lang),
                panels.graph(ids.DESK_MAP, map_figure(state, lang, now, tiles), interactive=True),
                class_name="nr-area-map",
                extra=panels.legend(lang),
            ),
            desk_alerts.panel(lang),
            panels.panel(
                i18n.t("panel_tasks", lang),
                html.Div(task_rows, id=ids.DESK_TASKS, className="nr-task-list"),
                class_name="nr-area-tasks",
            ),
            timeline.panel(
                lang, state, before=desk_actions.toolbar(lang), after=desk_actions.story_panel(lang)
            ),
            panels.panel(
                i18n.t("panel_reporters", lang),
                html.Div(roster, id=ids.DESK_REPORTERS),
                class_name="nr-area-reporters",
            ),
            desk_stories.panel(lang),
            desk_review.panel(lang),
        ],
        className="nr-grid nr-desk-grid",
    )
    ticker = panels.ticker(ids.DESK_LAST_EVENT, state.last_event, state.seen, lang)
    hidden = [
        dcc.Store(id=ids.DESK_TICKET, data={"ticket": ticket, "lang": lang}),
        html.Div(id=ids.DESK_LIVE_SINK, hidden=True),
        html.Div("", id=ids.DESK_HEARTBEAT, className="nr-heartbeat", hidden=True),
    ]
    return html.Div(
        [panels.stale_banner(ids.DESK_STALE, lang), header, grid, ticker, *hidden],
        id=ids.DESK,
        className=f"nr-desk nr-lang-{lang}",
        lang=lang,
    )


def render(
    state: LiveState, parts: set[str], full: bool, now: int, lang: str, tiles: str | None = None
) -> Updates:
    """Props for the parts of the desk that changed (see wall_live.render)."""
    out: dict[str, dict[str, Any]] = {}
    if model.MAP in parts:
        updates = live.map_updates(
            state, full, lang, ids.DESK_MAP, ids.DESK_REPORTER_COUNT, now=now, tiles=tiles
        )
        if full:  # a whole map comes with an empty pin; the browser puts the form's point back
            updates[ids.DESK_MAP]["figure"] = desk_figures.with_pin(
                updates[ids.DESK_MAP]["figure"], None
            )
        out.update(updates)
    if model.TASKS in parts:
        rows = panels.task_list(model.task_rows(state, now), lang, pick=timeline.row_id)
        out[ids.DESK_TASKS] = {"children": rows}
        out[ids.DESK_TASK_VERSIONS] = {"data": timeline.versions(state)}  # refreshes the timeline
    if parts & {model.REPORTERS, model.TASKS}:
        rows = model.reporter_rows(state, now)
        out[ids.DESK_REPORTERS] = {"children": desk_views.roster(rows, state.tasks.values(), lang)}
    if parts & {model.COUNTS, model.TASKS, model.REPORTERS}:
        out[ids.DESK_ON_DUTY] = {"children": str(state.on_duty)}
        out[ids.DESK_OPEN_TASKS_COUNT] = {"children": str(len(state.tasks))}
    if model.EVENT in parts:
        text = panels.last_event_text(state.last_event, state.seen, lang)
        out[ids.DESK_LAST_EVENT] = {"children": text}
    return out


def lang_of(ticket: Any, default: str) -> str:
    return i18n.pick_lang(ticket.get("lang") if isinstance(ticket, dict) else None, default)


def register(app: Dash, runtime: Runtime, hub: live_hub.Hub | None = None) -> None:
    """Register every desk callback on `app` (the form, actions, alerts, stories, review,
    timeline and the live stream, fed by `hub`: the process's, shared with the wall; by
    default one of its own)."""
    shared = hub or live_hub.Hub(runtime)

    async def session() -> Principal:
        # Every desk action re-reads the HttpOnly cookie and re-checks the session and role.
        return await access.desk_principal(runtime, ctx.cookies.get(auth.SESSION_COOKIE))

    def page_lang(ticket: Any) -> str:
        return lang_of(ticket, runtime.settings.lang)

    timeline.register(app, runtime, session, page_lang)
    desk_place.register(app, runtime, session, page_lang, pin_index())
    desk_form.register(app, runtime, session, page_lang)
    desk_followup.register(app, runtime, session, page_lang)
    desk_actions.register(app, runtime, session, page_lang)
    desk_alerts.register(app, runtime, session, page_lang)
    desk_stories.register(app, runtime, session, page_lang)
    desk_review.register(app, runtime, session, page_lang)

    @app.callback(
        Output(ids.DESK_LIVE_SINK, "children"),
        Input(ids.DESK_TICKET, "data"),
        websocket=True,
        persistent=True,
    )
    async def desk_stream(data: Any) -> str:
        if not isinstance(data, dict):
            return ""
        ticket = data.get("ticket") if isinstance(data.get("ticket"), str) else None
        lang = page_lang(data)

        async def authorize() -> bool:
            try:
                await access.redeem_ticket(runtime, ticket)
            except (Unauthorized, Forbidden):
                return False
            return True

        page = live.Page(
            lang=lang,
            heartbeat_id=ids.DESK_HEARTBEAT,
            link_id=ids.DESK_LINK,
            key=("desk", lang, runtime.settings.map_tiles),
            authorize=authorize,
            render=lambda state, parts, full, now: render(
                state, parts, full, now, lang, runtime.settings.map_tiles
            ),
            denied=lambda: {ids.PAGE: {"children": ended(lang)}},
        )
        watcher = asyncio.create_task(desk_live.watch(runtime), name="desk-lists")
        try:
            return await live.stream(shared, page)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                await watcher
            with contextlib.suppress(RedisError, OSError):
                await access.drop_ticket(runtime, ticket)
