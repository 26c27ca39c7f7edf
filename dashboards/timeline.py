"""The desk's task timeline: click a task in the open-task list, see every transition of it
(state, who, when, why), kept current by push.

The timeline is always read from the task's durable log (`tasks.get(...)["timeline"]`), never
pieced together from live events. The desk's stream pushes only each open task's version
(`versions`, into a store); when the selected task's version moves, or the task leaves the
open list, the timeline is read again. So it is right after a reconnect, a RESYNC or a
missed event, and one supervisor's desk costs one read per change of the task it shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from dash import ALL, Dash, Input, Output, State, dcc, html, no_update
from redis.exceptions import RedisError

from dashboards import i18n, ids, panels
from dashboards.model import LiveState
from dispatch import lifecycle, reporters, tasks
from dispatch.auth import Principal
from dispatch.errors import Forbidden, NotFound, Unauthorized
from dispatch.runtime import Runtime

SYSTEM_ACTOR = "system"


def row_id(task_id: str) -> dict[str, str]:
    """The pattern-matching id of a task row in the desk's open-task list."""
    return {"type": ids.DESK_TASK_ROW, "task": task_id}


def versions(state: LiveState) -> dict[str, int]:
    """task_id -> version of every open task: what the stream pushes for the timeline."""
    return {task_id: int(task.get("version", 0)) for task_id, task in state.tasks.items()}


def needs_reload(selected: str, known: Any, shown: Any) -> bool:
    """Whether the pushed versions (`known`) say the timeline on screen (`shown`) is out of date."""
    if not isinstance(shown, dict) or shown.get("task_id") != selected:
        return True
    version = known.get(selected) if isinstance(known, dict) else None
    if version is None:  # not among the open tasks: reload only if it was open when read
        return bool(shown.get("open"))
    return bool(version != shown.get("version"))


def panel(lang: str, state: LiveState, before: Any = None, after: Any = None) -> html.Section:
    """The timeline panel (empty until a task is picked) and the stores it works from;
    `before` and `after` go above and below the timeline (the desk's actions, the story)."""
    live: dict[str, Any] = {"aria-live": "polite"}
    body = html.Div(
        html.Div(i18n.t("timeline_hint", lang), className="nr-empty"),
        id=ids.DESK_TIMELINE,
        className="nr-timeline",
        **live,
    )
    stores = [
        dcc.Store(id=ids.DESK_SELECTED),
        dcc.Store(id=ids.DESK_TIMELINE_SHOWN),
        dcc.Store(id=ids.DESK_TASK_VERSIONS, data=versions(state)),
    ]
    parts = [part for part in (before, body, after) if part is not None]
    return panels.panel(
        i18n.t("panel_timeline", lang), *parts, *stores, class_name="nr-area-timeline"
    )


def actor_name(actor: str, names: dict[str, str], lang: str) -> str:
    if actor == SYSTEM_ACTOR:
        return i18n.t("actor_system", lang)
    return names.get(actor, actor)


def render(task: dict[str, Any], names: dict[str, str], lang: str) -> list[Any]:
    """The task's head line and its transitions, oldest first (pure)."""
    head = html.Div(
        [
            html.Span(
                i18n.label("priority", task["priority"], lang),
                className=f"nr-prio nr-prio-{task['priority']}",
            ),
            html.Span(task["title"], className="nr-task-title", title=task["title"]),
            html.Span(
                i18n.label("state", task["state"], lang),
                className=f"nr-state nr-state-{task['state']}",
            ),
        ],
        className="nr-task-row nr-tl-head",
        **{"data-task-id": task["task_id"], "data-current-state": task["state"]},
    )
    entries = []
    for event in task.get("timeline", []):
        state = event["state"]
        cells: list[Any] = [
            html.Span(i18n.clock(event["at"]), className="nr-tl-time"),
            html.Span(i18n.label("state", state, lang), className=f"nr-state nr-state-{state}"),
            html.Span(actor_name(event.get("actor", ""), names, lang), className="nr-tl-actor"),
        ]
        if state == "offered" and event.get("assignee"):
            who = names.get(event["assignee"], event["assignee"])
            cells.append(
                html.Span(i18n.t("timeline_to", lang).format(who=who), className="nr-tl-to")
            )
        if event.get("reason"):
            cells.append(
                html.Div(
                    [
                        html.Span(i18n.t("timeline_reason", lang) + ": ", className="nr-muted"),
                        event["reason"],
                    ],
                    className="nr-tl-reason",
                )
            )
        entries.append(
            html.Li(
                cells,
                className="nr-tl-entry",
                **{"data-state": state, "data-version": str(event["version"])},
            )
        )
    return [head, html.Ol(entries, className="nr-tl-list")]


