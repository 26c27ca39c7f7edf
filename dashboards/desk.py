"""The duty desk (/desk): supervisors log in, create a task, see who is nearest, dispatch.

Every action re-checks the session on the server (the HttpOnly cookie, read in each HTTP
callback); the live view is admitted by a view ticket (see access.py). Login and logout are
plain form POSTs handled by the composition root (/desk/login, /desk/logout).
"""

from __future__ import annotations

import contextlib
import math
import secrets
from typing import Any

from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
from redis.exceptions import RedisError

from dashboards import access, figures, i18n, ids, live, model, panels, timeline
from dashboards.model import LiveState
from dispatch import auth, reporters, tasks
from dispatch.auth import Principal
from dispatch.clock import now_ms
from dispatch.errors import Forbidden, NewsroomError, Unauthorized
from dispatch.runtime import Runtime

DESK_FORM_KEY = "desk-form-key"  # dcc.Store: the Idempotency-Key of the form's next dispatch
SUGGESTIONS = 5


def _new_form_key() -> str:
    return "desk-" + secrets.token_urlsafe(16)


def login(lang: str, error: bool) -> html.Div:
    """The login form; it posts the token to /desk/login, which sets the session cookie."""
    form = html.Form([
        html.H1(i18n.t("login_title", lang)),
        html.Label(i18n.t("login_token", lang), htmlFor="desk-token"),
        dcc.Input(id="desk-token", name="token", type="password", autoComplete="off",
                   required=True, className="nr-input"),
        dcc.Input(type="hidden", name="lang", value=lang),
        html.Button(i18n.t("login_submit", lang), type="submit", className="nr-button nr-primary"),
        html.P(i18n.t("login_error", lang), id=ids.DESK_LOGIN_ERROR, className="nr-error")
        if error else None,
        html.P(i18n.t("login_hint", lang), className="nr-muted"),
    ], id=ids.DESK_LOGIN, action="/desk/login", method="POST", className="nr-login")
    return html.Div(form, className="nr-desk nr-login-page")


def ended(lang: str) -> html.Div:
    """Shown in place of the desk when the session ends while it is open."""
    return html.Div(html.Div([
        html.H1(i18n.t("session_ended", lang)),
        html.A(i18n.t("login_submit", lang), href="/desk", className="nr-button nr-primary"),
    ], className="nr-message"), id=ids.DESK_SESSION_ENDED, className="nr-desk")


def _task_form(lang: str) -> html.Section:
    lat, lon = figures.CENTRE
    priorities = [{"label": i18n.label("priority", p, lang), "value": p}
                  for p in ("normal", "high", "breaking")]

    def field(key: str, control: Any) -> html.Div:
        return html.Div([html.Label(i18n.t(key, lang), className="nr-field-label"), control],
                        className="nr-field")

    return panels.panel(i18n.t("new_task", lang), html.Div([
        field("f_title", dcc.Input(id=ids.DESK_TITLE, type="text", maxLength=200, value="",
                                   className="nr-input", debounce=False)),
        field("f_brief", dcc.Textarea(id=ids.DESK_BRIEF, maxLength=4000, value="",
                                      className="nr-input nr-textarea")),
        field("f_priority", dcc.RadioItems(id=ids.DESK_PRIORITY, options=priorities, value="normal",
                                           inline=True, className="nr-radio")),
        html.Div([
            field("f_lat", dcc.Input(id=ids.DESK_LAT, type="number", value=lat, min=-90, max=90,
                                     step="any", className="nr-input")),
            field("f_lon", dcc.Input(id=ids.DESK_LON, type="number", value=lon, min=-180, max=180,
                                     step="any", className="nr-input")),
        ], className="nr-field-row"),
        html.Button(i18n.t("suggest", lang), id=ids.DESK_SUGGEST, n_clicks=0,
                    className="nr-button"),
        html.Div(id=ids.DESK_SUGGESTIONS, className="nr-suggestions"),
        field("f_assignee", dcc.Dropdown(
            id=ids.DESK_ASSIGNEE, options=[{"label": i18n.t("assign_later", lang), "value": ""}],
            value="", clearable=False, searchable=False, className="nr-dropdown")),
        html.Button(i18n.t("dispatch", lang), id=ids.DESK_DISPATCH, n_clicks=0,
                    className="nr-button nr-primary nr-dispatch"),
        html.Div(id=ids.DESK_RESULT, className="nr-result", role="status"),
        dcc.Store(id=DESK_FORM_KEY, data=_new_form_key()),
    ], className="nr-form"), class_name="nr-area-form")


