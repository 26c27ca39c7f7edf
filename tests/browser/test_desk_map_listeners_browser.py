"""The desk's map does not pile up listeners as it updates (assets/map_listeners.js).

Plotly's map subplot adds five one-time MapLibre error listeners on every update and never
removes them; a desk updating its map twice a second for a shift would hold many thousands.
With the asset script, the count stays where it was however many updates come. (The wall
draws its markers on a canvas of its own and updates its Plotly map only on a whole redraw.)
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Browser

from browser_helpers import move, seed_reporters
from test_desk_support import wait_live

pytestmark = [pytest.mark.browser, pytest.mark.integration]
MAP = "document.querySelector('#desk-map .js-plotly-plot')"
SUBPLOT = f"{MAP}._fullLayout.map._subplot"
LISTENERS = f"""() => {{
  const held = {SUBPLOT}.map._oneTimeListeners || {{}};
  return ['error', 'style.error', 'source.error', 'tile.error', 'layer.error']
    .map((name) => (held[name] || []).length);
}}"""


def test_map_updates_do_not_accumulate_error_listeners(
    server: Any, redis_url: str, browser: Browser
) -> None:
    (reporter,) = seed_reporters(redis_url, 1)
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{server.url}/desk?lang=en")
    page.fill("input[name=token]", server.admin_token)
    page.click("#desk-login button[type=submit]")
    wait_live(page)
    page.wait_for_function(f"{MAP}?._fullLayout?.map?._subplot?.map", timeout=20_000)
    wrapped = f"Object.getPrototypeOf({SUBPLOT}).rejectOnError.nrWrapped"
    page.wait_for_function(wrapped, timeout=5_000)
    page.evaluate(f"() => {{ window.draws = 0; {MAP}.on('plotly_afterplot', () => draws++); }}")
    before = page.evaluate(LISTENERS)

    updates = 12
    for i in range(updates):
        move(redis_url, reporter, 27.70 + 0.001 * (i + 1))
        time.sleep(0.6)  # the map is redrawn at most twice a second
    lat = round(27.70 + 0.001 * updates, 6)
    page.wait_for_function(
        f"{MAP}.data.some((t) => (t.lat || []).some((v) => Math.abs(v - {lat}) < 1e-6))",
        timeout=5_000,
    )
    draws = page.evaluate("window.draws")
    after = page.evaluate(LISTENERS)
    page.close()

    assert draws >= updates // 2, f"the map was redrawn only {draws} times"
    # Without the asset script each list grows by one per redraw (`draws` of them).
    assert all(a <= b + 1 for a, b in zip(after, before, strict=True)), (before, after, draws)
