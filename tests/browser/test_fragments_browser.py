"""assets/fragments.js brings a fragment element's content up to date in place: what it shows
is what the new HTML says, and the nodes that did not change are the same nodes (the wall
updates its lists every few seconds for days; see docs/performance.md, "Wall soak")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dash import html
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playwright.sync_api import Browser, Page

from dashboards import fragments

pytestmark = [pytest.mark.browser]
SCRIPT = Path(__file__).resolve().parents[2] / "assets" / "fragments.js"
# Show `fresh` in #list and report what the page holds, and whether the first row and its
# text node are the very nodes they were before.
SHOW = """(fresh) => {
  const list = document.getElementById('list');
  const row = list.firstElementChild, text = row && row.firstChild;
  list.setAttribute('data-html', fresh);
  return new Promise((done) => setTimeout(() => {
    const parsed = document.createElement('template');
    parsed.innerHTML = fresh;
    const now = list.firstElementChild;
    done({shown: list.innerHTML, expected: parsed.innerHTML,
          sameRow: row !== null && now === row,
          sameText: text !== null && now !== null && now.firstChild === text});
  }, 0));
}"""


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Page]:
    page = browser.new_page()
    page.set_content('<div id="list" data-html=""></div>')
    page.add_script_tag(path=str(SCRIPT))
    yield page
    page.close()


def show(page: Page, node: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(SHOW, fragments.to_html(node))
    return result


def rows(*texts: str, cls: str = "row") -> list[Any]:
    return [html.Div([html.Span(t, className="title"), html.Span("1 min")], className=cls)
            for t in texts]  # fmt: skip


def test_a_changed_text_is_changed_in_place(page: Page) -> None:
    show(page, rows("Flood on the ring road", "School opens"))
    seen = show(page, rows("Flood on the ring road (update)", "School opens"))
    assert seen["shown"] == seen["expected"]
    assert seen["sameRow"] and seen["sameText"]


def test_rows_added_removed_and_retagged(page: Page) -> None:
    show(page, rows("a", "b"))
    grown = show(page, rows("a", "b", "c", "d"))
    assert grown["shown"] == grown["expected"] and grown["sameRow"]
    shrunk = show(page, rows("a"))
    assert shrunk["shown"] == shrunk["expected"] and shrunk["sameRow"]
    retagged = show(page, [html.P("a")])
    assert retagged["shown"] == retagged["expected"] and not retagged["sameRow"]
    emptied = show(page, [])
    assert emptied["shown"] == emptied["expected"] == ""


def test_attributes_follow(page: Page) -> None:
    show(page, [html.Div("a", className="row late", title="overdue", **{"data-id": "t1"})])
    seen = show(page, [html.Div("a", className="row", **{"data-id": "t2"})])
    assert seen["shown"] == seen["expected"] == '<div class="row" data-id="t2">a</div>'
    assert seen["sameRow"]


TEXT = st.text(alphabet="ab <&>\"'é中", max_size=6)
LEAF = st.one_of(TEXT, st.builds(html.B, TEXT))
TREE = st.recursive(
    LEAF,
    lambda inner: st.one_of(
        st.builds(html.Div, st.lists(inner, max_size=3), className=st.sampled_from(["a", "b"])),
        st.builds(html.Span, st.lists(inner, max_size=3), title=st.none() | TEXT),
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=st.lists(TREE, max_size=4), after=st.lists(TREE, max_size=4))
def test_any_list_becomes_what_its_html_says(page: Page, before: Any, after: Any) -> None:
    show(page, before)
    seen = show(page, after)
    assert seen["shown"] == seen["expected"]
