"""The desk's story table: filtered by desk, stage and channel, kept current by push, and a
story opens its after-action review."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from test_desk_support import choose, open_desk, story, supervisor, traffic

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def shown(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "#desk-stories [data-story-id]", "rows => rows.map(r => r.dataset.storyId)"
    )


def wait_shown(page: Page, expected: list[str]) -> None:
    page.wait_for_function(
        "(ids) => [...document.querySelectorAll('#desk-stories [data-story-id]')]"
        ".map(r => r.dataset.storyId).join() === ids.join()",
        arg=expected,
        timeout=10_000,
    )


def test_stories_filtered_by_desk_stage_and_channel_live(
    server: Any, redis_url: str, browser: Browser
) -> None:
    # The table lists the newest first: s-a, s-b, ...
    story(redis_url, "s-e", "湘乡一中秋季开学", "editing", 50, desk="education")
    story(
        redis_url,
        "s-d",
        "村村响: 防汛转移通知",
        "published",
        40,
        desk="emergency",
        channels=["sms", "radio"],
    )
    story(redis_url, "s-c", "东郊乡乡村振兴示范片", "review", 30, desk="rural", channels=["wechat"])
    story(
        redis_url,
        "s-b",
        "城区新增两条公交线路",
        "published",
        20,
        desk="transport",
        channels=["web", "app"],
    )
    story(
        redis_url,
        "s-a",
        "涟水河水位上涨",
        "reporting",
        10,
        desk="emergency",
        channels=["app", "wechat"],
    )
    traffic(redis_url, "s-b", 3, {"web": 10, "app": 5})
    page = open_desk(browser, server.url, supervisor(redis_url, "王主任"))

    wait_shown(page, ["s-a", "s-b", "s-c", "s-d", "s-e"])
    assert page.inner_text("#desk-stories-count") == "5 of 5"
    assert page.inner_text("#desk-stories [data-story-id='s-b'] .nr-story-views") == "45"

    choose(page, "desk-filter-desk", "emergency")
    wait_shown(page, ["s-a", "s-d"])
    assert page.inner_text("#desk-filter-desk") == "Emergency"
    choose(page, "desk-filter-stage", "published")
    wait_shown(page, ["s-d"])
    choose(page, "desk-filter-channel", "wechat")
    wait_shown(page, [])
    assert "No stories match" in page.inner_text("#desk-stories")
    assert page.inner_text("#desk-stories-count") == "0 of 5"

    # The CMS publishes s-a: it joins the filtered table by push.
    story(
        redis_url,
        "s-a",
        "涟水河水位上涨",
        "published",
        desk="emergency",
        channels=["app", "wechat"],
    )
    wait_shown(page, ["s-a"])
    assert page.get_attribute("#desk-stories [data-story-id='s-a']", "data-stage") == "published"

    page.click("#desk-stories [data-story-id='s-a']")
    title = page.wait_for_selector("#desk-review-title [data-kind=story][data-subject='s-a']")
    assert title.inner_text() == "Story: 涟水河水位上涨"
    assert not page.is_disabled("#desk-review-csv")
    assert page.is_visible("#desk-review-follow")
    page.context.close()
