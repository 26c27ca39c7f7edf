"""The desk's lists and notes, built from plain values (pure: rows in, components out).

Suggested reporters with the factors behind their rank, place matches, alerts with their
acknowledgements, the story table and the roster. Every list item carries data-* attributes
naming what it shows, so tests (and people reading the DOM) can find it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dash import html

from dashboards import i18n, i18n_desk, ids_desk
from dispatch import ranking

Row = Mapping[str, Any]


def attrs(values: dict[str, Any]) -> dict[str, Any]:
    """HTML attributes (data-*, aria-*) to spread into a component."""
    return values


def label(kind: str, value: str, lang: str) -> str:
    """A display name from the wall's label tables, else the desk's, else the value itself."""
    if value in i18n.LABELS.get(kind, {}):
        return i18n.label(kind, value, lang)
    return i18n_desk.label(kind, value, lang)


# --- suggested reporters ---------------------------------------------------------------------
def _minutes(value: float) -> int:
    return max(1, round(value))


def _skills(skills: Sequence[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(label("skill", s, lang) for s in skills)


def factor_chips(f: Mapping[str, Any], lang: str) -> list[html.Span]:
    """Distance, travel time, fix age, battery and workload as short chips, each marked
    (class nr-chip-warn) when it counts against the reporter."""
    eta_key = "dk_eta_foot" if f["mode"] == "on foot" else "dk_eta_car"
    chips = [
        ("km", i18n.t("km", lang).format(d=f["distance_km"]), False),
        ("eta", i18n.t(eta_key, lang).format(n=_minutes(f["eta_min"])), False),
    ]
    age = f.get("fix_age_s")
    fix = (
        i18n.t("dk_fix_none", lang)
        if age is None
        else i18n.t("dk_fix", lang).format(age=i18n.age(age * 1000, lang))
    )
    chips.append(("fix", fix, bool(f.get("stale"))))
    battery = f.get("battery")
    if battery is None:
        chips.append(("battery", i18n.t("dk_battery_unknown", lang), False))
    else:
        low = battery < ranking.BATTERY_LOW
        chips.append(("battery", i18n.t("dk_battery", lang).format(n=round(battery)), low))
    load = int(f.get("workload") or 0)
    chips.append(
        (
            "load",
            i18n.t("dk_tasks", lang).format(n=load) if load else i18n.t("dk_free", lang),
            load > 0,
        )
    )
    return [
        html.Span(
            text,
            className=f"nr-chip nr-chip-{kind}" + (" nr-chip-warn" if warn else ""),
            **attrs({"data-factor": kind}),
        )
        for kind, text, warn in chips
    ]


def why(f: Mapping[str, Any], lang: str) -> str:
    """Why a reporter ranks where they do, in the page's language (ranking.why's facts)."""
    parts = [c.children for c in factor_chips(f, lang)]
    if f.get("battery") is not None and f["battery"] < ranking.BATTERY_LOW:
        key = "dk_critical" if f["battery"] < ranking.BATTERY_CRITICAL else "dk_low"
        parts[3] = f"{parts[3]} ({i18n.t(key, lang)})"
    if f.get("stale"):
        parts[2] = f"{parts[2]} ({i18n.t('dk_stale', lang)})"
    if f.get("has_skills"):
        parts.append(i18n.t("dk_has", lang).format(skills=_skills(f["has_skills"][:4], lang)))
    if f.get("missing_skills"):
        parts.append(i18n.t("dk_missing", lang).format(skills=_skills(f["missing_skills"], lang)))
    return (" · " if lang == "zh" else ", ").join(str(p) for p in parts)


def suggestions(ranked: Sequence[Row], lang: str) -> Any:
    """reporters.nearest's answer: one item per reporter, best first."""
    if not ranked:
        return html.Div(i18n.t("no_suggestions", lang), className="nr-muted")
    items = [
        html.Li(
            [
                html.Div(
                    [
                        html.B(rep.get("name") or rep["reporter_id"]),
                        html.Span(f"#{rep.get('rank', i + 1)}", className="nr-muted nr-rank"),
                    ],
                    className="nr-sg-head",
                ),
                html.Div(factor_chips(rep["factors"], lang), className="nr-chips"),
                html.Div(why(rep["factors"], lang), className="nr-muted nr-why"),
            ],
            **attrs({"data-reporter-id": rep["reporter_id"]}),
        )
        for i, rep in enumerate(ranked)
    ]
    return [
        html.Div(i18n.t("dk_ranked_by", lang), className="nr-muted nr-sg-note"),
        html.Ol(items, className="nr-sg-list"),
    ]


def assignee_options(ranked: Sequence[Row], lang: str) -> list[dict[str, str]]:
    options = [{"label": i18n.t("assign_later", lang), "value": ""}]
    for rep in ranked:
        f = rep["factors"]
        eta = _minutes(f["eta_min"])
        text = (
            f"{rep.get('name') or rep['reporter_id']} · "
            + i18n.t("km", lang).format(d=f["distance_km"])
            + " · "
            + i18n.t("dk_eta_short", lang).format(n=eta)
        )
        options.append({"label": text, "value": rep["reporter_id"]})
    return options


