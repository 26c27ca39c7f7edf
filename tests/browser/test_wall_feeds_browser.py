"""The wall's source-health row in headless Chromium: each feed source with its status and age,
updated live; a traffic chart whose sources are all stale says so instead of showing zero."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from browser_helpers import KEYS, arun, wall_key
from dispatch import db, sources
from dispatch.clock import now_ms
from dispatch.sources import Heartbeat

pytestmark = [pytest.mark.browser, pytest.mark.integration]
HOUR = 3_600_000


def beat(redis_url: str, b: Heartbeat) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        try:
            await sources.heartbeat(r, KEYS, b)
        finally:
            await r.aclose()

    arun(go())


def ok(name: str, kind: str, interval_s: float) -> Heartbeat:
    b = Heartbeat(name, kind, interval_s)
    b.succeeded(3, at=now_ms(), next_try=now_ms() + int(interval_s * 1000))
    return b


def stale(name: str, kind: str) -> Heartbeat:
    b = Heartbeat(name, kind, 1.0)
    b.succeeded(40, at=now_ms() - 2 * HOUR, next_try=now_ms() - 2 * HOUR + 1000)
    return b


def failing(name: str, kind: str) -> Heartbeat:
    b = Heartbeat(name, kind, 60.0)
    b.failed("HTTP 503 from https://www.example-xx.cn", at=now_ms(), next_try=now_ms() + 60_000)
    return b


def chip(page: Page, name: str, status: str) -> str:
    selector = f'#wall-feeds .nr-feed[data-source="{name}"][data-status="{status}"]'
    page.wait_for_selector(selector, timeout=15_000)
    return page.inner_text(selector)


def traffic_marked_stale(page: Page) -> bool:
    return bool(page.evaluate("!document.querySelector('#wall-traffic-stale').hidden"))


def test_the_wall_shows_each_source_and_a_stale_one_as_stale(
    server: Any, redis_url: str, browser: Browser
) -> None:
    beat(redis_url, ok("app-rss", "rss", 60))
    beat(redis_url, stale("nginx-web", "accesslog"))
    beat(redis_url, failing("wp", "wordpress"))
    key = wall_key(redis_url)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{server.url}/wall?key={key}&lang=en")

    name, label, age, unit = chip(page, "app-rss", "ok").split()
    assert (name, label, unit) == ("app-rss", "OK", "s") and int(age) < 30
    assert chip(page, "nginx-web", "stale").split() == ["nginx-web", "Stale", "2", "h"]
    assert chip(page, "wp", "failing").split() == ["wp", "Failing", "never"]
    assert page.get_attribute('[data-source="wp"]', "title") == (
        "HTTP 503 from https://www.example-xx.cn"
    )
    assert page.inner_text("#wall-feeds .nr-feeds-label") == "Sources"
    colours = page.evaluate(
        "[...document.querySelectorAll('#wall-feeds .nr-feed')].map(e => getComputedStyle(e).color)"
    )
    assert len(set(colours)) == 3, "ok, stale and failing look different"
    # The only traffic source is stale: the chart says so rather than showing zero readers.
    assert traffic_marked_stale(page)
    assert "Traffic data stale" in page.inner_text("#wall-traffic-stale")

    # The access log comes back: pushed to the open page, no reload.
    beat(redis_url, ok("nginx-web", "accesslog", 1))
    chip(page, "nginx-web", "ok")
    page.wait_for_function("document.querySelector('#wall-traffic-stale').hidden", timeout=5_000)
    page.close()

    beat(redis_url, stale("nginx-web", "accesslog"))
    zh = browser.new_page(viewport={"width": 1920, "height": 1080})
    zh.goto(f"{server.url}/wall?key={key}&lang=zh")
    assert chip(zh, "app-rss", "ok").split()[:2] == ["app-rss", "正常"]
    assert chip(zh, "nginx-web", "stale").split() == ["nginx-web", "数据延迟", "2小时"]
    assert chip(zh, "wp", "failing").split() == ["wp", "故障", "从未成功"]
    assert zh.inner_text("#wall-feeds .nr-feeds-label") == "数据源"
    assert traffic_marked_stale(zh) and "流量数据延迟" in zh.inner_text("#wall-traffic-stale")
    zh.close()


def test_the_header_stays_put_while_the_source_ages_tick(
    server: Any, redis_url: str, browser: Browser
) -> None:
    # The ages change every few seconds on a wall that runs for days: the chips and the
    # ticker's end keep their places (no jitter, and no layout shift for Chromium to record).
    beat(redis_url, ok("app-rss", "rss", 60))
    beat(redis_url, ok("nginx-web", "accesslog", 1))
    key = wall_key(redis_url)
    for lang, ages in (("en", ["5 s", "15 s", "59 min", "2 h"]), ("zh", ["5秒", "15秒", "59分钟"])):
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(f"{server.url}/wall?key={key}&lang={lang}")
        chip(page, "nginx-web", "ok")
        places = []
        for age in ages:
            places.append(
                page.evaluate(
                    """age => {
                      document.querySelectorAll('#wall-feeds .nr-feed-age')
                        .forEach(e => { e.textContent = age; });
                      const end = document.querySelector('.nr-ticker-end');
                      return [end, ...document.querySelectorAll('#wall-feeds .nr-feed')]
                        .map(e => Math.round(e.getBoundingClientRect().left * 10) / 10);
                    }""",
                    age,
                )
            )
        assert all(p == places[0] for p in places), (lang, places)
        page.close()
