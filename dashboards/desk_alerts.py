"""The desk's alerts: the recent alerts from the alerts stream, each acknowledged once (who and
when, recorded in Redis by `escalation.acknowledge`, shown on every open desk), with a
follow-up task for a story alert and a link to the task of a task alert.

The list is read from Redis by an HTTP callback (so the session is checked) whenever the
desk's stream pushes the alerts tick (a new alert, or an acknowledgement on any desk) and
after this desk acknowledges one.
"""

from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from dashboards import desk_lists, desk_live, desk_views, i18n, ids, ids_desk, panels
from dashboards.desk_live import ENDED, LangOf, Session
from dispatch import escalation
from dispatch.clock import now_ms
from dispatch.errors import NewsroomError
from dispatch.runtime import Runtime

SHOWN = 30

SHOW_TASK_JS = """
function (_clicks) {
    const c = window.dash_clientside.callback_context, id = c.triggered_id;
    if (!id || !id.task || !c.triggered.length || !c.triggered[0].value) {
        return window.dash_clientside.no_update;
    }
    return id.task;
}
"""


def panel(lang: str) -> html.Section:
    count = html.Span(id=ids_desk.DESK_ALERTS_UNACKED, className="nr-badge")
    return panels.panel(
        i18n.t("dk_alerts", lang),
        html.Div(id=ids_desk.DESK_ALERTS_STATUS, className="nr-dk-alerts-status", role="status"),
        html.Div(
            id=ids_desk.DESK_ALERTS,
            className="nr-dk-alerts",
            **desk_views.attrs({"aria-live": "polite"}),
        ),
        dcc.Store(id=ids_desk.DESK_ALERTS_TICK, data=0),
        dcc.Store(id=ids_desk.DESK_ALERTS_LOCAL, data=0),
        class_name="nr-area-alerts",
        extra=count,
    )


def register(app: Dash, runtime: Runtime, session: Session, lang_of: LangOf) -> None:
    """Register the list, the acknowledge buttons and the task links on `app`."""
    app.clientside_callback(  # type: ignore[no-untyped-call]  # Dash leaves it unannotated
        SHOW_TASK_JS,
        Output(ids.DESK_SELECTED, "data", allow_duplicate=True),
        Input({"type": ids_desk.DESK_ALERT_TASK, "task": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids_desk.DESK_ALERTS, "children"),
        Output(ids_desk.DESK_ALERTS_UNACKED, "children"),
        Input(ids_desk.DESK_ALERTS_TICK, "data"),
        Input(ids_desk.DESK_ALERTS_LOCAL, "data"),
        State(ids.DESK_TICKET, "data"),
    )
    async def alert_list(_tick: Any, _local: Any, ticket: Any) -> tuple[Any, Any]:
        lang = lang_of(ticket)

        async def load() -> tuple[Any, Any]:
            alerts = await escalation.alerts_with_acks(runtime.redis, runtime.keys, SHOWN)
            n = desk_lists.unacked(alerts)
            return (
                desk_lists.alert_rows(alerts, lang),
                i18n.t("dk_unacked", lang).format(n=n) if n else "",
            )

        return await desk_live.refresh(
            session,
            load,
            ended=(desk_live.error(i18n.t("session_ended", lang)), ""),
            down=(no_update, no_update),
        )

    @app.callback(
        Output(ids_desk.DESK_ALERTS_STATUS, "children"),
        Output(ids_desk.DESK_ALERTS_LOCAL, "data"),
        Input({"type": ids_desk.DESK_ALERT_ACK, "alert": ALL}, "n_clicks"),
        State(ids.DESK_TICKET, "data"),
        prevent_initial_call=True,
    )
    async def acknowledge(_clicks: Any, ticket: Any) -> tuple[Any, Any]:
        lang = lang_of(ticket)
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not ctx.triggered or not ctx.triggered[0].get("value"):
            return no_update, no_update  # the list re-rendered; nobody clicked
        try:
            principal = await session()
            done = await escalation.acknowledge(
                runtime.redis, runtime.keys, principal, str(trigger.get("alert"))
            )
        except ENDED:
            return desk_live.error(i18n.t("session_ended", lang)), no_update
        except NewsroomError as exc:
            return desk_live.error(f"{i18n.t('error', lang)}: {exc.text}"), now_ms()
        text = i18n.t("dk_acked", lang).format(who=done["by"], at=i18n.clock(done["at"]))
        return html.Div(
            text, className="nr-muted", **desk_views.attrs({"data-alert-id": done["alert_id"]})
        ), now_ms()