def layout(principal: Principal, ticket: str, lang: str, state: LiveState, now: int) -> html.Div:
    """The desk for a logged-in supervisor, filled from `state`."""
    kpis = [
        panels.kpi(ids.DESK_ON_DUTY, i18n.t("kpi_on_duty", lang), state.on_duty, "nr-kpi-green"),
        panels.kpi(ids.DESK_REPORTER_COUNT, i18n.t("kpi_on_map", lang), state.on_map),
        panels.kpi(ids.DESK_OPEN_TASKS_COUNT, i18n.t("kpi_open_tasks", lang), len(state.tasks),
                   "nr-kpi-amber"),
    ]
    role = i18n.label("role", principal.role, lang)
    status = [
        html.Span(panels.link_status("connecting", lang), id=ids.DESK_LINK, className="nr-link"),
        html.Span([i18n.t("logged_in_as", lang), ": ", html.B(principal.subject), f" · {role}"],
                  id=ids.DESK_USER, className="nr-user"),
        html.Form(html.Button(i18n.t("logout", lang), type="submit", className="nr-button"),
                  id=ids.DESK_LOGOUT, action="/desk/logout", method="POST"),
    ]
    header = panels.header(lang, i18n.t("desk_title", lang), kpis, status,
                           "nr-status nr-desk-status")
    task_rows = panels.task_list(model.task_rows(state, now), lang, pick=timeline.row_id)
    reporter_rows = panels.reporter_table(model.reporter_rows(state, now), lang)
    grid = html.Main([
        _task_form(lang),
        panels.panel(i18n.t("panel_map", lang),
                     panels.graph(ids.DESK_MAP, figures.map_figure(state.reporters.values(),
                                                                   state.tasks.values(), lang),
                                  interactive=True),
                     class_name="nr-area-map", extra=panels.legend(lang)),
        panels.panel(i18n.t("panel_tasks", lang),
                     html.Div(task_rows, id=ids.DESK_TASKS, className="nr-task-list"),
                     class_name="nr-area-tasks"),
        panels.panel(i18n.t("panel_reporters", lang),
                     html.Div(reporter_rows, id=ids.DESK_REPORTERS),
                     class_name="nr-area-reporters"),
        timeline.panel(lang, state),
    ], className="nr-grid nr-desk-grid")
    ticker = panels.ticker(ids.DESK_LAST_EVENT, state.last_event, state.seen, lang)
    hidden = [dcc.Store(id=ids.DESK_TICKET, data={"ticket": ticket, "lang": lang}),
              html.Div(id=ids.DESK_LIVE_SINK, hidden=True),
              html.Div("", id=ids.DESK_HEARTBEAT, className="nr-heartbeat", hidden=True)]
    return html.Div([panels.stale_banner(ids.DESK_STALE, lang), header, grid, ticker, *hidden],
                    id=ids.DESK, className=f"nr-desk nr-lang-{lang}", lang=lang)


def render(state: LiveState, parts: set[str], full: bool, now: int, lang: str) -> live.Updates:
    """Props for the parts of the desk that changed (see wall.render)."""
    out: dict[str, dict[str, Any]] = {}
    if model.MAP in parts:
        out.update(live.map_updates(state, full, lang, ids.DESK_MAP, ids.DESK_REPORTER_COUNT))
    if model.TASKS in parts:
        rows = panels.task_list(model.task_rows(state, now), lang, pick=timeline.row_id)
        out[ids.DESK_TASKS] = {"children": rows}
        out[ids.DESK_TASK_VERSIONS] = {"data": timeline.versions(state)}  # refreshes the timeline
    if model.REPORTERS in parts:
        rows = model.reporter_rows(state, now)
        out[ids.DESK_REPORTERS] = {"children": panels.reporter_table(rows, lang)}
    if parts & {model.COUNTS, model.TASKS, model.REPORTERS}:
        out[ids.DESK_ON_DUTY] = {"children": str(state.on_duty)}
        out[ids.DESK_OPEN_TASKS_COUNT] = {"children": str(len(state.tasks))}
    if model.EVENT in parts:
        text = panels.last_event_text(state.last_event, state.seen, lang)
        out[ids.DESK_LAST_EVENT] = {"children": text}
    return out


def _lang(ticket: Any, default: str) -> str:
    return i18n.pick_lang(ticket.get("lang") if isinstance(ticket, dict) else None, default)


def _why(rep: dict[str, Any], now: int, lang: str) -> str:
    """Why a reporter ranks where they do (reporters.nearest's reason, in the page's language)."""
    fix_age = i18n.age(now - rep["fix_ts"], lang) if rep.get("fix_ts") else i18n.t("never", lang)
    return i18n.t("why", lang).format(d=rep["distance_km"], age=fix_age)


def _error(text: str) -> html.Div:
    return html.Div(text, className="nr-error")


def _coords(lat: Any, lon: Any) -> tuple[float, float] | None:
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat_f) and math.isfinite(lon_f)):
        return None
    if not (-90 <= lat_f <= 90 and -180 <= lon_f <= 180):
        return None
    return lat_f, lon_f


