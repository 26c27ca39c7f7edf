"""What the desk can do with the task its timeline shows: reassign it, cancel it, link it to the
story it produced, review it; and what that story's audience is now.

An action is confirmed in two steps. Opening it (Reassign…, Cancel…, Link story…) reads the
task and remembers its version; confirming sends that version as `expected_version`. If the
task moved in between (another supervisor reassigned it, the reporter answered), the server
refuses with a version conflict and the desk shows the server's reason: the supervisor decided
on what they saw, so they look again rather than overwrite someone else's change.
"""

from __future__ import annotations

from typing import Any, cast

from dash import Dash, Input, Output, State, ctx, dcc, html, no_update

from dashboards import (
    desk_data,
    desk_figures,
    desk_lists,
    desk_live,
    desk_views,
    i18n,
    ids,
    ids_desk,
)
from dashboards.desk_live import ENDED, LangOf, Session
from dispatch import lifecycle, reporters, stories, task_edits, tasks
from dispatch.errors import NewsroomError, NotFound
from dispatch.runtime import Runtime

CANDIDATES = 8
STORY_CHOICES = 200
HIDE = {"display": "none"}
SHOW: dict[str, str] = {}
AUDIENCE_MINUTES = 60
GRAPH_CONFIG = {"displayModeBar": False, "staticPlot": True}


def toolbar(lang: str) -> html.Div:
    """The actions on the shown task, the confirmation box and the task's story."""

    def button(key: str, component_id: str, extra: str = "") -> html.Button:
        return desk_views.small_button(i18n.t(key, lang), component_id, extra)

    confirm = html.Div(
        [
            html.Div(id=ids_desk.DESK_ACTION_TEXT, className="nr-action-text"),
            dcc.Dropdown(
                id=ids_desk.DESK_ACTION_PICK,
                options=[],
                value=None,
                clearable=False,
                searchable=True,
                className="nr-dropdown",
                style=HIDE,
            ),
            dcc.Input(
                id=ids_desk.DESK_ACTION_REASON,
                type="text",
                value="",
                maxLength=200,
                placeholder=i18n.t("dk_reason", lang),
                className="nr-input",
                style=HIDE,
            ),
            html.Div(
                [
                    button("dk_do_reassign", ids_desk.DESK_ACTION_CONFIRM, "nr-primary"),
                    button("dk_back", ids_desk.DESK_ACTION_BACK),
                ],
                className="nr-action-buttons",
            ),
        ],
        id=ids_desk.DESK_ACTION_FORM,
        className="nr-action-form",
        hidden=True,
    )
    return html.Div(
        [
            html.Div(
                [
                    button("dk_reassign", ids_desk.DESK_ACT_REASSIGN),
                    button("dk_cancel", ids_desk.DESK_ACT_CANCEL, "nr-danger"),
                    button("dk_link", ids_desk.DESK_ACT_LINK),
                    button("dk_review", ids_desk.DESK_ACT_REVIEW),
                ],
                className="nr-actions-bar",
            ),
            confirm,
            html.Div(id=ids_desk.DESK_ACTION_RESULT, className="nr-result", role="status"),
            dcc.Store(id=ids_desk.DESK_ACTION),
        ],
        id=ids_desk.DESK_ACTIONS,
        className="nr-actions",
        hidden=True,
    )


def story_panel(lang: str) -> html.Div:
    """The shown task's story and its audience per channel (filled once a task is shown)."""
    return html.Div(
        [
            html.Div(id=ids_desk.DESK_TASK_STORY, className="nr-task-story"),
            dcc.Graph(
                id=ids_desk.DESK_TASK_AUDIENCE,
                figure=desk_figures.audience_figure({}, lang),
                config=cast(Any, GRAPH_CONFIG),
                className="nr-audience",
                style=HIDE,
            ),
        ],
        className="nr-task-story-box",
    )


