"""The follow-up task a story alert (or a story's review) asks for: the task form filled in
with a title, the alert's text as the brief, the place of the story's earlier task (else the
county seat) and its nearest free reporters already suggested; the supervisor checks it and
dispatches (desk_form.py links the new task to the story).
"""

from __future__ import annotations

import json
from typing import Any, cast

from dash import ALL, Dash, Input, Output, State, ctx, html, no_update
from redis.exceptions import RedisError

from dashboards import desk_data, desk_form, desk_live, desk_views, i18n, ids, ids_desk, maps
from dashboards.desk_live import ENDED, LangOf, Session
from dispatch import escalation
from dispatch.errors import NotFound
from dispatch.runtime import Runtime


def register(app: Dash, runtime: Runtime, session: Session, lang_of: LangOf) -> None:
    """Register the follow-up buttons (an alert's, the review's) on `app`."""
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
            return (*nothing[:9], desk_live.error(i18n.t("session_ended", lang)))
        alert_text = await _alert_text(runtime, alert_id) if alert_id else ""
        story = await desk_data.story(runtime.redis, runtime.keys, story_id)
        title = story["title"] if story else story_id
        earlier = await desk_data.tasks_for_story(runtime.redis, runtime.keys, story_id)
        point = (earlier[0]["lat"], earlier[0]["lon"]) if earlier else maps.CENTRE
        listed, options, best = await desk_form.suggest(runtime, point, lang)
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