async def names_of(runtime: Runtime, timeline: list[dict[str, Any]]) -> dict[str, str]:
    """Reporter names for the reporters the timeline mentions (as actor or assignee)."""
    mentioned = {who for event in timeline for who in (event.get("actor"), event.get("assignee"))}
    wanted = sorted(who for who in mentioned if who and who != SYSTEM_ACTOR)

    async def one(who: str) -> tuple[str, str] | None:
        try:
            rep = await reporters.get(runtime.redis, runtime.keys, who)
        except NotFound:
            return None  # a desk user, not a reporter: shown as is
        return who, str(rep.get("name") or who)

    found = await asyncio.gather(*(one(who) for who in wanted))
    return dict(pair for pair in found if pair is not None)


# The pick happens in the browser: a server round trip for it could be overtaken by a
# version push (Dash keeps only the newest call of a callback in flight) and the click lost.
# No n_clicks check: the stream may re-render the list between the click and this call, and
# the new row comes without it; re-rendered rows never trigger by themselves
# (prevent_initial_call covers components added later).
PICK_JS = """
function (_clicks) {
    const id = window.dash_clientside.callback_context.triggered_id;
    return id && id.task ? id.task : window.dash_clientside.no_update;
}
"""


def register(
    app: Dash,
    runtime: Runtime,
    session: Callable[[], Awaitable[Principal]],
    lang_of: Callable[[Any], str],
) -> None:
    """Register the pick (in the browser) and show callbacks on `app`.

    `session` re-checks the desk cookie; `lang_of` reads the page language from the ticket.
    """
    app.clientside_callback(  # type: ignore[no-untyped-call]  # Dash leaves it unannotated
        PICK_JS,
        Output(ids.DESK_SELECTED, "data"),
        Input({"type": ids.DESK_TASK_ROW, "task": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.DESK_TIMELINE, "children"),
        Output(ids.DESK_TIMELINE_SHOWN, "data"),
        Input(ids.DESK_SELECTED, "data"),
        Input(ids.DESK_TASK_VERSIONS, "data"),
        State(ids.DESK_TIMELINE_SHOWN, "data"),
        State(ids.DESK_TICKET, "data"),
        prevent_initial_call=True,
    )
    async def show(selected: Any, known: Any, shown: Any, ticket: Any) -> tuple[Any, Any]:
        # A new pick, a version push, or both at once: reload whenever what is on screen is
        # not the selected task at its latest version.
        if not isinstance(selected, str) or not needs_reload(selected, known, shown):
            return no_update, no_update
        lang = lang_of(ticket)
        try:
            await session()
        except (Unauthorized, Forbidden):
            return html.Div(i18n.t("session_ended", lang), className="nr-error"), None
        try:
            task = await tasks.get(runtime.redis, runtime.keys, selected)
            names = await names_of(runtime, task.get("timeline", []))
        except NotFound:
            missing = html.Div(i18n.t("timeline_missing", lang), className="nr-empty")
            return missing, {"task_id": selected, "version": None, "open": False}
        except (RedisError, OSError):
            # The stale banner already says the data source is down; the next push retries.
            return no_update, None
        shown_now = {
            "task_id": selected,
            "version": task["version"],
            "open": lifecycle.is_open(task["state"]),
            "story_id": task.get("story_id"),
        }
        return render(task, names, lang), shown_now
