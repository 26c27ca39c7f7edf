"""Components shared by the wall and the desk, built from plain rows (see model.py).

Pure: rows in, Dash components out (or, for what only ever becomes HTML, fragments.node).
The stream re-renders a list only when its rows change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dash import dcc, html
from plotly.graph_objects import Figure  # type: ignore[import-untyped]

from dashboards import fragments, i18n
from dashboards.fragments import node

# Builds one element: (html component class, children, **props) -> it (fragments.component)
# or a stand-in for its HTML (fragments.node).
Make = Callable[..., Any]

GRAPH_CONFIG = {
    "displayModeBar": False,
    "scrollZoom": False,
    "doubleClick": False,
    "showTips": False,
}


def graph(
    component_id: str, figure: Figure, class_name: str = "nr-graph", interactive: bool = False
) -> dcc.Graph:
    """A responsive graph that fills its panel; the wall's graphs take no input."""
    config: Any = dict(
        GRAPH_CONFIG, scrollZoom=interactive, doubleClick="reset" if interactive else False
    )
    return dcc.Graph(
        id=component_id,
        figure=figure,
        config=config,
        responsive=True,
        className=class_name,
        style={"height": "100%", "width": "100%"},
    )


def panel(
    title: str, *children: Any, class_name: str = "", extra: Any = None, **attrs: Any
) -> html.Section:
    """A titled panel; `extra` goes to the right of the title (e.g. a legend); `attrs` go to
    the <section> (id, style, data-*)."""
    head = [html.H2(title, className="nr-panel-title")]
    if extra is not None:
        head.append(extra)
    return html.Section(
        [
            html.Div(head, className="nr-panel-head"),
            html.Div(list(children), className="nr-panel-body"),
        ],
        className=f"nr-panel {class_name}".strip(),
        **attrs,
    )


def header(
    lang: str, subtitle: str, kpis: list[Any], status: list[Any], status_class: str = "nr-status"
) -> html.Header:
    """The top bar: the centre's name and the page, the counters, the link state."""
    brand = html.Div(
        [
            html.Div(i18n.t("app_title", lang), className="nr-brand-name"),
            html.Div(subtitle, className="nr-brand-sub"),
        ],
        className="nr-brand",
    )
    return html.Header(
        [brand, html.Div(kpis, className="nr-kpis"), html.Div(status, className=status_class)],
        className="nr-header",
    )


def ticker(
    component_id: str, last: tuple[str, str, int] | None, seen: int, lang: str, extra: Any = None
) -> html.Footer:
    """The bottom line naming the last event received; `extra` goes to its right end."""
    return html.Footer(
        [
            html.Span(i18n.t("last_event", lang), className="nr-ticker-label"),
            html.Span(
                last_event_text(last, seen, lang), id=component_id, className="nr-ticker-text"
            ),
            *([extra] if extra is not None else []),
        ],
        className="nr-ticker",
    )


def feed_chips(rows: list[dict[str, Any]], lang: str) -> list[Any]:
    """Source health (dispatch.sources.health rows): one chip per source with its name, status
    and the age of its last success, coloured by status; the last error as the tooltip. Of
    fragments.node: the chips only become HTML (the wall's fragment)."""
    if not rows:
        return []
    chips: list[Any] = [node(html.Span, i18n.t("feeds", lang), className="nr-feeds-label")]
    for row in rows:
        status = row.get("status", "stale")
        age = row.get("age_ms")
        chips.append(
            node(
                html.Span,
                [
                    node(html.Span, className="nr-feed-dot"),
                    node(html.Span, row["name"], className="nr-feed-name"),
                    node(html.Span, i18n.t(f"feed_{status}", lang), className="nr-feed-status"),
                    node(
                        html.Span,
                        i18n.t("feed_never", lang) if age is None else i18n.age(age, lang),
                        className="nr-feed-age",
                    ),
                ],
                className=f"nr-feed nr-feed-{status}",
                title=row.get("last_error") or row["name"],
                **{"data-source": row["name"], "data-status": status},
            )
        )
    return chips


def stale_mark(component_id: str, text: str, stale: bool) -> html.Span:
    """A panel's "stale" mark, hidden while its data is fresh."""
    return html.Span(["⚠ ", text], id=component_id, className="nr-data-stale", hidden=not stale)


def kpi(component_id: str, caption: str, value: Any, class_name: str = "") -> html.Div:
    """A big number with its caption; the number carries `component_id`."""
    return html.Div(
        [
            html.Div(str(value), id=component_id, className="nr-kpi-value"),
            html.Div(caption, className="nr-kpi-label"),
        ],
        className=f"nr-kpi {class_name}".strip(),
    )


def stale_banner(component_id: str, lang: str) -> html.Div:
    """Hidden until assets/watchdog.js sees the heartbeat stop (or the data source is down)."""
    return html.Div(
        [html.Span("⚠", className="nr-stale-icon"), html.Span(i18n.t("stale", lang))],
        id=component_id,
        className="nr-stale-banner",
        role="alert",
    )


def link_status(status: str, lang: str) -> list[Any]:
    """The live/degraded indicator: a dot and a word. `status` is live, degraded or connecting."""
    return [
        html.Span(className=f"nr-dot nr-dot-{status}"),
        html.Span(i18n.t(f"link_{status}", lang)),
    ]