# --- places ----------------------------------------------------------------------------------
def place_hits(places: Sequence[Row], point: tuple[float, float] | None, lang: str) -> list[Any]:
    """The places matching what was typed (and the typed point itself), as buttons whose
    pattern ids carry the point, so picking one needs no server round trip."""
    hits: list[Any] = []
    if point is not None:
        text = i18n.t("dk_place_point", lang).format(lat=point[0], lon=point[1])
        hits.append((text, "", point[0], point[1]))
    hits += [(p["name"], p["name"], p["lat"], p["lon"]) for p in places]
    return [
        html.Button(
            text,
            id={
                "type": ids_desk.DESK_PLACE_HIT,
                "name": name,
                "lat": f"{lat:.6f}",
                "lon": f"{lon:.6f}",
            },
            type="button",
            className="nr-place-hit",
            n_clicks=0,
            **attrs({"data-place": name or text}),
        )
        for text, name, lat, lon in hits
    ]


def place_note(point: tuple[float, float], near: tuple[Row, float] | None, lang: str) -> Any:
    """The form's point and the nearest named place."""
    coords = html.Span(f"{point[0]:.5f}, {point[1]:.5f}", className="nr-coords")
    if near is None:
        return [coords]
    place, km = near
    key = "dk_place_at" if km < 0.15 else "dk_place_near"
    text = i18n.t(key, lang).format(name=place["name"], km=km)
    return [coords, html.Span(text, className="nr-near", **attrs({"data-near": place["name"]}))]


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
            buttons.append(
                html.Button(
                    i18n.t("dk_follow", lang),
                    type="button",
                    n_clicks=0,
                    className="nr-button nr-small",
                    id={
                        "type": ids_desk.DESK_ALERT_FOLLOW,
                        "alert": aid,
                        "story": alert["subject"],
                    },
                )
            )
        elif kind in TASK_KINDS:
            buttons.append(
                html.Button(
                    i18n.t("dk_show_task", lang),
                    type="button",
                    n_clicks=0,
                    className="nr-button nr-small",
                    id={"type": ids_desk.DESK_ALERT_TASK, "task": alert["subject"]},
                )
            )
        state: Any
        if ack:
            state = html.Span(
                i18n.t("dk_acked", lang).format(who=ack["by"], at=i18n.clock(ack["at"])),
                className="nr-dk-acked",
            )
        else:
            state = html.Button(
                i18n.t("dk_ack", lang),
                type="button",
                n_clicks=0,
                className="nr-button nr-small nr-primary",
                id={"type": ids_desk.DESK_ALERT_ACK, "alert": aid},
            )
        severity = alert.get("severity", "warning")
        rows.append(
            html.Li(
                [
                    html.Div(
                        [
                            html.Span(className=f"nr-dk-sev nr-dk-sev-{severity}"),
                            html.Span(label("alert", kind, lang), className="nr-dk-alert-kind"),
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
    return [{"label": label("desk", d, lang), "value": d} for d in desks]


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
                        label("desk", story.get("desk") or "news", lang), className="nr-story-desk"
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


# --- roster ----------------------------------------------------------------------------------
def roster(rows: Sequence[Row], tasks: Iterable[Row], lang: str) -> list[Any]:
    """Reporters with duty state, the task they hold now, the age of their fix and battery."""
    if not rows:
        return [html.Div(i18n.t("no_reporters", lang), className="nr-empty")]
    holding: dict[str, Row] = {}
    for open_task in sorted(tasks, key=lambda t: t.get("created_at") or 0):
        if open_task.get("assignee"):
            holding[open_task["assignee"]] = open_task
    head = html.Tr(
        [
            html.Th(i18n.t(k, lang))
            for k in ("col_name", "col_duty", "dk_col_task", "col_fix", "col_battery")
        ]
    )
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
        low = row["battery"] is not None and row["battery"] < ranking.BATTERY_LOW
        task = holding.get(row["reporter_id"])
        doing: Any = (
            "—"
            if task is None
            else [
                html.Span(task["title"], className="nr-roster-task", title=task["title"]),
                html.Span(
                    i18n.label("state", task["state"], lang),
                    className=f"nr-state nr-state-{task['state']}",
                ),
            ]
        )
        body.append(
            html.Tr(
                [
                    html.Td(row["name"]),
                    html.Td(
                        html.Span(
                            i18n.label("duty", duty, lang), className=f"nr-duty nr-duty-{duty}"
                        )
                    ),
                    html.Td(doing, className="nr-roster-doing"),
                    html.Td(fix),
                    html.Td(battery, className="nr-low" if low else None),
                ],
                className="nr-reporter-row",
                **attrs(
                    {
                        "data-reporter-id": row["reporter_id"],
                        "data-duty": duty,
                        "data-task-id": task["task_id"] if task else "",
                    }
                ),
            )
        )
    return [html.Table([html.Thead(head), html.Tbody(body)], className="nr-table nr-roster")]
