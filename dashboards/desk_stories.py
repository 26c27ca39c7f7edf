"""The desk's story table: every story the CMS feeds report, filtered by desk, stage and
channel, with its views in the last hour; a row opens the story's after-action review.

Read again (an HTTP callback, so the session is checked) when a filter changes and when the
desk's stream pushes the stories tick (a story moved) or the traffic tick (views counted).
"""

from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, State, dcc, html, no_update

from dashboards import desk_lists, desk_live, i18n, ids, ids_desk, panels
from dashboards.desk_live import LangOf, Session
from dispatch import schema, stories
from dispatch.clock import now_ms
from dispatch.runtime import Runtime

VIEWS_MINUTES = 60
VIEWS_RANKED = 500

PICK_JS = """
function (_clicks) {
    const c = window.dash_clientside.callback_context, id = c.triggered_id;
    if (!id || !id.story || !c.triggered.length || !c.triggered[0].value) {
        return window.dash_clientside.no_update;
    }
    return {kind: "story", id: id.story};
}
"""


def panel(lang: str) -> html.Section:
    def dropdown(component_id: str, placeholder: str, options: list[dict[str, str]]) -> Any:
        return dcc.Dropdown(
            id=component_id,
            options=options,
            value=None,
            clearable=True,
            searchable=False,
            placeholder=i18n.t(placeholder, lang),
            className="nr-dropdown nr-filter",
        )

    stages = [{"label": i18n.label("stage", s, lang), "value": s} for s in schema.STAGES]
    channels = [{"label": i18n.label("channel", c, lang), "value": c} for c in schema.CHANNELS]
    filters = html.Div(
        [
            dropdown(ids_desk.DESK_FILTER_DESK, "dk_filter_desk", []),
            dropdown(ids_desk.DESK_FILTER_STAGE, "dk_filter_stage", stages),
            dropdown(ids_desk.DESK_FILTER_CHANNEL, "dk_filter_channel", channels),
            html.Span(id=ids_desk.DESK_STORIES_COUNT, className="nr-muted nr-count"),
        ],
        className="nr-filters",
    )
    return panels.panel(
        i18n.t("dk_stories", lang),
        filters,
        html.Div(id=ids_desk.DESK_STORIES, className="nr-stories"),
        dcc.Store(id=ids_desk.DESK_STORIES_TICK, data=0),
        dcc.Store(id=ids_desk.DESK_TRAFFIC_TICK, data=0),
        class_name="nr-area-stories",
    )


def register(app: Dash, runtime: Runtime, session: Session, lang_of: LangOf) -> None:
    """Register the table and the row pick on `app`."""
    app.clientside_callback(  # type: ignore[no-untyped-call]  # Dash leaves it unannotated
        PICK_JS,
        Output(ids_desk.DESK_REVIEW, "data", allow_duplicate=True),
        Input({"type": ids_desk.DESK_STORY_ROW, "story": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids_desk.DESK_STORIES, "children"),
        Output(ids_desk.DESK_STORIES_COUNT, "children"),
        Output(ids_desk.DESK_FILTER_DESK, "options"),
        Input(ids_desk.DESK_FILTER_DESK, "value"),
        Input(ids_desk.DESK_FILTER_STAGE, "value"),
        Input(ids_desk.DESK_FILTER_CHANNEL, "value"),
        Input(ids_desk.DESK_STORIES_TICK, "data"),
        Input(ids_desk.DESK_TRAFFIC_TICK, "data"),
        State(ids.DESK_TICKET, "data"),
    )
    async def table(
        desk: Any, stage: Any, channel: Any, _stories: Any, _traffic: Any, ticket: Any
    ) -> tuple[Any, Any, Any]:
        lang = lang_of(ticket)

        async def load() -> tuple[Any, Any, Any]:
            every = await stories.all_stories(runtime.redis, runtime.keys)
            read = await stories.top_stories(
                runtime.redis, runtime.keys, VIEWS_MINUTES, VIEWS_RANKED
            )
            shown = desk_lists.filter_stories(every, desk, stage, channel)
            views = {row["story_id"]: row["views"] for row in read}
            count = i18n.t("dk_stories_count", lang).format(shown=len(shown), total=len(every))
            return (
                desk_lists.story_rows(shown, views, now_ms(), lang),
                count,
                desk_lists.desk_options(every, lang),
            )

        return await desk_live.refresh(
            session,
            load,
            ended=(desk_live.error(i18n.t("session_ended", lang)), "", no_update),
            down=(no_update, no_update, no_update),
        )
