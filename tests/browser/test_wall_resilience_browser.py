"""The wall in a command hall with no internet, on for days: it asks nothing of any host but
its own server (scripts, fonts, map layers are local), and when the server restarts the page
shows its data as stale and then comes back live by itself, with no one touching it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from browser_helpers import MARKERS, move, seed_reporters, wall_key
from servers import Server

pytestmark = [pytest.mark.browser, pytest.mark.integration]
MAP = "document.querySelector('#wall-map .js-plotly-plot')"


def _wait_live(page: Page) -> None:
    page.wait_for_function(
        "document.querySelector('#wall-heartbeat')?.textContent.startsWith('live')"
        " && !document.body.classList.contains('nr-is-stale')",
        timeout=60_000,
    )


def _wait_map_has(page: Page, lat: float) -> None:
    page.wait_for_function(
        f"(lat) => {MARKERS}?.some(t => t.lat.some(v => Math.abs(v - lat) < 1e-5))",
        arg=lat,
        timeout=10_000,
    )


def test_nothing_is_fetched_from_another_host(
    server: Any, redis_url: str, browser: Browser
) -> None:
    ids = seed_reporters(redis_url, 2)
    key = wall_key(redis_url)
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    urls: list[str] = []
    page.on("request", lambda req: urls.append(req.url))
    page.on("websocket", lambda ws: urls.append(ws.url))
    page.goto(f"{server.url}/wall?key={key}&lang=zh")
    _wait_live(page)
    page.wait_for_function(f"{MAP}?.data", timeout=20_000)
    move(redis_url, ids[0], 27.75)
    body = {"title": "现场", "lat": 27.74, "lon": 112.54, "priority": "breaking", "assignee": None}
    assert httpx.post(server.url + "/api/v1/tasks", json=body, headers=admin).status_code == 201
    _wait_map_has(page, 27.75)
    page.wait_for_selector("#wall-tasks .nr-task-row", timeout=5_000)
    page.wait_for_timeout(2_500)
    own = (server.url, server.url.replace("http://", "ws://"), "data:", "blob:")
    foreign = [url for url in urls if not url.startswith(own)]
    assert urls and foreign == [], foreign
    # the map's local layers (county boundary, roads) are drawn from inline GeoJSON
    sources = page.evaluate(f"{MAP}.layout.map.layers.map(l => typeof l.source)")
    assert len(sources) >= 4 and "string" not in sources
    page.close()


def test_the_wall_recovers_by_itself_after_a_server_restart(
    server: Any, redis_url: str, browser: Browser, tmp_path: Path
) -> None:
    ids = seed_reporters(redis_url, 1)
    key = wall_key(redis_url)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{server.url}/wall?key={key}&lang=en")
    _wait_live(page)
    page.evaluate("window.__nr_same_page = true")  # gone once the page reloads

    server.stop()
    page.wait_for_function("document.body.classList.contains('nr-is-stale')", timeout=15_000)
    assert page.is_visible("#wall-stale")

    again = Server(redis_url, tmp_path, port=server.port).start()
    try:
        _wait_live(page)  # the watchdog reloads the page once the server answers
        assert page.evaluate("window.__nr_same_page") is None
        assert not page.is_visible("#wall-stale")
        move(redis_url, ids[0], 27.76)  # and it is live again, by push
        _wait_map_has(page, 27.76)
    finally:
        again.stop()
    page.close()
