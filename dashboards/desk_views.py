"""The desk's lists and notes, built from plain values (pure: rows in, components out).

Suggested reporters with the factors behind their rank, place matches and the roster (the
alerts and the story table are in desk_lists.py). Every list item carries data-* attributes
naming what it shows, so tests (and people reading the DOM) can find it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dash import html

from dashboards import i18n, ids_desk
from dispatch import ranking

Row = Mapping[str, Any]


def attrs(values: dict[str, Any]) -> dict[str, Any]:
    """HTML attributes (data-*, aria-*) to spread into a component."""
    return values


def small_button(
    text: str, component_id: str | dict[str, str], extra: str = "", **props: Any
) -> html.Button:
    """A small button that submits nothing (type="button"); `extra` adds classes
    (nr-primary, nr-danger), `props` other properties (hidden, disabled)."""
    return html.Button(
        text,
        id=component_id,
        n_clicks=0,
        type="button",
        className=f"nr-button nr-small {extra}".strip(),
        **props,
    )


# --- suggested reporters ---------------------------------------------------------------------
def _minutes(value: float) -> int:
    return max(1, round(value))


def _skills(skills: Sequence[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(i18n.label("skill", s, lang) for s in skills)


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