def register(app: Dash, runtime: Runtime) -> None:
    """Register the desk's callbacks (suggest, dispatch, timeline, live stream) on `app`."""
    async def session() -> Principal:
        # Every desk action re-reads the HttpOnly cookie and re-checks the session and role.
        return await access.desk_principal(runtime, ctx.cookies.get(auth.SESSION_COOKIE))

    timeline.register(app, runtime, session, lambda ticket: _lang(ticket, runtime.settings.lang))

    @app.callback(Output(ids.DESK_SUGGESTIONS, "children"), Output(ids.DESK_ASSIGNEE, "options"),
                  Output(ids.DESK_ASSIGNEE, "value"),
                  Input(ids.DESK_SUGGEST, "n_clicks"), State(ids.DESK_LAT, "value"),
                  State(ids.DESK_LON, "value"), State(ids.DESK_TICKET, "data"),
                  prevent_initial_call=True)
    async def suggest(_clicks: int, lat: Any, lon: Any, ticket: Any) -> tuple[Any, Any, Any]:
        lang = _lang(ticket, runtime.settings.lang)
        try:
            await session()
        except (Unauthorized, Forbidden):
            return _error(i18n.t("session_ended", lang)), no_update, no_update
        point = _coords(lat, lon)
        if point is None:
            return _error(i18n.t("need_coords", lang)), no_update, no_update
        ranked = await reporters.nearest(runtime.redis, runtime.keys, *point, limit=SUGGESTIONS)
        options = [{"label": i18n.t("assign_later", lang), "value": ""}]
        options += [{"label": f"{rep['name']} · {i18n.t('km', lang).format(d=rep['distance_km'])}",
                     "value": rep["reporter_id"]} for rep in ranked]
        if not ranked:
            return html.Div(i18n.t("no_suggestions", lang), className="nr-muted"), options, ""
        now = now_ms()
        items = [html.Li([html.B(rep["name"]),
                          html.Span(i18n.t("km", lang).format(d=rep["distance_km"]),
                                    className="nr-km"),
                          html.Div(_why(rep, now, lang), className="nr-muted nr-why")],
                         **{"data-reporter-id": rep["reporter_id"]}) for rep in ranked]
        return html.Ol(items), options, ranked[0]["reporter_id"]

    @app.callback(Output(ids.DESK_RESULT, "children"), Output(DESK_FORM_KEY, "data"),
                  Output(ids.DESK_TITLE, "value"), Output(ids.DESK_BRIEF, "value"),
                  Input(ids.DESK_DISPATCH, "n_clicks"),
                  State(ids.DESK_TITLE, "value"), State(ids.DESK_BRIEF, "value"),
                  State(ids.DESK_PRIORITY, "value"), State(ids.DESK_LAT, "value"),
                  State(ids.DESK_LON, "value"), State(ids.DESK_ASSIGNEE, "value"),
                  State(DESK_FORM_KEY, "data"), State(ids.DESK_TICKET, "data"),
                  prevent_initial_call=True)
    async def dispatch_task(_clicks: int, title: Any, brief: Any, priority: Any, lat: Any, lon: Any,
                       assignee: Any, form_key: Any, ticket: Any) -> tuple[Any, Any, Any, Any]:
        lang = _lang(ticket, runtime.settings.lang)
        keep = (no_update, no_update, no_update)
        try:
            principal = await session()
        except (Unauthorized, Forbidden):
            return (_error(i18n.t("session_ended", lang)), *keep)
        if not isinstance(title, str) or not title.strip():
            return (_error(i18n.t("need_title", lang)), *keep)
        point = _coords(lat, lon)
        if point is None:
            return (_error(i18n.t("need_coords", lang)), *keep)
        try:
            task, _created = await tasks.create(
                runtime.redis, runtime.keys, principal, title=title.strip(),
                brief=brief if isinstance(brief, str) else "", lat=point[0], lon=point[1],
                priority=priority if isinstance(priority, str) else "normal",
                assignee=assignee if isinstance(assignee, str) and assignee else None,
                idempotency_key=form_key if isinstance(form_key, str) else None,
                ack_timeouts=runtime.settings.ack_timeouts)
        except NewsroomError as exc:
            return (_error(f"{i18n.t('error', lang)}: {exc.text}"), *keep)
        text = i18n.t("dispatched", lang).format(task_id=task["task_id"],
                                                 state=i18n.label("state", task["state"], lang))
        result = html.Div(text, className="nr-ok", **{"data-task-id": task["task_id"],
                                                       "data-state": task["state"]})
        return result, _new_form_key(), "", ""

    @app.callback(Output(ids.DESK_LIVE_SINK, "children"), Input(ids.DESK_TICKET, "data"),
                  websocket=True, persistent=True)
    async def desk_stream(data: Any) -> str:
        if not isinstance(data, dict):
            return ""
        ticket = data.get("ticket") if isinstance(data.get("ticket"), str) else None
        lang = _lang(data, runtime.settings.lang)

        async def authorize() -> bool:
            try:
                await access.redeem_ticket(runtime, ticket)
            except (Unauthorized, Forbidden):
                return False
            return True

        page = live.Page(
            lang=lang, heartbeat_id=ids.DESK_HEARTBEAT, link_id=ids.DESK_LINK, authorize=authorize,
            render=lambda state, parts, full, now: render(state, parts, full, now, lang),
            denied=lambda: {ids.PAGE: {"children": ended(lang)}})
        try:
            return await live.stream(runtime, page)
        finally:
            with contextlib.suppress(RedisError, OSError):
                await access.drop_ticket(runtime, ticket)