def legend(lang: str) -> html.Div:
    """The map's legend (the map itself draws none)."""
    items = [
        ("nr-swatch-busy", "legend_on_task"),
        ("nr-swatch-on", "legend_free"),
        ("nr-swatch-off", "legend_off_duty"),
        ("nr-swatch-old", "legend_old_fix"),
        ("nr-swatch-task", "legend_tasks"),
    ]
    return html.Div(
        [
            html.Span(
                [html.Span(className=f"nr-swatch {cls}"), i18n.t(key, lang)],
                className="nr-legend-item",
            )
            for cls, key in items
        ],
        className="nr-legend",
    )


def due_bar(age_ms: int, due_ms: int | None, lang: str, make: Make = fragments.component) -> Any:
    """A task's age against its deadline: "12分钟 / 30分钟" over a bar that fills, turning
    amber near the deadline and red past it. None for a task without a deadline. Built with
    `make` (Dash components, or fragments.node for HTML)."""
    if not due_ms:
        return None
    share = age_ms / due_ms
    state = "over" if share >= 1 else "near" if share >= 0.75 else "ok"
    # The time allowed is a round number for whoever set it: 29 min 59 s is "30 min".
    allowed = due_ms if due_ms < 60_000 else round(due_ms / 60_000) * 60_000
    text = i18n.t("due_of", lang).format(used=i18n.age(age_ms, lang), due=i18n.age(allowed, lang))
    if state == "over":
        text = f"⚠ {text} · {i18n.t('overdue', lang)}"
    attrs: dict[str, Any] = {"data-due": state}
    return make(
        html.Div,
        [
            make(html.Div, className="nr-due-fill", style={"width": f"{min(1, share):.0%}"}),
            make(html.Span, text, className="nr-due-text"),
        ],
        className=f"nr-due nr-due-{state}",
        **attrs,
    )


def task_list(
    rows: list[dict[str, Any]],
    lang: str,
    pick: Callable[[str], dict[str, str]] | None = None,
    make: Make = fragments.component,
) -> list[Any]:
    """Open tasks as rows: priority, title, reporter, state, age, and (for a task with a
    deadline) its age against the deadline.

    With `pick` (task_id -> component id) each row is a button carrying that id, so a page
    can react to a click on it (the desk shows the task's timeline). Built with `make`: Dash
    components, or fragments.node for a list that only becomes HTML (the wall's).
    """
    if not rows:
        return [make(html.Div, i18n.t("no_tasks", lang), className="nr-empty")]
    out: list[Any] = []
    for row in rows:
        who = row["assignee_name"] or i18n.t("unassigned", lang)
        cells: list[Any] = [
            make(
                html.Span,
                i18n.label("priority", row["priority"], lang),
                className=f"nr-prio nr-prio-{row['priority']}",
            ),
            make(html.Span, row["title"], className="nr-task-title", title=row["title"]),
            make(
                html.Span,
                who,
                className="nr-task-who" + ("" if row["assignee"] else " nr-unassigned"),
            ),
            make(
                html.Span,
                i18n.label("state", row["state"], lang),
                className=f"nr-state nr-state-{row['state']}",
            ),
            make(html.Span, i18n.age(row["age_ms"], lang), className="nr-age"),
        ]
        bar = due_bar(row["age_ms"], row.get("due_ms"), lang, make)
        if bar is not None:
            cells.append(bar)
        data = {"data-task-id": row["task_id"]}
        if pick is None:
            out.append(make(html.Div, cells, className="nr-task-row", **data))
        else:
            out.append(
                make(
                    html.Button,
                    cells,
                    id=pick(row["task_id"]),
                    type="button",
                    className="nr-task-row nr-task-pick",
                    **data,
                )
            )
    return out


def reporter_table(rows: list[dict[str, Any]], lang: str) -> list[Any]:
    """Reporters with duty state, age of the last fix and battery."""
    if not rows:
        return [html.Div(i18n.t("no_reporters", lang), className="nr-empty")]
    columns = ("col_name", "col_duty", "col_fix", "col_battery")
    head = html.Tr([html.Th(i18n.t(key, lang)) for key in columns])
    body = []
    for row in rows:
        duty = "on" if row["on_duty"] else "off"
        age = row["fix_age_ms"]
        fix = (
            i18n.t("never", lang)
            if age is None
            else i18n.t("ago", lang).format(age=i18n.age(age, lang))
        )
        battery = "—" if row["battery"] is None else f"{row['battery']:.0f}%"
        body.append(
            html.Tr(
                [
                    html.Td(row["name"]),
                    html.Td(
                        html.Span(
                            i18n.label("duty", duty, lang), className=f"nr-duty nr-duty-{duty}"
                        )
                    ),
                    html.Td(fix),
                    html.Td(battery),
                ],
                className="nr-reporter-row",
                **{"data-reporter-id": row["reporter_id"]},
            )
        )
    return [html.Table([html.Thead(head), html.Tbody(body)], className="nr-table")]


def last_event_text(state_last: tuple[str, str, int] | None, seen: int, lang: str) -> str:
    """'#12 · 定位 · 王磊 · 14:03:21'; the running number makes every event change the text."""
    if state_last is None:
        return i18n.t("no_events", lang)
    kind, subject, at = state_last
    if kind == "traffic":
        subject = i18n.label("channel", subject, lang)
    parts = [f"#{seen}", i18n.t("ev_" + kind, lang), subject, i18n.clock(at)]
    return " · ".join(part for part in parts if part)
