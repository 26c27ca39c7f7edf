"""The desk's task form: where (a click on the map, typed coordinates or a place from the
gazetteer), who (the nearest free reporters, with why), and one-click dispatch; also the
follow-up task a story alert asks for, pre-filled and with its reporters already suggested.

Picking a place or a map point happens in the browser (clientside callbacks write the form's
latitude and longitude); the server is asked only for what needs Redis, and every such HTTP
callback re-checks the desk session first.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, cast

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from redis.exceptions import RedisError

from dashboards import desk_data, desk_views, figures, i18n, ids, ids_desk, panels
from dispatch import escalation, gazetteer, reporters, task_edits, tasks
from dispatch.auth import Principal
from dispatch.errors import Forbidden, NewsroomError, NotFound, Unauthorized
from dispatch.runtime import Runtime

DESK_FORM_KEY = "desk-form-key"  # dcc.Store: the Idempotency-Key of the form's next dispatch
SUGGESTIONS = 5
Session = Callable[[], Awaitable[Principal]]
LangOf = Callable[[Any], str]
ENDED = (Unauthorized, Forbidden)


def new_form_key() -> str:
    return "desk-" + secrets.token_urlsafe(16)


def error(text: str) -> html.Div:
    return html.Div(text, className="nr-error")


def coords(lat: Any, lon: Any) -> tuple[float, float] | None:
    """A valid point from the form's two fields, or None."""
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat_f) and math.isfinite(lon_f)):
        return None
    if not (-90 <= lat_f <= 90 and -180 <= lon_f <= 180):
        return None
    return lat_f, lon_f


def _field(key: str, control: Any, lang: str, extra: Any = None) -> html.Div:
    return html.Div(
        [
            html.Label(i18n.t(key, lang), className="nr-field-label"),
            control,
            *([extra] if extra is not None else []),
        ],
        className="nr-field",
    )