TOOLBAR_JS = """
function (shown, action) {
    const dc = window.dash_clientside;
    if (!shown || !shown.task_id) {
        return [true, true, true, dc.no_update];
    }
    const closed = !shown.open;
    const other = action && action.task_id !== shown.task_id;
    return [false, closed, closed, other ? true : dc.no_update];
}
"""

BACK_JS = "function (_n) { return [true, null]; }"
REVIEW_JS = """
function (_n, selected) {
    return selected ? {kind: "task", id: selected} : window.dash_clientside.no_update;
}
"""


def _reporter_options(ranked: list[dict[str, Any]], lang: str) -> list[dict[str, str]]:
    return desk_views.assignee_options(ranked, lang)[1:]  # no "nobody yet" here


async def _arm(runtime: Runtime, kind: str, task: dict[str, Any], lang: str) -> tuple[Any, ...]:
    """(text, pick options, pick value, pick style, reason style, confirm label) of a form."""
    title, version = task["title"], task["version"]
    if kind == "cancel":
        return (
            i18n.t("dk_confirm_cancel", lang).format(title=title, v=version),
            [],
            None,
            HIDE,
            SHOW,
            i18n.t("dk_do_cancel", lang),
        )
    if kind == "reassign":
        ranked = await reporters.nearest(
            runtime.redis, runtime.keys, task["lat"], task["lon"], limit=CANDIDATES + 1
        )
        ranked = [r for r in ranked if r["reporter_id"] != task.get("assignee")][:CANDIDATES]
        options = _reporter_options(ranked, lang)
        text = i18n.t("dk_confirm_reassign", lang).format(title=title, v=version)
        if not options:
            text += " " + i18n.t("dk_no_candidates", lang)
        return (
            text,
            options,
            options[0]["value"] if options else None,
            SHOW,
            SHOW,
            i18n.t("dk_do_reassign", lang),
        )
    known = (await stories.all_stories(runtime.redis, runtime.keys))[:STORY_CHOICES]
    options = [
        {"label": f"{s['title']} · {i18n.label('stage', s['stage'], lang)}", "value": s["story_id"]}
        for s in known
    ]
    text = i18n.t("dk_confirm_link", lang).format(title=title, v=version)
    if not options:
        text += " " + i18n.t("dk_no_stories_to_link", lang)
    current = task.get("story_id") or (options[0]["value"] if options else None)
    return text, options, current, SHOW, HIDE, i18n.t("dk_do_link", lang)


def _refusal(exc: NewsroomError, lang: str) -> html.Div:
    """The server's reason, as it gave it, under the desk's own words for what happened."""
    head = i18n.t("dk_conflict" if exc.code == "version_conflict" else "dk_refused", lang)
    return html.Div(
        [html.Div(head), html.Div(exc.text, className="nr-reason")],
        className="nr-error",
        **desk_views.attrs({"data-code": exc.code, "data-status": str(exc.status)}),
    )


