"""Every wall panel renders and follows the newsroom live, by push: a story update moves the
pipeline (and one stuck too long in its stage is flagged), readers of a story put it in the
top stories, a task shows its age against its deadline, an alert appears, reporters are
coloured by state and an old fix fades, and the deadline board counts down from the schedule
file without asking the server."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Request

from browser_helpers import KEYS, MARKERS, arun, seed_reporters, wall_key
from dispatch import db, escalation, reporters, schema, stories, tasks
from dispatch.auth import Principal
from dispatch.clock import now_ms

pytestmark = [pytest.mark.browser, pytest.mark.integration]
MINUTE = 60_000
STAGES = "document.querySelector('#wall-stages .js-plotly-plot')"
MAP_FREE, MAP_ON_TASK = 3, 4  # dashboards.figures trace order


def _story(redis_url: str, story_id: str, stage: str, updated_at: int, title: str) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        story = schema.Story(story_id=story_id, title=title, stage=stage, updated_at=updated_at)
        await stories.upsert_story(r, KEYS, story)
        await r.aclose()

    arun(go())


def _readers(redis_url: str, story_id: str, views: int) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        item = schema.Traffic(
            story_id=story_id, channel="wechat", window_start=now_ms(), views=views
        )
        await stories.record_traffic(r, KEYS, item)
        await r.aclose()

    arun(go())


def _alert(redis_url: str) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        await escalation.raise_alert(
            r, KEYS, "battery_low", "r-9", "reporter 9: battery 11%", "critical"
        )
        await r.aclose()

    arun(go())


def _reporter_with_an_old_fix(redis_url: str) -> None:
    """A reporter whose phone last reported 40 minutes ago (e.g. its queue arrives late)."""

    async def go() -> None:
        r = db.connect(redis_url)
        rep = await reporters.create(r, KEYS, "old-fix", [])
        old = now_ms() - 40 * MINUTE
        fix = schema.Location(
            reporter_id=rep["reporter_id"], lat=27.70, lon=112.50, ts=old, received_at=now_ms()
        )
        await reporters.apply_fix(r, KEYS, fix)
        await r.aclose()

    arun(go())


def _stage_count(page: Page, stage: str) -> int:
    return int(page.evaluate(f"{STAGES}.data[0].x[{schema.STAGES.index(stage)}]"))


def test_every_panel_renders_and_follows_the_newsroom_live(
    server: Any, redis_url: str, browser: Browser, tmp_path: Path
) -> None:
    # The schedule file: one TV bulletin a minute and a half from now (China time).
    china = (now_ms() + 8 * 3_600_000) // MINUTE + 2
    at = f"{china // 60 % 24:02d}:{china % 60:02d}"
    (tmp_path / "schedule.toml").write_text(
        f'[[slot]]\nchannel = "tv"\nat = "{at}"\nname = "Evening news"\n'
        "[stage_limits]\nediting = 45\n"
    )
    ids = seed_reporters(redis_url, 2)
    key = wall_key(redis_url)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    requests: list[Request] = []
    page.on("request", lambda req: requests.append(req))
    page.goto(f"{server.url}/wall?key={key}&lang=en")
    page.wait_for_function(f"{STAGES}?.data && {MARKERS}", timeout=20_000)
    page.wait_for_function("document.querySelector('#wall-heartbeat').textContent", timeout=10_000)
    time.sleep(1.0)
    requests.clear()

    # The deadline board: the schedule file's slot, counting down in the browser.
    row = "#wall-deadlines .nr-deadline[data-channel=tv]"
    assert page.inner_text(f"{row} .nr-dl-at") == at
    assert page.inner_text(f"{row} .nr-dl-name") == "Evening news"
    assert "nr-dl-urgent" in page.get_attribute(row, "class").split()  # under 10 minutes
    first = page.inner_text(f"{row} .nr-dl-count")
    page.wait_for_function(
        "(t) => document.querySelector('#wall-deadlines .nr-dl-count').textContent !== t",
        arg=first,
        timeout=3_000,
    )

    # The pipeline: a new story, then one in editing for longer than its limit (45 min here).
    _story(redis_url, "p-1", "reporting", now_ms(), "Flood defence meeting")
    page.wait_for_function(
        f"{STAGES}.data[0].x[{schema.STAGES.index('reporting')}] === 1", timeout=5_000
    )
    assert page.locator("#wall-stuck .nr-stuck-badge").count() == 0
    _story(redis_url, "p-2", "editing", now_ms() - 50 * MINUTE, "Old school rebuild")
    page.wait_for_selector("#wall-stuck .nr-stuck-badge", timeout=5_000)
    assert page.inner_text("#wall-stuck") == "⚠ 1 stuck"
    editing = schema.STAGES.index("editing")
    assert page.evaluate(f"{STAGES}.data[1].x[{editing}]") == 1
    assert "1 stuck" in page.evaluate(f"{STAGES}.data[0].text[{editing}]")

    # Top stories: readers of a story put it in the list, with its title and a sparkline.
    assert page.locator("#wall-top .nr-top-row").count() == 0
    _readers(redis_url, "p-1", 120)
    _readers(redis_url, "p-2", 30)
    page.wait_for_selector("#wall-top .nr-top-row[data-story-id=p-2]", timeout=10_000)
    rows = page.locator("#wall-top .nr-top-row")
    assert rows.count() == 2
    assert rows.nth(0).get_attribute("data-story-id") == "p-1"
    assert "Flood defence meeting" in rows.nth(0).inner_text()
    assert "120" in rows.nth(0).inner_text()
    assert page.locator("#wall-top .nr-spark").first.locator("span").count() == 20

    # Open tasks against their deadline, and the reporter it is offered to.
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    body = {
        "title": "Bridge inspection",
        "lat": 27.74,
        "lon": 112.54,
        "priority": "high",
        "assignee": ids[0],
        "deadline": now_ms() + 30 * MINUTE,
    }
    task = httpx.post(server.url + "/api/v1/tasks", json=body, headers=admin).json()
    due = page.wait_for_selector("#wall-tasks .nr-due", timeout=5_000)
    assert due.inner_text().endswith("/ 30 min")
    assert due.get_attribute("data-due") == "ok"

    # The reporter accepts: the map draws them as "on task"; an old fix fades.
    _accept(redis_url, task["task_id"], ids[0])
    page.wait_for_function(f"{MARKERS}[{MAP_ON_TASK}].lat.length === 1", timeout=5_000)
    assert page.evaluate(f"{MARKERS}[{MAP_FREE}].opacity") == [1]
    _reporter_with_an_old_fix(redis_url)
    page.wait_for_function(f"{MARKERS}[{MAP_FREE}].opacity.some(o => o < 0.5)", timeout=5_000)

    # Alerts.
    _alert(redis_url)
    alert = page.wait_for_selector("#wall-alerts .nr-alert[data-kind=battery_low]", timeout=5_000)
    assert "Low battery" in alert.inner_text() and "battery 11%" in alert.inner_text()
    assert alert.get_attribute("data-severity") == "critical"

    # data: and blob: URLs are in-memory (MapLibre starts its workers from a blob), not HTTP
    http = [r.url for r in requests if r.url.startswith("http")]
    assert http == [], f"the wall polled: {http}"
    page.close()


def _accept(redis_url: str, task_id: str, reporter_id: str) -> None:
    """The reporter accepts, as their phone would (the task service, as the reporter)."""

    async def go() -> None:
        r = db.connect(redis_url)
        reporter = Principal(role="reporter", subject=reporter_id, token_hash="0" * 64)
        await tasks.change(r, KEYS, reporter, task_id, "accepted")
        await r.aclose()

    arun(go())