def layout(lang: str) -> html.Section:
    """The form, empty, at the county seat."""
    lat, lon = figures.CENTRE
    priorities = [
        {"label": i18n.label("priority", p, lang), "value": p}
        for p in ("normal", "high", "breaking")
    ]
    story = html.Div(
        [
            html.Span(i18n.t("dk_for_story", lang) + ": ", className="nr-muted"),
            html.B(id=ids_desk.DESK_FORM_STORY_CHIP),
            html.Button(
                i18n.t("dk_clear", lang),
                id=ids_desk.DESK_FORM_STORY_CLEAR,
                n_clicks=0,
                type="button",
                className="nr-button nr-small",
            ),
        ],
        id=ids_desk.DESK_FORM_STORY_BOX,
        className="nr-form-story",
        hidden=True,
    )
    place = html.Div(
        [
            dcc.Input(
                id=ids_desk.DESK_PLACE,
                type="text",
                value="",
                maxLength=80,
                debounce=False,
                autoComplete="off",
                placeholder=i18n.t("dk_place_hint", lang),
                className="nr-input",
            ),
            html.Div(id=ids_desk.DESK_PLACE_HITS, className="nr-place-hits"),
            html.Div(
                [
                    html.Div(id=ids_desk.DESK_PLACE_NOTE, className="nr-place-note"),
                    html.Button(
                        i18n.t("dk_place_save", lang),
                        id=ids_desk.DESK_PLACE_SAVE,
                        n_clicks=0,
                        type="button",
                        className="nr-button nr-small",
                    ),
                ],
                className="nr-place-foot",
            ),
        ],
        className="nr-place",
    )
    return panels.panel(
        i18n.t("new_task", lang),
        html.Div(
            [
                story,
                _field(
                    "f_title",
                    dcc.Input(
                        id=ids.DESK_TITLE,
                        type="text",
                        maxLength=200,
                        value="",
                        className="nr-input",
                        debounce=False,
                    ),
                    lang,
                ),
                _field(
                    "f_brief",
                    dcc.Textarea(
                        id=ids.DESK_BRIEF,
                        maxLength=4000,
                        value="",
                        className="nr-input nr-textarea",
                    ),
                    lang,
                ),
                _field(
                    "f_priority",
                    dcc.RadioItems(
                        id=ids.DESK_PRIORITY,
                        options=priorities,
                        value="normal",
                        inline=True,
                        className="nr-radio",
                    ),
                    lang,
                ),
                _field("dk_place", place, lang),
                html.Div(
                    [
                        _field(
                            "f_lat",
                            dcc.Input(
                                id=ids.DESK_LAT,
                                type="number",
                                value=lat,
                                min=-90,
                                max=90,
                                step="any",
                                className="nr-input",
                            ),
                            lang,
                        ),
                        _field(
                            "f_lon",
                            dcc.Input(
                                id=ids.DESK_LON,
                                type="number",
                                value=lon,
                                min=-180,
                                max=180,
                                step="any",
                                className="nr-input",
                            ),
                            lang,
                        ),
                    ],
                    className="nr-field-row",
                ),
                html.Button(
                    i18n.t("suggest", lang), id=ids.DESK_SUGGEST, n_clicks=0, className="nr-button"
                ),
                html.Div(id=ids.DESK_SUGGESTIONS, className="nr-suggestions"),
                _field(
                    "f_assignee",
                    dcc.Dropdown(
                        id=ids.DESK_ASSIGNEE,
                        options=[{"label": i18n.t("assign_later", lang), "value": ""}],
                        value="",
                        clearable=False,
                        searchable=False,
                        className="nr-dropdown",
                    ),
                    lang,
                ),
                html.Button(
                    i18n.t("dispatch", lang),
                    id=ids.DESK_DISPATCH,
                    n_clicks=0,
                    className="nr-button nr-primary nr-dispatch",
                ),
                html.Div(id=ids.DESK_RESULT, className="nr-result", role="status"),
                dcc.Store(id=DESK_FORM_KEY, data=new_form_key()),
                dcc.Store(id=ids_desk.DESK_FORM_STORY),
                dcc.Store(id=ids_desk.DESK_PIN_SYNC),
            ],
            className="nr-form",
        ),
        class_name="nr-area-form",
    )


async def suggest(
    runtime: Runtime, point: tuple[float, float], lang: str, exclude: frozenset[str] = frozenset()
) -> tuple[Any, Any, Any]:
    """(the suggestion list, the assignee options, the best reporter or "") for a point."""
    ranked = await reporters.nearest(
        runtime.redis, runtime.keys, *point, limit=SUGGESTIONS + len(exclude)
    )
    ranked = [rep for rep in ranked if rep["reporter_id"] not in exclude][:SUGGESTIONS]
    best = ranked[0]["reporter_id"] if ranked else ""
    return desk_views.suggestions(ranked, lang), desk_views.assignee_options(ranked, lang), best


