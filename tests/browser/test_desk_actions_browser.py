"""Two supervisors at two desks act on one task: each confirms what they saw (its version), so
the one who decided on an old version gets the server's reason instead of overwriting the
other's change; and a task is linked to the story it produced, whose audience appears."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from browser_helpers import KEYS, arun
from dispatch import db, tasks
from test_desk_support import make_reporters, open_desk, story, supervisor, traffic

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def dispatch(page: Page, title: str) -> str:
    """Create a task from the form (to the nearest reporter); its id."""
    page.fill("#desk-title", title)
    page.click("#desk-suggest")
    page.wait_for_selector("#desk-suggestions li[data-reporter-id]", timeout=10_000)
    page.click("#desk-dispatch")
    ok = page.wait_for_selector("#desk-result .nr-ok[data-task-id]", timeout=10_000)
    task_id = ok.get_attribute("data-task-id")
    assert task_id
    return task_id


def show(page: Page, task_id: str) -> None:
    page.click(f"#desk-tasks [data-task-id='{task_id}']", timeout=10_000)
    page.wait_for_selector(f"#desk-timeline [data-task-id='{task_id}']", timeout=5_000)


def arm(page: Page, button: str, version: int) -> None:
    """Open an action's confirmation; it names the version it was opened on."""
    page.click(f"#{button}")
    page.wait_for_selector("#desk-action-form:not([hidden])", timeout=5_000)
    page.wait_for_function(
        "(v) => document.querySelector('#desk-action-text').innerText.includes(`version ${v}`)",
        arg=version,
        timeout=5_000,
    )


def confirm(page: Page) -> Any:
    page.click("#desk-action-confirm")
    return page.wait_for_selector("#desk-action-result > div", timeout=10_000)


def stored(redis_url: str, task_id: str) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        r = db.connect(redis_url)
        try:
            return await tasks.get(r, KEYS, task_id)
        finally:
            await r.aclose()

    return arun(go())


def test_a_stale_reassign_or_cancel_gets_the_servers_reason(
    server: Any, redis_url: str, browser: Browser
) -> None:
    first, second, _third = make_reporters(redis_url, ["杨帆", "郑凯", "赵敏"])
    wang = open_desk(browser, server.url, supervisor(redis_url, "王主任"))
    li = open_desk(browser, server.url, supervisor(redis_url, "李主任"))
    task_id = dispatch(wang, "Bridge inspection")  # offered to the nearest: version 2
    for desk in (wang, li):
        show(desk, task_id)

    # Wang opens "cancel" on version 2; meanwhile Li reassigns it (version 3).
    arm(wang, "desk-act-cancel", 2)
    arm(li, "desk-act-reassign", 2)
    assert li.input_value("#desk-action-reason") == ""
    done = confirm(li)
    assert done.get_attribute("data-version") == "3" and "郑凯" in done.inner_text()
    refused = confirm(wang)
    assert refused.get_attribute("data-code") == "version_conflict"
    assert refused.get_attribute("data-status") == "409"
    assert "now version 3" in refused.inner_text()  # the server's own words
    assert stored(redis_url, task_id)["assignee"] == second["reporter_id"]
    # Wang's timeline has meanwhile shown Li's reassignment, by push.
    wang.wait_for_selector("#desk-timeline li[data-version='3'][data-state=offered]")

    # Now the other way round: Li opens a reassign on version 3, Wang cancels first.
    arm(li, "desk-act-reassign", 3)
    arm(wang, "desk-act-cancel", 3)
    wang.fill("#desk-action-reason", "duplicate of another task")
    assert confirm(wang).get_attribute("data-state") == "cancelled"
    refused = confirm(li)
    assert refused.get_attribute("data-code") == "version_conflict"
    assert "now version 4" in refused.inner_text()
    after = stored(redis_url, task_id)
    assert after["state"] == "cancelled" and after["assignee"] == second["reporter_id"]
    assert after["timeline"][-1]["reason"] == "duplicate of another task"
    assert after["timeline"][-1]["actor"] == "王主任"
    # Both desks now show a closed task: nothing left to reassign or cancel.
    for desk in (wang, li):
        desk.wait_for_selector("#desk-act-cancel[disabled]", timeout=5_000)
        assert desk.is_disabled("#desk-act-reassign")
    assert first["reporter_id"] in after["tried"]
    wang.context.close()
    li.context.close()


def test_a_task_links_to_its_story_and_shows_its_audience(
    server: Any, redis_url: str, browser: Browser
) -> None:
    make_reporters(redis_url, ["杨帆"])
    story(redis_url, "s-dam", "水府庙水库开闸泄洪", "published", channels=["app", "wechat"])
    story(redis_url, "s-other", "城区公交新线路", "editing")
    traffic(redis_url, "s-dam", 5, {"app": 40, "wechat": 25})
    page = open_desk(browser, server.url, supervisor(redis_url, "王主任"))
    task_id = dispatch(page, "Dam release")
    show(page, task_id)
    page.wait_for_function(
        "() => /No story linked/.test(document.querySelector('#desk-task-story').innerText)"
    )

    page.click("#desk-act-link")
    page.wait_for_selector("#desk-action-form:not([hidden])", timeout=5_000)
    page.click("#desk-action-pick")
    page.click(".dash-dropdown-option:has(input[value='s-dam'])")
    done = confirm(page)
    assert "水府庙水库开闸泄洪" in done.inner_text()
    assert stored(redis_url, task_id)["story_id"] == "s-dam"

    page.wait_for_selector("#desk-task-story [data-story-id='s-dam'][data-stage=published]")
    page.wait_for_function(
        "() => { const g = document.querySelector('#desk-task-audience .js-plotly-plot');"
        " return g && g.data[0].y.join() === 'App,WeChat' && g.data[0].x.join() === '200,125'; }",
        timeout=5_000,
    )
    # More readers come: the chart follows (the stream's traffic tick, every few seconds).
    traffic(redis_url, "s-dam", 1, {"app": 60})
    page.wait_for_function(
        "() => document.querySelector('#desk-task-audience .js-plotly-plot').data[0].x[0] === 260",
        timeout=15_000,
    )
    page.context.close()
