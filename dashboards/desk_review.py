"""The after-action review (复盘) of a task or a story: dispatch, arrival, every other task
transition, the story's CMS stages and its traffic curve on one time axis; downloadable as CSV
(a dcc.Download) and as PNG (the chart's own camera button, drawn in the browser, offline).

The review follows the desk: a new task transition (the task versions the stream pushes), a
story update or counted traffic redraws it.
"""

from __future__ import annotations

from typing import Any, cast

from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.dcc.express import send_string

from dashboards import (
    desk_data,
    desk_figures,
    desk_live,
    desk_views,
    i18n,
    ids,
    ids_desk,
    panels,
    timeline,
)
from dashboards.desk_figures import Review
from dashboards.desk_live import ENDED, LangOf, Session
from dispatch import stories, tasks
from dispatch.clock import now_ms
from dispatch.errors import NotFound
from dispatch.runtime import Runtime

MINUTE_MS = 60_000
MIN_MINUTES, MAX_MINUTES = 60, 26 * 60  # story traffic is kept 26 h
LEAD_MINUTES = 10  # traffic shown from a little before the first event
STORY_TASKS = 10


def config(subject: str = "review") -> dict[str, Any]:
    """Only the camera button: a PNG drawn by the browser (nothing leaves the machine)."""
    return {
        "displayModeBar": True,
        "displaylogo": False,
        "modeBarButtons": [["toImage"]],
        "scrollZoom": False,
        "toImageButtonOptions": {
            "format": "png",
            "filename": f"review-{subject}",
            "width": 1600,
            "height": 700,
            "scale": 1,
        },
    }


def panel(lang: str) -> html.Section:
    head = html.Div(
        [
            html.Div(
                i18n.t("dk_review_hint", lang),
                id=ids_desk.DESK_REVIEW_TITLE,
                className="nr-review-title",
            ),
            html.Span(i18n.t("dk_png_hint", lang), className="nr-muted nr-png-hint"),
            desk_views.small_button(
                i18n.t("dk_follow", lang), ids_desk.DESK_REVIEW_FOLLOW, hidden=True
            ),
            desk_views.small_button(
                i18n.t("dk_csv", lang), ids_desk.DESK_REVIEW_CSV, disabled=True
            ),
        ],
        className="nr-review-head",
    )
    empty = desk_figures.review_figure(
        Review(kind="none", subject="", title="", now=now_ms(), traffic_start=now_ms()), lang
    )
    return panels.panel(
        i18n.t("dk_review_title", lang),
        head,
        dcc.Graph(
            id=ids_desk.DESK_REVIEW_GRAPH,
            figure=empty,
            config=cast(Any, config()),
            className="nr-review-graph",
            responsive=True,
        ),
        dcc.Download(id=ids_desk.DESK_REVIEW_DOWNLOAD),
        dcc.Store(id=ids_desk.DESK_REVIEW),
        class_name="nr-area-review",
    )


async def load(runtime: Runtime, kind: str, subject: str, lang: str, now: int) -> Review | None:
    """What the review of a task (with its story) or a story (with its tasks) shows."""
    r, keys = runtime.redis, runtime.keys
    if kind == "task":
        try:
            shown = [await tasks.get(r, keys, subject)]
        except NotFound:
            return None
        story_id = shown[0].get("story_id")
        title = i18n.t("dk_review_task", lang).format(title=shown[0]["title"])
    elif kind == "story":
        story_id = subject
        linked = await desk_data.tasks_for_story(r, keys, subject)
        shown = [await tasks.get(r, keys, t["task_id"]) for t in linked[:STORY_TASKS]]
        title = ""
    else:
        return None
    story = await desk_data.story(r, keys, story_id) if story_id else None
    if kind == "story":
        if story is None and not shown:
            return None
        title = i18n.t("dk_review_story", lang).format(title=story["title"] if story else subject)
    stages = await stories.stage_history(r, keys, story_id) if story_id else []
    times = [e["at"] for t in shown for e in t.get("timeline", [])] + [at for at, _ in stages]
    first = min(times) if times else now
    span = (now - first) // MINUTE_MS + LEAD_MINUTES
    width = int(min(MAX_MINUTES, max(MIN_MINUTES, span)))
    traffic = await stories.story_traffic(r, keys, story_id, width, now) if story_id else {}
    start = now - now % MINUTE_MS - (width - 1) * MINUTE_MS
    names = await timeline.names_of(runtime, [e for t in shown for e in t.get("timeline", [])])
    return Review(
        kind=kind,
        subject=subject,
        title=title,
        tasks=shown,
        story=story,
        stages=stages,
        traffic=traffic,
        traffic_start=start,
        names=names,
        now=now,
    )


