"""The desk's alert list and story table, built from plain values (pure: rows in, components
out): alerts with their acknowledgements, the stories with their filters, and the story a
task produced. Like desk_views.py, every item carries data-* attributes naming what it shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dash import html

from dashboards import i18n, ids_desk
from dashboards.desk_views import Row, attrs, small_button

# --- alerts ----------------------------------------------------------------------------------
FOLLOW_UP_KINDS = frozenset({"traffic_spike", "story_overdue"})
TASK_KINDS = frozenset({"task_expired", "task_declined", "no_candidate"})


def alert_rows(alerts: Iterable[Row], lang: str) -> list[Any]:
    """Recent alerts (escalation.alerts_with_acks), newest first: kind, time, text, and either
    who acknowledged it or the button to; a follow-up for story alerts, a link for task ones."""
    rows: list[Any] = []
    for alert in alerts:
        aid, kind, ack = alert["alert_id"], alert["kind"], alert.get("ack")
        buttons: list[Any] = []
        if kind in FOLLOW_UP_KINDS:
            follow = {"type": ids_desk.DESK_ALERT_FOLLOW, "alert": aid, "story": alert["subject"]}
            buttons.append(small_button(i18n.t("dk_follow", lang), follow))
        elif kind in TASK_KINDS:
            show = {"type": ids_desk.DESK_ALERT_TASK, "task": alert["subject"]}
            buttons.append(small_button(i18n.t("dk_show_task", lang), show))
        state: Any
        if ack:
            state = html.Span(
                i18n.t("dk_acked", lang).format(who=ack["by"], at=i18n.clock(ack["at"])),
                className="nr-dk-acked",
            )
        else:
            ack_id = {"type": ids_desk.DESK_ALERT_ACK, "alert": aid}
            state = small_button(i18n.t("dk_ack", lang), ack_id, "nr-primary")
        severity = alert.get("severity", "warning")
        rows.append(
            html.Li(
                [
                    html.Div(
                        [
                            html.Span(className=f"nr-dk-sev nr-dk-sev-{severity}"),
                            html.Span(
                                i18n.label("alert", kind, lang), className="nr-dk-alert-kind"
                            ),
                            html.Span(
                                i18n.clock(alert["raised_at"]),
                                className="nr-muted nr-dk-alert-time",
                            ),
                        ],
                        className="nr-dk-alert-head",
                    ),
                    html.Div(alert["text"], className="nr-dk-alert-text", title=alert["text"]),
                    html.Div([*buttons, state], className="nr-dk-alert-actions"),
                ],
                className=f"nr-dk-alert nr-dk-alert-{severity}"
                + (" nr-dk-alert-acked" if ack else ""),
                **attrs(
                    {
                        "data-alert-id": aid,
                        "data-kind": kind,
                        "data-subject": alert["subject"],
                        "data-acked": "1" if ack else "0",
                    }
                ),
            )
        )
    if not rows:
        return [html.Div(i18n.t("dk_no_alerts", lang), className="nr-empty")]
    return [html.Ol(rows, className="nr-dk-alert-list")]


def unacked(alerts: Iterable[Row]) -> int:
    return sum(1 for a in alerts if not a.get("ack"))


# --- stories ---------------------------------------------------------------------------------
def filter_stories(stories: Iterable[Row], desk: Any, stage: Any, channel: Any) -> list[Row]:
    """The stories on one desk, in one stage, published to one channel (None: any)."""
    return [
        s
        for s in stories
        if (not desk or s.get("desk") == desk)
        and (not stage or s.get("stage") == stage)
        and (not channel or channel in (s.get("channels") or ()))
    ]


def desk_options(stories: Iterable[Row], lang: str) -> list[dict[str, str]]:
    desks = sorted({str(s.get("desk") or "news") for s in stories})
    return [{"label": i18n.label("desk", d, lang), "value": d} for d in desks]


def story_rows(
    stories: Sequence[Row], views: Mapping[str, int], now: int, lang: str, limit: int = 100
) -> list[Any]:
    """The story table: title, desk, stage, channels, last update and views in the last hour;
    each row is a button that shows the story's after-action review."""
    if not stories:
        return [html.Div(i18n.t("dk_no_stories", lang), className="nr-empty")]
    head = html.Div(
        [
            html.Span(i18n.t(k, lang))
            for k in (
                "dk_col_story",
                "dk_col_desk",
                "dk_col_stage",
                "dk_col_channels",
                "dk_col_updated",
                "dk_col_views",
            )
        ],
        className="nr-story-row nr-story-head",
    )
    rows: list[Any] = [head]
    for story in stories[:limit]:
        sid, stage = story["story_id"], story["stage"]
        channels = story.get("channels") or []
        rows.append(
            html.Button(
                [
                    html.Span(story["title"], className="nr-story-title", title=story["title"]),
                    html.Span(
                        i18n.label("desk", story.get("desk") or "news", lang),
                        className="nr-story-desk",
                    ),
                    html.Span(
                        i18n.label("stage", stage, lang), className=f"nr-stage nr-stage-{stage}"
                    ),
                    html.Span(
                        " ".join(i18n.label("channel", c, lang) for c in channels) or "—",
                        className="nr-story-channels",
                    ),
                    html.Span(
                        i18n.t("ago", lang).format(age=i18n.age(now - story["updated_at"], lang)),
                        className="nr-muted",
                    ),
                    html.Span(f"{views.get(sid, 0):,}", className="nr-story-views"),
                ],
                id={"type": ids_desk.DESK_STORY_ROW, "story": sid},
                type="button",
                n_clicks=0,
                className="nr-story-row nr-story-pick",
                **attrs(
                    {
                        "data-story-id": sid,
                        "data-stage": stage,
                        "data-desk": story.get("desk") or "",
                        "data-channels": " ".join(channels),
                    }
                ),
            )
        )
    return rows


def story_box(story: Row | None, story_id: str | None, lang: str) -> list[Any]:
    """The story a task produced: title and stage (or why there is none yet)."""
    if not story_id:
        return [html.Span(i18n.t("dk_no_story", lang), className="nr-muted")]
    if story is None:
        return [
            html.Span(i18n.t("dk_story_missing", lang).format(id=story_id), className="nr-muted")
        ]
    stage = story["stage"]
    return [
        html.Div(
            [
                html.Span(i18n.t("dk_task_story", lang) + ": ", className="nr-muted"),
                html.B(story["title"], className="nr-story-title"),
                html.Span(i18n.label("stage", stage, lang), className=f"nr-stage nr-stage-{stage}"),
            ],
            className="nr-task-story-line",
            **attrs({"data-story-id": story_id, "data-stage": stage}),
        )
    ]
