"""The wall's kiosk options, read from its URL, and where each panel goes (pure).

    /wall?key=…&lang=zh|en
         &panels=map,stages,traffic,top,tasks,deadlines,alerts   which panels, in that order
         &rotate=<seconds>&views=map,traffic|top,tasks           rotate between views

A view is a list of panels. The panels fill a grid column by column, two rows to a column; the
map takes a whole (wider) column, and a panel left alone in its column takes all of it. With
`views`, every panel of every view is rendered once, and assets/wall_kiosk.js switches between
the views' placements every `rotate` seconds (30 if not given) without asking the server.
Unknown or malformed values are ignored and named in a small notice on the wall; the page is
always rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PANELS = ("map", "stages", "traffic", "top", "tasks", "deadlines", "alerts")
KNOWN_PARAMS = ("key", "lang", "panels", "rotate", "views")
TALL = frozenset({"map"})  # panels that take a whole column
WIDE_FR, NARROW_FR = "1.7fr", "1fr"
ROTATE_DEFAULT_S = 30
ROTATE_BOUNDS_S = (5, 3600)
MAX_VIEWS = 6

# (column, row, rows spanned), 1-based
Place = tuple[int, int, int]


@dataclass(frozen=True)
class View:
    """One arrangement of panels: the grid's columns and each panel's place in it."""

    panels: tuple[str, ...]
    columns: str
    places: dict[str, Place]

    def as_json(self) -> dict[str, Any]:
        return {"columns": self.columns, "places": {k: list(v) for k, v in self.places.items()}}


@dataclass(frozen=True)
class Options:
    lang: str | None  # the requested language, if valid (else the default's)
    views: tuple[View, ...]  # at least one
    rotate_s: int = 0  # 0: no rotation
    ignored: tuple[str, ...] = field(default_factory=tuple)  # "name=value" shown in a notice

    @property
    def panels(self) -> tuple[str, ...]:
        """Every panel rendered, each once, in the order the views first name it."""
        return tuple(dict.fromkeys(p for view in self.views for p in view.panels))


def place(panels: tuple[str, ...]) -> View:
    """Lay `panels` out in a two-row grid, column by column (see the module docstring)."""
    places: dict[str, Place] = {}
    columns: list[str] = []
    row = 1
    for i, name in enumerate(panels):
        col = len(columns) + 1
        following = panels[i + 1] if i + 1 < len(panels) else None
        if name in TALL:
            places[name] = (col, 1, 2)
            columns.append(WIDE_FR)
        elif row == 1 and (following is None or following in TALL):
            places[name] = (col, 1, 2)
            columns.append(NARROW_FR)
        elif row == 1:
            places[name] = (col, 1, 1)
            row = 2
        else:
            places[name] = (col, 2, 1)
            columns.append(NARROW_FR)
            row = 1
    return View(panels, " ".join(columns) or NARROW_FR, places)


def _panel_list(text: str, ignored: list[str], param: str) -> tuple[str, ...]:
    names: list[str] = []
    for raw in text.split(","):
        name = raw.strip().lower()
        if not name:
            continue
        if name not in PANELS:
            ignored.append(f"{param}={raw.strip()[:30]}")
        elif name not in names:
            names.append(name)
    return tuple(names)


def _first(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


def parse(params: dict[str, list[str]], langs: tuple[str, ...]) -> Options:
    """Options from the query (`urllib.parse.parse_qs` output). Never raises."""
    ignored = [f"{name}" for name in params if name not in KNOWN_PARAMS][:5]
    lang = _first(params, "lang")
    if lang is not None and lang not in langs:
        ignored.append(f"lang={lang[:10]}")
        lang = None

    views: list[tuple[str, ...]] = []
    views_text = _first(params, "views")
    if views_text is not None:
        for part in views_text.split("|")[:MAX_VIEWS]:
            panels = _panel_list(part, ignored, "views")
            if panels:
                views.append(panels)
        if not views:
            ignored.append("views")
    panels_text = _first(params, "panels")
    if panels_text is not None and views:
        ignored.append("panels")  # views= names the panels itself
    elif panels_text is not None:
        panels = _panel_list(panels_text, ignored, "panels")
        if panels:
            views.append(panels)
        elif "panels" not in {item.split("=")[0] for item in ignored}:
            ignored.append("panels")
    if not views:
        views.append(PANELS)

    rotate_s = 0
    rotate_text = _first(params, "rotate")
    if rotate_text is not None:
        low, high = ROTATE_BOUNDS_S
        if rotate_text.strip().isdigit() and low <= int(rotate_text) <= high:
            rotate_s = int(rotate_text)
        else:
            ignored.append(f"rotate={rotate_text[:10]}")
    if len(views) > 1:
        rotate_s = rotate_s or ROTATE_DEFAULT_S
    elif rotate_s:
        ignored.append("rotate")  # one view: nothing to rotate between
        rotate_s = 0
    return Options(lang, tuple(place(v) for v in views), rotate_s, tuple(ignored))
