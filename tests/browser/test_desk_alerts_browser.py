"""Alerts at the desk: one supervisor acknowledges, every open desk sees who and when; a
story alert becomes a follow-up task in one click (the nearest reporters already suggested),
and the task's after-action review shows dispatch, the story and its traffic, as CSV too."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from browser_helpers import KEYS, arun
from dispatch import auth, db, task_edits, tasks
from test_desk_support import alert, make_reporters, open_desk, story, supervisor, traffic

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_an_acknowledgement_shows_on_every_open_desk(
    server: Any, redis_url: str, browser: Browser
) -> None:
    wang = open_desk(browser, server.url, supervisor(redis_url, "王主任"))
    li = open_desk(browser, server.url, supervisor(redis_url, "李主任"), lang="zh")
    alert(redis_url, "task_expired", "t-0000000001", "“Fire at the market” not answered in 30 s")
    alert(redis_url, "battery_low", "r-1", "王磊 on “Fire at the market”: battery 9 %")
    row = "#desk-alerts [data-kind=task_expired]"
    for desk in (wang, li):  # pushed to both, unacknowledged
        desk.wait_for_selector(f"{row}[data-acked='0']", timeout=10_000)
    assert li.inner_text("#desk-alerts-unacked") == "2 条未确认"
    assert "超时未接" in li.inner_text(row)

    wang.click(f"{row} button:has-text('Acknowledge')")
    # Li's desk shows who acknowledged it, without a reload; Wang's too.
    acked = li.wait_for_selector(f"{row}[data-acked='1']", timeout=5_000)
    assert "王主任 已确认" in acked.inner_text()
    wang.wait_for_selector(f"{row}[data-acked='1']", timeout=5_000)
    assert "Acknowledged by 王主任" in wang.inner_text(row)
    assert li.inner_text("#desk-alerts-unacked") == "1 条未确认"
    assert li.is_visible("#desk-alerts [data-kind=battery_low] button:has-text('确认')")

    admin = {"Authorization": f"Bearer {server.admin_token}"}
    listed = httpx.get(server.url + "/api/v1/alerts", headers=admin, timeout=10).json()
    (expired,) = [a for a in listed if a["kind"] == "task_expired"]
    assert expired["ack"]["by"] == "王主任"
    # A task alert leads to its task.
    wang.click(f"{row} button:has-text('Show task')")
    wang.wait_for_selector("#desk-timeline .nr-empty", timeout=5_000)  # gone: "no such task"
    wang.context.close()
    li.context.close()


def test_a_story_alert_becomes_a_follow_up_task_and_its_review(
    server: Any, redis_url: str, browser: Browser
) -> None:
    near_dam, _far = make_reporters(redis_url, ["杨帆", "郑凯"])
    story(redis_url, "s-flood", "涟水河水位上涨", "published", channels=["app", "wechat"])
    traffic(redis_url, "s-flood", 20, {"app": 30, "wechat": 12})

    async def earlier_task() -> str:
        # An earlier task produced the story, at the river embankment.
        r = db.connect(redis_url)
        try:
            token, _ = await auth.create_token(r, KEYS, "supervisor", "夜班主任")
            desk = await auth.authenticate(r, KEYS, token)
            task, _ = await tasks.create(
                r, KEYS, desk, title="涟水河巡堤", lat=27.7405, lon=112.5402
            )
            await task_edits.edit(r, KEYS, desk, task["task_id"], {"story_id": "s-flood"})
            return str(task["task_id"])
        finally:
            await r.aclose()

    earlier = arun(earlier_task())
    page = open_desk(browser, server.url, supervisor(redis_url, "王主任"))
    alert(redis_url, "traffic_spike", "s-flood", "“涟水河水位上涨”: traffic spike, 4.2× usual")
    page.click(
        "#desk-alerts [data-kind=traffic_spike] button:has-text('Follow up')", timeout=10_000
    )

    page.wait_for_selector("#desk-result .nr-follow-ready[data-story-id='s-flood']")
    assert page.input_value("#desk-title") == "Follow-up: 涟水河水位上涨"
    assert "traffic spike" in page.input_value("#desk-brief")
    assert (float(page.input_value("#desk-lat")), float(page.input_value("#desk-lon"))) == (
        27.7405,
        112.5402,
    )  # where the story's last task was
    assert page.is_visible("#desk-form-story-box")
    assert page.inner_text("#desk-form-story-chip") == "涟水河水位上涨"
    first = page.wait_for_selector("#desk-suggestions li[data-reporter-id]")
    assert first.get_attribute("data-reporter-id") == near_dam["reporter_id"]

    page.click("#desk-dispatch")
    ok = page.wait_for_selector("#desk-result .nr-ok[data-task-id]", timeout=10_000)
    task_id = ok.get_attribute("data-task-id")
    assert task_id and task_id != earlier
    assert ok.get_attribute("data-story-id") == "s-flood"
    assert ok.get_attribute("data-state") == "offered"
    page.wait_for_selector("#desk-form-story-box[hidden]", state="attached", timeout=5_000)

    # The review of the new task: its transitions, the story's stage and traffic on one chart.
    page.click(f"#desk-tasks [data-task-id='{task_id}']")
    page.wait_for_selector(f"#desk-timeline [data-task-id='{task_id}']")
    page.click("#desk-act-review")
    page.wait_for_selector(
        f"#desk-review-title [data-subject='{task_id}'][data-story-id='s-flood']"
    )
    names = page.evaluate(
        "() => document.querySelector('#desk-review-graph .js-plotly-plot').data.map(t => t.name)"
    )
    assert names[:2] == ["App", "WeChat"] and names[2:] == ["Story (CMS)", "Task"]
    notes = page.evaluate(
        "() => document.querySelector('#desk-review-graph .js-plotly-plot')"
        ".layout.annotations.map(a => a.text)"
    )
    assert "Dispatch" in notes
    assert page.is_visible("#desk-review-graph .modebar-btn[data-title^='Download plot']")

    with page.expect_download() as download:
        page.click("#desk-review-csv")
    assert download.value.suggested_filename == f"review-task-{task_id}.csv"
    text = (download.value.path().read_bytes()).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:5] == ["Time", "Epoch ms", "Lane", "Subject", "Event"]
    events = [(row[2], row[5]) for row in rows[1:]]
    assert ("Task", "created") in events and ("Task", "offered") in events
    assert ("Task", "edited") in events  # linked to the story right after it was created
    assert ("Story (CMS)", "published") in events
    views = [int(row[6]) for row in rows[1:] if row[2] == "Traffic" and row[5] == "app"]
    assert len(views) == 20 and set(views) == {30}
    page.context.close()
