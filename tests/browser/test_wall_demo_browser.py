"""The wall with the simulated newsroom, as `make up` shows it: every panel filled. The
screenshots it takes are the ones in the README (docs/img/wall.png, docs/img/wall-en.png)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from browser_helpers import KEYS, arun, wall_key
from dispatch import db
from feeds import run as feeds_run

pytestmark = [pytest.mark.browser, pytest.mark.integration]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


def _simulate(redis_url: str, seconds: float) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        await feeds_run.run_simulator(r, KEYS, seed=7, rate=30, duration_s=seconds)
        await r.aclose()

    arun(go())


def test_wall_with_the_demo_newsroom(server: Any, redis_url: str, browser: Browser) -> None:
    _simulate(redis_url, 3)
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    reps = [
        r for r in httpx.get(server.url + "/api/v1/reporters", headers=admin).json() if r["lat"]
    ]
    for i, (title, priority) in enumerate(
        [
            ("城区交通事故现场", "breaking"),
            ("暴雨预警: 山洪防御巡查", "high"),
            ("县人民医院新院区启用仪式", "normal"),
        ]
    ):
        body = {
            "title": title,
            "lat": 27.72 + 0.01 * i,
            "lon": 112.52 + 0.012 * i,
            "priority": priority,
            "assignee": reps[i]["reporter_id"] if i != 1 else None,
        }
        assert httpx.post(server.url + "/api/v1/tasks", json=body, headers=admin).status_code == 201
    key = wall_key(redis_url)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for lang, name in (("zh", "wall.png"), ("en", "wall-en.png")):
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
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
        _simulate(redis_url, 1)  # keep it moving while the page is open
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SCREENSHOTS / name))
        page.close()
