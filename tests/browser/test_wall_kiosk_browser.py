"""The wall's kiosk options in headless Chromium: the language, a subset of panels in a given
order, rotating views, and unknown values ignored with a visible notice (never an error)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from browser_helpers import MARKERS, move, seed_reporters, wall_key

pytestmark = [pytest.mark.browser, pytest.mark.integration]
PANELS = "[...document.querySelectorAll('#wall-grid > [data-panel]')]"


def _open(browser: Browser, url: str) -> Page:
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(url)
    page.wait_for_selector("#wall-grid", timeout=20_000)
    page.wait_for_function(
        "document.querySelector('#wall-heartbeat')?.textContent.startsWith('live')",
        timeout=10_000,
    )
    return page


def _shown(page: Page) -> list[str]:
    return list(
        page.evaluate(
            f"{PANELS}.filter(p => getComputedStyle(p).display !== 'none')"
            ".map(p => p.dataset.panel)"
        )
    )


def test_the_language_comes_from_the_url(server: Any, redis_url: str, browser: Browser) -> None:
    key = wall_key(redis_url)
    zh = _open(browser, f"{server.url}/wall?key={key}&lang=zh")
    text = zh.inner_text("#wall")
    for word in ("指挥大屏", "稿件流程", "热门稿件", "截稿倒计时", "告警", "在岗记者", "电视"):
        assert word in text, word
    assert "Deadline board" not in text and zh.get_attribute("#wall", "lang") == "zh"
    zh.close()
    en = _open(browser, f"{server.url}/wall?key={key}&lang=en")
    text = en.inner_text("#wall")
    for word in ("Command wall", "Stories by stage", "Top stories", "Deadline board", "Alerts"):
        assert word in text, word
    assert "截稿倒计时" not in text and en.get_attribute("#wall", "lang") == "en"
    en.close()


def test_a_subset_of_panels_in_the_order_asked(
    server: Any, redis_url: str, browser: Browser
) -> None:
    ids = seed_reporters(redis_url, 1)
    key = wall_key(redis_url)
    page = _open(browser, f"{server.url}/wall?key={key}&lang=en&panels=tasks,map,deadlines")
    assert page.evaluate(f"{PANELS}.map(p => p.dataset.panel)") == ["tasks", "map", "deadlines"]
    assert page.query_selector("#wall-stages") is None and page.query_selector("#wall-top") is None
    boxes = page.evaluate(
        f"{PANELS}.map(p => {{ const r = p.getBoundingClientRect(); return [r.x, r.width]; }})"
    )
    assert boxes[0][0] < boxes[1][0] < boxes[2][0]  # left to right, in the order asked
    assert boxes[1][1] > boxes[0][1]  # the map's column is the wide one
    assert page.inner_text("#wall-notice") == ""
    # still live
    page.wait_for_function(f"{MARKERS}")
    move(redis_url, ids[0], 27.71)
    page.wait_for_function(
        f"{MARKERS}.some(t => t.lat.some(v => Math.abs(v - 27.71) < 1e-6))", timeout=5_000
    )
    page.close()


def test_views_rotate_in_the_browser(server: Any, redis_url: str, browser: Browser) -> None:
    key = wall_key(redis_url)
    page = _open(
        browser, f"{server.url}/wall?key={key}&lang=en&rotate=5&views=map,traffic|top,tasks"
    )
    assert page.get_attribute("#wall-grid", "data-view") == "0"
    assert _shown(page) == ["map", "traffic"]
    page.wait_for_function(
        "document.querySelector('#wall-grid').dataset.view === '1'", timeout=8_000
    )
    assert _shown(page) == ["top", "tasks"]
    page.wait_for_function(
        "document.querySelector('#wall-grid').dataset.view === '0'", timeout=8_000
    )
    assert _shown(page) == ["map", "traffic"]
    # a graph that was hidden fills its panel again
    page.wait_for_function(
        "document.querySelector('#wall-traffic .main-svg')?.getBoundingClientRect().width > 400",
        timeout=5_000,
    )
    assert page.inner_text("#wall-notice") == ""
    page.close()


def test_unknown_options_are_ignored_with_a_notice(
    server: Any, redis_url: str, browser: Browser
) -> None:
    key = wall_key(redis_url)
    page = _open(
        browser,
        f"{server.url}/wall?key={key}&lang=fr&panels=map,weather,top&rotate=soon&colour=red",
    )
    notice = page.inner_text("#wall-notice")
    for item in ("colour", "lang=fr", "panels=weather", "rotate=soon"):
        assert item in notice, (item, notice)
    assert _shown(page) == ["map", "top"]
    assert page.get_attribute("#wall-grid", "data-rotate") == "0"
    assert page.get_attribute("#wall", "lang") == "en"  # the server's default (NEWSROOM_LANG)
    page.close()
    # Nothing usable at all: every panel, and the notice says why.
    page = _open(browser, f"{server.url}/wall?key={key}&lang=zh&views=|sky|&rotate=1")
    assert _shown(page) == ["map", "stages", "traffic", "top", "tasks", "deadlines", "alerts"]
    notice = page.inner_text("#wall-notice")
    assert notice.startswith("已忽略的选项") and "views=sky" in notice and "rotate=1" in notice
    page.close()
