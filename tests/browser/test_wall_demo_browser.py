"""The wall with the simulated newsroom, as `make up` shows it: every panel filled. The
screenshots it takes are the ones in the README (docs/img/wall.png, docs/img/wall-en.png at
1920×1080, docs/img/wall-4k.png at 3840×2160), and at both sizes nothing overflows."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from browser_helpers import KEYS, arun, wall_key
from dispatch import db, escalation, schema, stories
from dispatch.clock import now_ms
from feeds import run as feeds_run

pytestmark = [pytest.mark.browser, pytest.mark.integration]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"
MINUTE = 60_000


def _simulate(redis_url: str, seconds: float) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        await feeds_run.run_simulator(r, KEYS, seed=7, rate=30, duration_s=seconds)
        await r.aclose()

    arun(go())


def _newsroom_extras(redis_url: str) -> None:
    """What the short simulation does not reach: readers of named stories over the hour, a
    story stuck in editing, and a few alerts."""

    async def go() -> None:
        r = db.connect(redis_url)
        rng = random.Random(3)
        now = now_ms()
        published = [s for s in await stories.all_stories(r, KEYS) if s["stage"] == "published"]
        items = []
        for rank, story in enumerate(published[:8]):
            for minute in range(60):
                for channel in ("app", "wechat", "web"):
                    views = int(rng.uniform(5, 40) * (1 + minute / 30) / (1 + rank))
                    items.append(
                        schema.Traffic(
                            story_id=story["story_id"],
                            channel=channel,
                            window_start=now - minute * MINUTE,
                            views=views,
                        )
                    )
        await stories.record_traffic_batch(r, KEYS, items)
        await stories.upsert_story(
            r,
            KEYS,
            schema.Story(
                story_id="demo-stuck",
                title="县城区老旧小区改造进展",
                stage="editing",
                updated_at=now - 95 * MINUTE,
            ),
        )
        await escalation.raise_alert(
            r, KEYS, "task_expired", "t-1", "“城区交通事故现场” 超时未接, 已转派", "critical"
        )
        await escalation.raise_alert(
            r, KEYS, "traffic_spike", "s-1", "“山枣镇燃气安全隐患集中整治” 阅读量突增 4 倍", "info"
        )
        await escalation.raise_alert(r, KEYS, "battery_low", "r-3", "记者 张伟 电量 12%", "warning")
        await r.aclose()

    arun(go())


def _no_overflow(page: Page) -> None:
    sizes = page.evaluate(
        "({sw: document.documentElement.scrollWidth, sh: document.documentElement.scrollHeight,"
        " w: innerWidth, h: innerHeight})"
    )
    assert sizes["sw"] <= sizes["w"] and sizes["sh"] <= sizes["h"], sizes
    # every panel lies inside the screen
    outside = page.evaluate(
        "[...document.querySelectorAll('#wall-grid > .nr-panel')].filter(p => {"
        " const r = p.getBoundingClientRect();"
        " return r.right > innerWidth + 1 || r.bottom > innerHeight + 1 || r.width < 100; })"
        ".map(p => p.id)"
    )
    assert outside == []


def test_wall_with_the_demo_newsroom(server: Any, redis_url: str, browser: Browser) -> None:
    _simulate(redis_url, 3)
    _newsroom_extras(redis_url)
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    reps = [
        r for r in httpx.get(server.url + "/api/v1/reporters", headers=admin).json() if r["lat"]
    ]
    for i, (title, priority, minutes) in enumerate(
        [
            ("城区交通事故现场", "breaking", 1),
            ("暴雨预警: 山洪防御巡查", "high", 45),
            ("县人民医院新院区启用仪式", "normal", None),
        ]
    ):
        body = {
            "title": title,
            "lat": 27.72 + 0.01 * i,
            "lon": 112.52 + 0.012 * i,
            "priority": priority,
            "assignee": reps[i]["reporter_id"] if i != 1 else None,
            "deadline": now_ms() + minutes * MINUTE if minutes else None,
        }
        assert httpx.post(server.url + "/api/v1/tasks", json=body, headers=admin).status_code == 201
    key = wall_key(redis_url)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shots = (
        ("zh", "wall.png", 1920, 1080),
        ("en", "wall-en.png", 1920, 1080),
        ("zh", "wall-4k.png", 3840, 2160),
    )
    for lang, name, width, height in shots:
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(f"{server.url}/wall?key={key}&lang={lang}")
        page.wait_for_function(
            "+document.querySelector('#wall-reporter-count')?.innerText >= 20", timeout=20_000
        )
        page.wait_for_function(
            "document.querySelectorAll('#wall-tasks .nr-task-row').length === 3", timeout=10_000
        )
        for graph in ("wall-traffic", "wall-stages", "wall-map"):
            page.wait_for_function(
                f"document.querySelector('#{graph} .js-plotly-plot')?.data", timeout=20_000
            )
        traces = page.evaluate(
            "document.querySelector('#wall-traffic .js-plotly-plot').data"
            ".map(t => t.y.reduce((a, b) => a + b, 0))"
        )
        assert len(traces) == 8 and all(total > 0 for total in traces), traces
        stages = page.evaluate("document.querySelector('#wall-stages .js-plotly-plot').data[0].x")
        assert sum(stages) >= 40
        assert page.locator("#wall-top .nr-top-row").count() >= 5
        assert page.locator("#wall-alerts .nr-alert").count() == 3
        assert page.locator("#wall-deadlines .nr-deadline").count() == 4
        assert page.locator("#wall-stuck .nr-stuck-badge").count() == 1
        assert page.locator("#wall-tasks .nr-due").count() == 2
        _simulate(redis_url, 1)  # keep it moving while the page is open
        page.wait_for_timeout(1500)
        if width > 1920:  # the figures were drawn again at the screen's scale
            size = page.evaluate(
                "document.querySelector('#wall-traffic .js-plotly-plot').layout.font.size"
            )
            assert size == 32
        _no_overflow(page)
        page.screenshot(path=str(SCREENSHOTS / name))
        page.close()
