"""The desk's task form: what, where (desk_place.py: a click on the map, typed coordinates or
a place from the gazetteer), who (the nearest free reporters, with why), and one-click
dispatch, linked to a story when the form was filled in as a follow-up (desk_followup.py).

Every HTTP callback re-checks the desk session first.
"""

from __future__ import annotations

import secrets
from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update

from dashboards import desk_live, desk_place, desk_views, i18n, ids, ids_desk, maps, panels
from dashboards.desk_live import ENDED, LangOf, Session
from dispatch import reporters, task_edits, tasks
from dispatch.errors import NewsroomError
from dispatch.runtime import Runtime

DESK_FORM_KEY = "desk-form-key"  # dcc.Store: the Idempotency-Key of the form's next dispatch
SUGGESTIONS = 5


def new_form_key() -> str:
    return "desk-" + secrets.token_urlsafe(16)


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
    lat, lon = maps.CENTRE
    priorities = [
        {"label": i18n.label("priority", p, lang), "value": p}
        for p in ("normal", "high", "breaking")
    ]
    story = html.Div(
        [
            html.Span(i18n.t("dk_for_story", lang) + ": ", className="nr-muted"),
            html.B(id=ids_desk.DESK_FORM_STORY_CHIP),
            desk_views.small_button(i18n.t("dk_clear", lang), ids_desk.DESK_FORM_STORY_CLEAR),
        ],
        id=ids_desk.DESK_FORM_STORY_BOX,
        className="nr-form-story",
        hidden=True,
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
                _field("dk_place", desk_place.place_input(lang), lang),
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


STORY_BOX_JS = """
function (story) {
    return story && story.story_id ? [false, story.title || story.story_id] : [true, ""];
}
"""


def register(app: Dash, runtime: Runtime, session: Session, lang_of: LangOf) -> None:
    """Register the form's story chip, suggestions and dispatch on `app`."""
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
            return desk_live.error(i18n.t("session_ended", lang)), no_update, no_update
        point = desk_place.coords(lat, lon)
        if point is None:
            return desk_live.error(i18n.t("need_coords", lang)), no_update, no_update
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
            return (desk_live.error(i18n.t("session_ended", lang)), *keep)
        if not isinstance(title, str) or not title.strip():
            return (desk_live.error(i18n.t("need_title", lang)), *keep)
        point = desk_place.coords(lat, lon)
        if point is None:
            return (desk_live.error(i18n.t("need_coords", lang)), *keep)
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
            return (desk_live.error(f"{i18n.t('error', lang)}: {exc.text}"), *keep)
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