# The pin: the map's last trace marks the form's point. Patched in the browser whenever the
# point changes or a stream redraw brought back an empty pin; the same callback makes sure a
# click on the map (not a drag) writes the clicked point into the form.
PIN_JS = """
function (lat, lon, figure) {
    const dc = window.dash_clientside, PIN = %(pin)d, MAP = %(map)s;
    if (!window.nrDeskMapClicks) {
        // Listen on the document: Dash may replace the map's element (it loads the graph
        // lazily), and a listener on the element would go with it.
        window.nrDeskMapClicks = true;
        let down = null;
        document.addEventListener("pointerdown", (e) => { down = [e.clientX, e.clientY]; }, true);
        document.addEventListener("click", (e) => {
            const el = e.target && e.target.closest ? e.target.closest("#" + MAP) : null;
            if (!el || !down || Math.abs(e.clientX - down[0]) > 4 ||
                Math.abs(e.clientY - down[1]) > 4) {
                return;  // not on the map, or the end of a drag
            }
            const gd = el.querySelector(".js-plotly-plot");
            const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
            const map = sub && sub.map;
            if (!map) { return; }
            const box = map.getCanvas().getBoundingClientRect();
            if (e.clientX < box.left || e.clientX > box.right || e.clientY < box.top ||
                e.clientY > box.bottom) { return; }
            const at = map.unproject([e.clientX - box.left, e.clientY - box.top]);
            const round = (v) => Math.round(v * 1e5) / 1e5;
            dc.set_props(%(lat)s, {value: round(at.lat)});
            dc.set_props(%(lon)s, {value: round(at.lng)});
        }, true);
    }
    const la = parseFloat(lat), lo = parseFloat(lon);
    if (!isFinite(la) || !isFinite(lo) || !figure || !figure.data || figure.data.length <= PIN) {
        return dc.no_update;
    }
    const pin = figure.data[PIN];
    if (pin.lat && pin.lat.length === 1 && pin.lat[0] === la && pin.lon[0] === lo) {
        return dc.no_update;
    }
    dc.set_props(MAP, {figure: new dc.Patch().assign(["data", PIN, "lat"], [la])
                                           .assign(["data", PIN, "lon"], [lo]).build()});
    return [la, lo];
}
"""

# A place picked from the matches: its point goes into the form, its name into the field.
HIT_JS = """
function (_clicks) {
    const dc = window.dash_clientside, c = dc.callback_context;
    const id = c.triggered_id;
    if (!id || !c.triggered.length || !c.triggered[0].value) {
        return [dc.no_update, dc.no_update, dc.no_update, dc.no_update];
    }
    return [parseFloat(id.lat), parseFloat(id.lon), id.name ? id.name : dc.no_update, []];
}
"""

STORY_BOX_JS = """
function (story) {
    return story && story.story_id ? [false, story.title || story.story_id] : [true, ""];
}
"""