def register(app: Dash, runtime: Runtime, session: Session, lang_of: LangOf) -> None:
    """Register the toolbar, the confirmation, the story box and the review button."""
    app.clientside_callback(  # type: ignore[no-untyped-call]  # Dash leaves it unannotated
        TOOLBAR_JS,
        Output(ids_desk.DESK_ACTIONS, "hidden"),
        Output(ids_desk.DESK_ACT_REASSIGN, "disabled"),
        Output(ids_desk.DESK_ACT_CANCEL, "disabled"),
        Output(ids_desk.DESK_ACTION_FORM, "hidden", allow_duplicate=True),
        Input(ids.DESK_TIMELINE_SHOWN, "data"),
        State(ids_desk.DESK_ACTION, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(  # type: ignore[no-untyped-call]
        BACK_JS,
        Output(ids_desk.DESK_ACTION_FORM, "hidden", allow_duplicate=True),
        Output(ids_desk.DESK_ACTION, "data", allow_duplicate=True),
        Input(ids_desk.DESK_ACTION_BACK, "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(  # type: ignore[no-untyped-call]
        REVIEW_JS,
        Output(ids_desk.DESK_REVIEW, "data", allow_duplicate=True),
        Input(ids_desk.DESK_ACT_REVIEW, "n_clicks"),
        State(ids.DESK_SELECTED, "data"),
        prevent_initial_call=True,
    )

    kinds = {
        ids_desk.DESK_ACT_REASSIGN: "reassign",
        ids_desk.DESK_ACT_CANCEL: "cancel",
        ids_desk.DESK_ACT_LINK: "link",
    }

    @app.callback(
        Output(ids_desk.DESK_ACTION, "data"),
        Output(ids_desk.DESK_ACTION_FORM, "hidden"),
        Output(ids_desk.DESK_ACTION_TEXT, "children"),
        Output(ids_desk.DESK_ACTION_PICK, "options"),
        Output(ids_desk.DESK_ACTION_PICK, "value"),
        Output(ids_desk.DESK_ACTION_PICK, "style"),
        Output(ids_desk.DESK_ACTION_REASON, "style"),
        Output(ids_desk.DESK_ACTION_REASON, "value"),
        Output(ids_desk.DESK_ACTION_CONFIRM, "children"),
        Output(ids_desk.DESK_ACTION_RESULT, "children"),
        Input(ids_desk.DESK_ACT_REASSIGN, "n_clicks"),
        Input(ids_desk.DESK_ACT_CANCEL, "n_clicks"),
        Input(ids_desk.DESK_ACT_LINK, "n_clicks"),
        State(ids.DESK_SELECTED, "data"),
        State(ids.DESK_TICKET, "data"),
        prevent_initial_call=True,
    )
    async def arm(_r: Any, _c: Any, _l: Any, selected: Any, ticket: Any) -> tuple[Any, ...]:
        lang = lang_of(ticket)
        kind = kinds.get(str(ctx.triggered_id))
        nothing = (no_update,) * 9
        if kind is None or not isinstance(selected, str):
            return (*nothing, no_update)
        try:
            await session()
            task = await tasks.get(runtime.redis, runtime.keys, selected)
        except ENDED:
            return (*nothing, html.Div(i18n.t("session_ended", lang), className="nr-error"))
        except NotFound:
            return (*nothing, html.Div(i18n.t("timeline_missing", lang), className="nr-error"))
        if kind != "link" and not lifecycle.is_open(task["state"]):
            return (*nothing, html.Div(i18n.t("dk_closed", lang), className="nr-error"))
        text, options, value, pick_style, reason_style, label = await _arm(
            runtime, kind, task, lang
        )
        action = {"kind": kind, "task_id": selected, "version": task["version"]}
        return (action, False, text, options, value, pick_style, reason_style, "", label, None)

    @app.callback(
        Output(ids_desk.DESK_ACTION_RESULT, "children", allow_duplicate=True),
        Output(ids_desk.DESK_ACTION_FORM, "hidden", allow_duplicate=True),
        Output(ids_desk.DESK_ACTION, "data", allow_duplicate=True),
        Input(ids_desk.DESK_ACTION_CONFIRM, "n_clicks"),
        State(ids_desk.DESK_ACTION, "data"),
        State(ids_desk.DESK_ACTION_PICK, "value"),
        State(ids_desk.DESK_ACTION_REASON, "value"),
        State(ids.DESK_TICKET, "data"),
        prevent_initial_call=True,
    )
    async def confirm(
        _clicks: Any, action: Any, pick: Any, reason: Any, ticket: Any
    ) -> tuple[Any, Any, Any]:
        lang = lang_of(ticket)
        if not isinstance(action, dict) or action.get("kind") not in ("reassign", "cancel", "link"):
            return no_update, no_update, no_update
        try:
            principal = await session()
        except ENDED:
            return html.Div(i18n.t("session_ended", lang), className="nr-error"), True, None
        task_id, version = str(action["task_id"]), action.get("version")
        expected = version if isinstance(version, int) else None
        why = reason.strip() if isinstance(reason, str) else ""
        r, keys = runtime.redis, runtime.keys
        try:
            if action["kind"] == "reassign":
                if not isinstance(pick, str) or not pick:
                    return (
                        html.Div(i18n.t("dk_pick_reporter", lang), className="nr-error"),
                        no_update,
                        no_update,
                    )
                task = await tasks.change(
                    r,
                    keys,
                    principal,
                    task_id,
                    "offered",
                    assignee=pick,
                    reason=why,
                    expected_version=expected,
                    ack_timeouts=runtime.settings.ack_timeouts,
                )
                who = (await reporters.get(r, keys, pick)).get("name") or pick
                text = i18n.t("dk_reassigned", lang).format(who=who, v=task["version"])
            elif action["kind"] == "cancel":
                task = await tasks.change(
                    r, keys, principal, task_id, "cancelled", reason=why, expected_version=expected
                )
                text = i18n.t("dk_cancelled", lang).format(v=task["version"])
            else:
                if not isinstance(pick, str) or not pick:
                    return (
                        html.Div(i18n.t("dk_pick_story", lang), className="nr-error"),
                        no_update,
                        no_update,
                    )
                task = await task_edits.edit(
                    r, keys, principal, task_id, {"story_id": pick}, expected
                )
                linked = await desk_data.story(r, keys, pick)
                text = i18n.t("dk_linked", lang).format(
                    title=linked["title"] if linked else pick, v=task["version"]
                )
        except ENDED:
            return html.Div(i18n.t("session_ended", lang), className="nr-error"), True, None
        except NewsroomError as exc:
            return _refusal(exc, lang), True, None
        done = html.Div(
            text,
            className="nr-ok",
            **desk_views.attrs(
                {
                    "data-task-id": task_id,
                    "data-state": task["state"],
                    "data-version": str(task["version"]),
                }
            ),
        )
        return done, True, None

    @app.callback(
        Output(ids_desk.DESK_TASK_STORY, "children"),
        Output(ids_desk.DESK_TASK_AUDIENCE, "figure"),
        Output(ids_desk.DESK_TASK_AUDIENCE, "style"),
        Input(ids.DESK_TIMELINE_SHOWN, "data"),
        Input(ids_desk.DESK_TRAFFIC_TICK, "data"),
        Input(ids_desk.DESK_STORIES_TICK, "data"),
        State(ids.DESK_TICKET, "data"),
        prevent_initial_call=True,
    )
    async def story_of_task(
        shown: Any, _traffic: Any, _stories: Any, ticket: Any
    ) -> tuple[Any, Any, Any]:
        lang = lang_of(ticket)
        if not isinstance(shown, dict) or not shown.get("task_id"):
            return [], no_update, HIDE
        story_id = shown.get("story_id")
        if not isinstance(story_id, str) or not story_id:
            return desk_lists.story_box(None, None, lang), no_update, HIDE

        async def load() -> tuple[Any, Any, Any]:
            found = await desk_data.story(runtime.redis, runtime.keys, story_id)
            traffic = await stories.story_traffic(
                runtime.redis, runtime.keys, story_id, AUDIENCE_MINUTES
            )
            box = desk_lists.story_box(found, story_id, lang)
            if not any(sum(v) for v in traffic.values()):
                box.append(html.Div(i18n.t("dk_no_audience", lang), className="nr-muted"))
                return box, no_update, HIDE
            head = html.Div(i18n.t("dk_audience", lang), className="nr-muted nr-audience-head")
            box.append(head)
            return box, desk_figures.audience_figure(traffic, lang), SHOW

        return await desk_live.refresh(
            session,
            load,
            ended=(desk_live.error(i18n.t("session_ended", lang)), no_update, HIDE),
            down=(no_update, no_update, no_update),
        )
