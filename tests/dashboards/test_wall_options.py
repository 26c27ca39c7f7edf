"""The wall's kiosk options from its URL, and where each panel goes (pure)."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from dashboards import wall_options
from dashboards.wall_options import PANELS, place

LANGS = ("zh", "en")


def opts(query: str) -> wall_options.Options:
    return wall_options.parse(parse_qs(query), LANGS)


def test_no_options_show_every_panel_with_the_map_in_a_wide_column() -> None:
    options = opts("key=k")
    assert options.panels == PANELS and options.rotate_s == 0 and options.ignored == ()
    [view] = options.views
    assert view.places["map"] == (1, 1, 2)
    assert (view.places["stages"], view.places["traffic"]) == ((2, 1, 1), (2, 2, 1))
    assert (view.places["deadlines"], view.places["alerts"]) == ((4, 1, 1), (4, 2, 1))
    assert view.columns == "1.7fr 1fr 1fr 1fr"


@pytest.mark.parametrize(
    ("panels", "places"),
    [
        (("top",), {"top": (1, 1, 2)}),
        (("tasks", "map"), {"tasks": (1, 1, 2), "map": (2, 1, 2)}),
        (("top", "tasks", "alerts"), {"top": (1, 1, 1), "tasks": (1, 2, 1), "alerts": (2, 1, 2)}),
        (("top", "map", "tasks"), {"top": (1, 1, 2), "map": (2, 1, 2), "tasks": (3, 1, 2)}),
    ],
)
def test_a_panel_alone_in_its_column_takes_all_of_it(
    panels: tuple[str, ...], places: dict[str, tuple[int, int, int]]
) -> None:
    assert place(panels).places == places


def test_panels_in_the_order_asked_and_unknown_ones_named() -> None:
    options = opts("key=k&panels=tasks,Map,weather,tasks,,top")
    assert options.panels == ("tasks", "map", "top")
    assert options.ignored == ("panels=weather",)


def test_views_rotate_every_so_many_seconds() -> None:
    options = opts("views=map,traffic|top,tasks&rotate=15")
    assert [v.panels for v in options.views] == [("map", "traffic"), ("top", "tasks")]
    assert options.panels == ("map", "traffic", "top", "tasks")
    assert options.rotate_s == 15 and options.ignored == ()
    assert opts("views=map|top").rotate_s == wall_options.ROTATE_DEFAULT_S


@pytest.mark.parametrize(
    ("query", "ignored"),
    [
        ("lang=fr", ["lang=fr"]),
        ("rotate=abc&views=map|top", ["rotate=abc"]),
        ("rotate=1&views=map|top", ["rotate=1"]),
        ("rotate=30", ["rotate"]),  # one view: nothing to rotate
        ("views=|sky|", ["views=sky", "views"]),
        ("panels=,", ["panels"]),
        ("views=map|top&panels=tasks", ["panels"]),
        ("colour=red&size=4", ["colour", "size"]),
    ],
)
def test_unknown_or_malformed_values_are_ignored_and_named(query: str, ignored: list[str]) -> None:
    options = opts(query)
    assert list(options.ignored) == ignored
    assert options.views  # always something to show


def test_a_view_as_json_for_the_browser() -> None:
    view = place(("map", "top"))
    assert view.as_json() == {
        "columns": "1.7fr 1fr",
        "places": {"map": [1, 1, 2], "top": [2, 1, 2]},
    }