def register(
    app: Dash, runtime: Runtime, session: Session, lang_of: LangOf, pin_index: int
) -> None:
    """Register the form's callbacks on `app`; `pin_index` is the map's pin trace."""
    app.clientside_callback(  # type: ignore[no-untyped-call]  # Dash leaves it unannotated
        PIN_JS
        % {
            "pin": pin_index,
            "map": json.dumps(ids.DESK_MAP),
            "lat": json.dumps(ids.DESK_LAT),
            "lon": json.dumps(ids.DESK_LON),
        },
        Output(ids_desk.DESK_PIN_SYNC, "data"),
        Input(ids.DESK_LAT, "value"),
        Input(ids.DESK_LON, "value"),
        Input(ids.DESK_MAP, "figure"),
    )

    hit = {"type": ids_desk.DESK_PLACE_HIT, "name": ALL, "lat": ALL, "lon": ALL}
    app.clientside_callback(  # type: ignore[no-untyped-call]
        HIT_JS,
        Output(ids.DESK_LAT, "value", allow_duplicate=True),
        Output(ids.DESK_LON, "value", allow_duplicate=True),
        Output(ids_desk.DESK_PLACE, "value", allow_duplicate=True),
        Output(ids_desk.DESK_PLACE_HITS, "children", allow_duplicate=True),
        Input(hit, "n_clicks"),
        prevent_initial_call=True,
    )

    app.clientside_callback(  # type: ignore[no-untyped-call]
        STORY_BOX_JS,
        Output(ids_desk.DESK_FORM_STORY_BOX, "hidden"),
        Output(ids_desk.DESK_FORM_STORY_CHIP, "children"),
        Input(ids_desk.DESK_FORM_STORY, "data"),
    )

    app.clientside_callback(  # type: ignore[no-untyped-call]
        "function (_n) { return null; }",
        Output(ids_desk.DESK_FORM_STORY, "data", allow_duplicate=True),
        Input(ids_desk.DESK_FORM_STORY_CLEAR, "n_clicks"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids_desk.DESK_PLACE_HITS, "children"),
        Input(ids_desk.DESK_PLACE, "value"),
        State(ids.DESK_TICKET, "data"),
        prevent_initial_call=True,
    )
    async def place_hits(text: Any, ticket: Any) -> Any:
        lang = lang_of(ticket)
        query = text.strip() if isinstance(text, str) else ""
        if not query:
            return []
        try:
            await session()
            places = await gazetteer.all_places(runtime.redis, runtime.keys)
        except ENDED:
            return error(i18n.t("session_ended", lang))
        if any(p["name"] == query for p in places):
            return []  # a place was picked (or typed in full): its point is in the form
        point = gazetteer.parse_point(query)
        found = gazetteer.suggest(places, query)
        if not found and point is None:
            return html.Div(i18n.t("dk_place_none", lang).format(q=query), className="nr-muted")
        return desk_views.place_hits(found, point, lang)

    @app.callback(
        Output(ids.DESK_LAT, "value", allow_duplicate=True),
        Output(ids.DESK_LON, "value", allow_duplicate=True),
        Output(ids_desk.DESK_PLACE, "value", allow_duplicate=True),
        Output(ids_desk.DESK_PLACE_HITS, "children", allow_duplicate=True),
        Input(ids_desk.DESK_PLACE, "n_submit"),
        State(ids_desk.DESK_PLACE, "value"),
        State(ids.DESK_TICKET, "data"),
        prevent_initial_call=True,
    )
    async def place_enter(_submit: Any, text: Any, ticket: Any) -> tuple[Any, Any, Any, Any]:
        # Enter takes the typed point, else the best match.
        lang = lang_of(ticket)
        query = text.strip() if isinstance(text, str) else ""
        keep = (no_update, no_update, no_update, no_update)
        point = gazetteer.parse_point(query)
        if point is not None:
            return point[0], point[1], no_update, []
        try:
            await session()
            found = gazetteer.suggest(
                await gazetteer.all_places(runtime.redis, runtime.keys), query, 1
            )
        except ENDED:
            return (*keep[:3], error(i18n.t("session_ended", lang)))
        if not found:
            return keep
        return found[0]["lat"], found[0]["lon"], found[0]["name"], []

    @app.callback(
        Output(ids_desk.DESK_PLACE_NOTE, "children"),
        Input(ids.DESK_LAT, "value"),
        Input(ids.DESK_LON, "value"),
        State(ids.DESK_TICKET, "data"),
    )
    async def place_note(lat: Any, lon: Any, ticket: Any) -> Any:
        lang = lang_of(ticket)
        point = coords(lat, lon)
        if point is None:
            return error(i18n.t("need_coords", lang))
        try:
            await session()
            places = await gazetteer.all_places(runtime.redis, runtime.keys)
        except ENDED:
            return error(i18n.t("session_ended", lang))
        except (RedisError, OSError):
            return desk_views.place_note(point, None, lang)
        return desk_views.place_note(point, gazetteer.nearest(places, *point), lang)

    @app.callback(
        Output(ids_desk.DESK_PLACE_NOTE, "children", allow_duplicate=True),
        Input(ids_desk.DESK_PLACE_SAVE, "n_clicks"),
        State(ids_desk.DESK_PLACE, "value"),
        State(ids.DESK_LAT, "value"),
        State(ids.DESK_LON, "value"),
        State(ids.DESK_TICKET, "data"),
        prevent_initial_call=True,
    )
    async def save_place(_clicks: Any, name: Any, lat: Any, lon: Any, ticket: Any) -> Any:
        lang = lang_of(ticket)
        point = coords(lat, lon)
        if not isinstance(name, str) or not name.strip() or gazetteer.parse_point(name):
            return error(i18n.t("dk_place_need_name", lang))
        if point is None:
            return error(i18n.t("need_coords", lang))
        try:
            principal = await session()
            place, _created = await gazetteer.put(
                runtime.redis, runtime.keys, principal, name, *point
            )
        except ENDED:
            return error(i18n.t("session_ended", lang))
        except NewsroomError as exc:
            return error(f"{i18n.t('error', lang)}: {exc.text}")
        return html.Div(
            i18n.t("dk_place_saved", lang).format(name=place["name"]),
            className="nr-ok nr-small-ok",
            **desk_views.attrs({"data-saved": place["name"]}),
        )

    @app.callback(
        Output(ids.DESK_SUGGESTIONS, "children"),
        Output(ids.DESK_ASSIGNEE, "options"),
        Output(ids.DESK_ASSIGNEE, "value"),
        Input(ids.DESK_SUGGEST, "n_clicks"),
        State(ids.DESK_LAT, "value"),
        State(ids.DESK_LON, "value"),
        State(ids.DESK_TICKET, "data"),
        prevent_initial_call=True,
    )
    async def suggest_click(_clicks: int, lat: Any, lon: Any, ticket: Any) -> tuple[Any, Any, Any]:
        lang = lang_of(ticket)
        try:
            await session()
        except ENDED:
            return error(i18n.t("session_ended", lang)), no_update, no_update
        point = coords(lat, lon)
        if point is None:
            return error(i18n.t("need_coords", lang)), no_update, no_update
        return await suggest(runtime, point, lang)

    @app.callback(
        Output(ids.DESK_RESULT, "children"),
        Output(DESK_FORM_KEY, "data"),
        Output(ids.DESK_TITLE, "value"),
        Output(ids.DESK_BRIEF, "value"),
        Output(ids_desk.DESK_FORM_STORY, "data", allow_duplicate=True),
        Input(ids.DESK_DISPATCH, "n_clicks"),
        State(ids.DESK_TITLE, "value"),
        State(ids.DESK_BRIEF, "value"),
        State(ids.DESK_PRIORITY, "value"),
        State(ids.DESK_LAT, "value"),
        State(ids.DESK_LON, "value"),
        State(ids.DESK_ASSIGNEE, "value"),
        State(DESK_FORM_KEY, "data"),
        State(ids_desk.DESK_FORM_STORY, "data"),
        State(ids.DESK_TICKET, "data"),
        prevent_initial_call=True,
    )
    async def dispatch_task(
        _clicks: int,
        title: Any,
        brief: Any,
        priority: Any,
        lat: Any,
        lon: Any,
        assignee: Any,
        form_key: Any,
        story: Any,
        ticket: Any,
    ) -> tuple[Any, ...]:
        lang = lang_of(ticket)
        keep = (no_update, no_update, no_update, no_update)
        try:
            principal = await session()
        except ENDED:
            return (error(i18n.t("session_ended", lang)), *keep)
        if not isinstance(title, str) or not title.strip():
            return (error(i18n.t("need_title", lang)), *keep)
        point = coords(lat, lon)
        if point is None:
            return (error(i18n.t("need_coords", lang)), *keep)
        try:
            task, _created = await tasks.create(
                runtime.redis,
                runtime.keys,
                principal,
                title=title.strip(),
                brief=brief if isinstance(brief, str) else "",
                lat=point[0],
                lon=point[1],
                priority=priority if isinstance(priority, str) else "normal",
                assignee=assignee if isinstance(assignee, str) and assignee else None,
                idempotency_key=form_key if isinstance(form_key, str) else None,
                ack_timeouts=runtime.settings.ack_timeouts,
            )
        except NewsroomError as exc:
            return (error(f"{i18n.t('error', lang)}: {exc.text}"), *keep)
        text = i18n.t("dispatched", lang).format(
            task_id=task["task_id"], state=i18n.label("state", task["state"], lang)
        )
        story_id = story.get("story_id") if isinstance(story, dict) else None
        if isinstance(story_id, str) and task.get("story_id") != story_id:
            try:
                task = await task_edits.edit(
                    runtime.redis, runtime.keys, principal, task["task_id"], {"story_id": story_id}
                )
                text += "; " + i18n.t("dk_dispatched_story", lang).format(
                    title=story.get("title") or story_id
                )
            except NewsroomError as exc:
                text += f"; {i18n.t('error', lang)}: {exc.text}"
        result = html.Div(
            text,
            className="nr-ok",
            **desk_views.attrs(
                {
                    "data-task-id": task["task_id"],
                    "data-state": task["state"],
                    "data-story-id": task.get("story_id") or "",
                }
            ),
        )
        return result, new_form_key(), "", "", None

    follow = {"type": ids_desk.DESK_ALERT_FOLLOW, "alert": ALL, "story": ALL}

    @app.callback(
        Output(ids.DESK_TITLE, "value", allow_duplicate=True),
        Output(ids.DESK_BRIEF, "value", allow_duplicate=True),
        Output(ids.DESK_LAT, "value", allow_duplicate=True),
        Output(ids.DESK_LON, "value", allow_duplicate=True),
        Output(ids_desk.DESK_PLACE, "value", allow_duplicate=True),
        Output(ids_desk.DESK_FORM_STORY, "data", allow_duplicate=True),
        Output(ids.DESK_SUGGESTIONS, "children", allow_duplicate=True),
        Output(ids.DESK_ASSIGNEE, "options", allow_duplicate=True),
        Output(ids.DESK_ASSIGNEE, "value", allow_duplicate=True),
        Output(ids.DESK_RESULT, "children", allow_duplicate=True),
        Input(follow, "n_clicks"),
        Input(ids_desk.DESK_REVIEW_FOLLOW, "n_clicks"),
        State(ids_desk.DESK_REVIEW, "data"),
        State(ids.DESK_TICKET, "data"),
        prevent_initial_call=True,
    )
    async def follow_up(_alerts: Any, _review: Any, review: Any, ticket: Any) -> tuple[Any, ...]:
        lang = lang_of(ticket)
        nothing = (no_update,) * 10
        trigger = ctx.triggered_id
        if not ctx.triggered or not ctx.triggered[0].get("value"):
            return nothing  # a list re-rendered; nobody clicked
        alert_id = ""
        if isinstance(trigger, dict):
            story_id, alert_id = str(trigger.get("story")), str(trigger.get("alert"))
        elif isinstance(review, dict) and review.get("kind") == "story":
            story_id = str(review.get("id"))
        else:
            return nothing
        try:
            await session()
        except ENDED:
            return (*nothing[:9], error(i18n.t("session_ended", lang)))
        alert_text = await _alert_text(runtime, alert_id) if alert_id else ""
        story = await desk_data.story(runtime.redis, runtime.keys, story_id)
        title = story["title"] if story else story_id
        earlier = await desk_data.tasks_for_story(runtime.redis, runtime.keys, story_id)
        point = (earlier[0]["lat"], earlier[0]["lon"]) if earlier else figures.CENTRE
        listed, options, best = await suggest(runtime, point, lang)
        brief = i18n.t("dk_follow_brief", lang).format(text=alert_text) if alert_text else ""
        ready = html.Div(
            i18n.t("dk_follow_ready", lang),
            className="nr-ok nr-follow-ready",
            **desk_views.attrs({"data-story-id": story_id}),
        )
        return (
            i18n.t("dk_follow_title", lang).format(title=title)[:200],
            brief,
            point[0],
            point[1],
            "",
            {"story_id": story_id, "title": title},
            listed,
            options,
            best,
            ready,
        )


async def _alert_text(runtime: Runtime, alert_id: str) -> str:
    """The text of one alert (for a follow-up's brief), or "" if it is gone."""
    if not escalation.ALERT_ID.fullmatch(alert_id):
        return ""
    try:
        entries = cast(
            list[tuple[str, dict[str, str]]],
            await runtime.redis.xrange(runtime.keys.alerts, min=alert_id, max=alert_id),
        )
    except (RedisError, OSError, NotFound):
        return ""
    if not entries:
        return ""
    return str(json.loads(entries[0][1]["alert"]).get("text") or "")
