"""Components only the wall shows: top stories with sparklines, the alert list, the channel
deadline board, the traffic legend and the options notice. Pure: rows in, components out.

The lists the wall updates as HTML fragments (top stories with their CSS sparklines, alerts)
are built of fragments.node, not Dash components: they only ever become HTML, and a Dash
component costs ~10 µs to construct (ten top stories took ~14 ms of the hub's time, now ~3).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dash import html

from dashboards import figures, i18n, model, panels
from dashboards.fragments import node
from dashboards.wall_schedule import Schedule, countdown, hhmm, next_slot
from dispatch import schema

SPARK_BARS = 20
TASK_ROWS = 20  # open tasks listed; more would not fit, and the DOM stays bounded
SOON_MS, URGENT_MS = 30 * 60_000, 10 * 60_000  # the board turns amber, then red


def open_tasks(state: model.LiveState, now: int, lang: str) -> Any:
    """The open-tasks list (breaking and oldest first, at most TASK_ROWS), of plain nodes."""
    return panels.task_list(model.task_rows(state, now, TASK_ROWS), lang, make=node)


def sparkline(values: Sequence[int], colour: str = figures.ON_TASK) -> Any:
    """The hour as SPARK_BARS bars (3 minutes each), drawn with CSS. Not an SVG image: Chromium
    keeps every distinct SVG image it has drawn, so an image per update leaked memory for days
    on end (bench wall_soak)."""
    buckets = [0] * SPARK_BARS
    for i, v in enumerate(values):
        buckets[min(SPARK_BARS - 1, i * SPARK_BARS // max(1, len(values)))] += v
    peak = max(buckets) or 1
    return node(
        html.Div,
        [node(html.Span, style={"height": f"{max(4, round(100 * b / peak))}%"}) for b in buckets],
        className="nr-spark",
        style={"color": colour},
    )


def top_list(rows: Iterable[Mapping[str, Any]], titles: Mapping[str, str], lang: str) -> list[Any]:
    """The most read stories now (stories.top_stories rows), each with its hour's sparkline."""
    out: list[Any] = []
    for rank, row in enumerate(rows, start=1):
        by_channel: Mapping[str, int] = row.get("by_channel") or {}
        lead = max(by_channel, key=lambda ch: by_channel[ch], default="app")
        title = titles.get(row["story_id"]) or row["story_id"]
        out.append(
            node(
                html.Div,
                [
                    node(html.Span, str(rank), className="nr-top-rank"),
                    node(
                        html.Div,
                        [
                            node(html.Div, title, className="nr-top-title", title=title),
                            node(
                                html.Div,
                                i18n.label("channel", lead, lang),
                                className="nr-top-channel",
                            ),
                        ],
                        className="nr-top-text",
                    ),
                    node(
                        html.Span,
                        [f"{row['views']:,}", node(html.Small, i18n.t("top_views", lang))],
                        className="nr-top-views",
                    ),
                    sparkline(
                        row.get("sparkline") or [],
                        figures.CHANNEL_COLOURS.get(lead, figures.ON_TASK),
                    ),
                ],
                className="nr-top-row",
                **{"data-story-id": row["story_id"]},
            )
        )
    return out or [node(html.Div, i18n.t("no_top", lang), className="nr-empty")]


def alert_list(alerts: Iterable[Mapping[str, Any]], lang: str) -> list[Any]:
    """Recent alerts, newest first, coloured by severity."""
    out: list[Any] = []
    for alert in alerts:
        severity = alert.get("severity", "warning")
        out.append(
            node(
                html.Div,
                [
                    node(html.Span, i18n.clock(alert["raised_at"])[:5], className="nr-alert-time"),
                    node(
                        html.Span,
                        i18n.label("alert", alert["kind"], lang),
                        className="nr-alert-kind",
                    ),
                    node(html.Span, alert["text"], className="nr-alert-text", title=alert["text"]),
                ],
                className=f"nr-alert nr-alert-{severity}",
                **{"data-kind": alert["kind"], "data-severity": severity},
            )
        )
    return out or [node(html.Div, i18n.t("no_alerts", lang), className="nr-empty")]


def deadline_board(schedule: Schedule, lang: str, now: int) -> html.Div:
    """One row per channel: its next slot and a countdown. assets/wall_kiosk.js ticks the
    countdowns every second from `data-slots` (China time minutes of the day)."""
    rows: list[Any] = []
    for channel in schedule.channels():
        slots = schedule.slots_of(channel)
        nxt = next_slot(slots, now)
        if nxt is None:
            continue
        slot = nxt.slot
        when = f"{hhmm(slot.start)}–{hhmm(slot.end)}" if slot.window else hhmm(slot.start)
        state = "open" if nxt.open else level(nxt.ms)
        attrs: dict[str, Any] = {
            "data-channel": channel,
            "data-slots": json.dumps([[s.start, s.end, s.name] for s in slots], ensure_ascii=False),
        }
        rows.append(
            html.Div(
                [
                    html.Div(
                        [
                            html.Span(
                                i18n.label("channel", channel, lang), className="nr-dl-channel"
                            ),
                            html.Span(slot.name, className="nr-dl-name"),
                        ],
                        className="nr-dl-head",
                    ),
                    html.Span(when, className="nr-dl-at"),
                    html.Span(
                        i18n.t("dl_open" if nxt.open else "dl_in", lang), className="nr-dl-word"
                    ),
                    html.Span(countdown(nxt.ms), className="nr-dl-count"),
                ],
                className=f"nr-deadline nr-dl-{state}",
                **attrs,
            )
        )
    words: dict[str, Any] = {"data-open": i18n.t("dl_open", lang), "data-in": i18n.t("dl_in", lang)}
    return html.Div(rows, className="nr-deadlines", **words)


def level(ms: int) -> str:
    """How close a start is: urgent, soon or later (the board's colours)."""
    return "urgent" if ms <= URGENT_MS else "soon" if ms <= SOON_MS else "later"


def channel_legend(lang: str) -> html.Div:
    """The traffic chart's legend: a swatch per channel, reach channels dotted."""
    items = []
    for channel in schema.CHANNELS:
        reach = channel in figures.REACH_CHANNELS
        items.append(
            html.Span(
                [
                    html.Span(
                        className="nr-line" + (" nr-line-dotted" if reach else ""),
                        style={"borderColor": figures.CHANNEL_COLOURS[channel]},
                    ),
                    i18n.label("channel", channel, lang),
                ],
                className="nr-legend-item",
            )
        )
    return html.Div(items, className="nr-legend nr-channel-legend")


def stuck_badge(stuck: Sequence[int], lang: str) -> list[Any]:
    """ "⚠ 3 篇滞留" in the pipeline's title bar, or nothing when no story is stuck."""
    total = sum(stuck)
    if not total:
        return []
    return [
        html.Span(
            ["⚠ ", i18n.t("stuck_badge", lang).format(n=total)],
            className="nr-stuck-badge",
            title=i18n.t("stuck_hint", lang),
        )
    ]


def notice(ignored: Sequence[str], schedule_error: str, lang: str) -> list[Any]:
    """The small notice naming what the wall ignored (URL options, a broken schedule file)."""
    out: list[Any] = []
    if ignored:
        out.append(
            html.Span(
                i18n.t("notice_ignored", lang).format(items=", ".join(ignored)),
                className="nr-notice",
            )
        )
    if schedule_error:
        out.append(
            html.Span(i18n.t("schedule_error", lang), className="nr-notice", title=schedule_error)
        )
    return out
