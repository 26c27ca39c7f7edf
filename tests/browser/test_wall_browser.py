"""The wall in headless Chromium: reporters on the map, updated by push within 2 s, no polling."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Request

from browser_helpers import MARKERS, move, seed_reporters, wall_key

pytestmark = [pytest.mark.browser, pytest.mark.integration]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


def test_wall_shows_reporters_and_updates_by_push(
    server: Any, redis_url: str, browser: Browser
) -> None:
    ids = seed_reporters(redis_url, 3)
    key = wall_key(redis_url)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    requests: list[Request] = []
    page.on("request", lambda req: requests.append(req))
    page.goto(f"{server.url}/wall?key={key}&lang=en")
    page.wait_for_function(
        "document.querySelector('#wall-reporter-count')?.innerText.trim() === '3'", timeout=20_000
    )
    page.wait_for_function(f"{MARKERS}?.length", timeout=20_000)
    lats = page.evaluate(f"{MARKERS}.flatMap(t => t.lat)")
    assert len(lats) >= 3

    time.sleep(1.0)  # let the page settle, then watch the network while events arrive
    requests.clear()
    for round_ in range(3):
        before = page.inner_text("#wall-last-event")
        t0 = time.monotonic()
        move(redis_url, ids[0], 27.70 + 0.01 * round_)
        page.wait_for_function(
            "(b) => document.querySelector('#wall-last-event').innerText !== b",
            arg=before,
            timeout=2_000,
        )
        assert time.monotonic() - t0 < 2.0
    page.wait_for_function(
        f"{MARKERS}.some(t => t.lat.some(v => Math.abs(v - 27.72) < 1e-6))", timeout=2_000
    )
    time.sleep(3.0)
    # data: and blob: URLs are in-memory (MapLibre starts its workers from a blob), not HTTP
    http = [r.url for r in requests if r.url.startswith("http")]
    assert http == [], (
        f"the wall made HTTP requests while live (it must be pushed, not polled): {http}"
    )
    page.close()


def test_wall_refuses_a_bad_key(server: Any, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(f"{server.url}/wall?key=not-a-key&lang=en")
    page.wait_for_selector("#wall-denied", timeout=15_000)
    assert page.query_selector("#wall-map") is None
    page.close()


def test_two_walls_alike_update_together_and_one_closing_leaves_the_other_live(
    server: Any, redis_url: str, browser: Browser
) -> None:
    """Walls that look alike share one render on the server; each still gets every update,
    and one going away does not stop the other."""
    ids = seed_reporters(redis_url, 2)
    key = wall_key(redis_url)
    screens = [browser.new_context(viewport={"width": 1920, "height": 1080}) for _ in range(2)]
    pages = [screen.new_page() for screen in screens]
    for page in pages:
        page.goto(f"{server.url}/wall?key={key}&lang=en")
        page.wait_for_function(
            "document.querySelector('#wall-reporter-count')?.innerText.trim() === '2'",
            timeout=20_000,
        )
        page.wait_for_function(
            "/^live \\d+$/.test(document.querySelector('.nr-heartbeat')?.textContent || '')",
            timeout=10_000,
        )

    def moved_on(alive: list[Any], lat: float) -> None:
        befores = [page.inner_text("#wall-last-event") for page in alive]
        move(redis_url, ids[0], lat)
        for page, before in zip(alive, befores, strict=True):
            page.wait_for_function(
                "(b) => document.querySelector('#wall-last-event').innerText !== b",
                arg=before,
                timeout=3_000,
            )
            page.wait_for_function(
                f"(lat) => {MARKERS}.some(t => t.lat.some(v => Math.abs(v - lat) < 1e-6))",
                arg=lat,
                timeout=3_000,
            )

    moved_on(pages, 27.731)
    screens[0].close()  # one wall goes dark
    time.sleep(1.0)
    moved_on(pages[1:], 27.742)
    beat = pages[1].evaluate("document.querySelector('.nr-heartbeat').textContent")
    assert beat.startswith("live ")
    pages[1].wait_for_function(  # its heartbeat goes on (its own count)
        "(b) => document.querySelector('.nr-heartbeat').textContent !== b", arg=beat, timeout=5_000
    )
    screens[1].close()