def _subject(data: Any) -> tuple[str, str] | None:
    if (
        isinstance(data, dict)
        and isinstance(data.get("id"), str)
        and data.get("kind") in ("task", "story")
    ):
        return str(data["kind"]), str(data["id"])
    return None


def register(app: Dash, runtime: Runtime, session: Session, lang_of: LangOf) -> None:
    """Register the review's chart and its CSV download on `app`."""

    @app.callback(
        Output(ids_desk.DESK_REVIEW_TITLE, "children"),
        Output(ids_desk.DESK_REVIEW_GRAPH, "figure"),
        Output(ids_desk.DESK_REVIEW_GRAPH, "config"),
        Output(ids_desk.DESK_REVIEW_FOLLOW, "hidden"),
        Output(ids_desk.DESK_REVIEW_CSV, "disabled"),
        Input(ids_desk.DESK_REVIEW, "data"),
        Input(ids_desk.DESK_TRAFFIC_TICK, "data"),
        Input(ids_desk.DESK_STORIES_TICK, "data"),
        Input(ids.DESK_TASK_VERSIONS, "data"),
        State(ids.DESK_TICKET, "data"),
        prevent_initial_call=True,
    )
    async def show(
        data: Any, _traffic: Any, _stories: Any, _versions: Any, ticket: Any
    ) -> tuple[Any, ...]:
        lang = lang_of(ticket)
        subject = _subject(data)
        if subject is None:
            return (no_update,) * 5
        kind, subject_id = subject

        async def draw() -> tuple[Any, ...]:
            review = await load(runtime, kind, subject_id, lang, now_ms())
            if review is None:
                missing = i18n.t("dk_review_missing", lang).format(id=subject_id)
                return missing, no_update, no_update, True, True
            story_id = review.story["story_id"] if review.story else None
            title = html.Span(
                review.title,
                **desk_views.attrs(
                    {
                        "data-kind": kind,
                        "data-subject": subject_id,
                        "data-story-id": story_id or "",
                    }
                ),
            )
            return (
                title,
                desk_figures.review_figure(review, lang),
                config(subject_id),
                review.kind != "story",
                False,
            )

        ended = html.Span(i18n.t("session_ended", lang), className="nr-error")
        return await desk_live.refresh(
            session, draw, ended=(ended, no_update, no_update, True, True), down=(no_update,) * 5
        )

    @app.callback(
        Output(ids_desk.DESK_REVIEW_DOWNLOAD, "data"),
        Input(ids_desk.DESK_REVIEW_CSV, "n_clicks"),
        State(ids_desk.DESK_REVIEW, "data"),
        State(ids.DESK_TICKET, "data"),
        prevent_initial_call=True,
    )
    async def download(_clicks: Any, data: Any, ticket: Any) -> Any:
        lang = lang_of(ticket)
        subject = _subject(data)
        if subject is None:
            return no_update
        try:
            await session()
            review = await load(runtime, *subject, lang, now_ms())
        except ENDED:
            return no_update
        if review is None:
            return no_update
        return send_string(  # type: ignore[no-untyped-call]
            desk_figures.review_csv(review, lang),
            f"review-{subject[0]}-{subject[1]}.csv",
            type="text/csv",
        )
