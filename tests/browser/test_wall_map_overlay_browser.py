"""The wall's markers are drawn on a canvas over the map (assets/map_overlay.js), where
MapLibre itself would put them, and a moving reporter does not redraw the WebGL map."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Browser

from browser_helpers import KEYS, MARKERS, arun, move, seed_reporters, wall_key
from dashboards import figures, maps
from dispatch import db, tasks
from dispatch.auth import Principal

pytestmark = [pytest.mark.browser, pytest.mark.integration]
MAP = "document.querySelector('#wall-map .js-plotly-plot')?._fullLayout?.map?._subplot?.map"
# Where MapLibre puts each free reporter, and the canvas's pixel there.
PROBE = f"""(index) => {{
  const map = {MAP};
  const canvas = document.getElementById('wall-map-overlay');
  const trace = canvas.nrMarkers.traces[index];
  const ratio = window.devicePixelRatio || 1;
  const ctx = canvas.getContext('2d');
  const box = canvas.getBoundingClientRect(), mapBox = map.getCanvas().getBoundingClientRect();
  return {{
    offset: [box.x - mapBox.x, box.y - mapBox.y, box.width - mapBox.width],
    pixels: trace.lat.map((lat, i) => {{
      const at = map.project([trace.lon[i], lat]);
      return Array.from(ctx.getImageData(Math.round(at.x * ratio), Math.round(at.y * ratio),
                                         1, 1).data);
    }}),
  }};
}}"""


def _rgb(colour: str) -> list[int]:
    return [int(colour[i : i + 2], 16) for i in (1, 3, 5)]


def test_markers_land_where_maplibre_would_draw_them(
    server: Any, redis_url: str, browser: Browser
) -> None:
    ids = seed_reporters(redis_url, 3)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{server.url}/wall?key={wall_key(redis_url)}&lang=en&panels=map")
    page.wait_for_function(
        "document.getElementById('wall-map-overlay')?.dataset.drawn === '3'", timeout=20_000
    )
    page.wait_for_function(f"{MAP}?.loaded()", timeout=20_000)

    seen = page.evaluate(PROBE, maps.MAP_FREE)
    assert all(abs(v) < 1 for v in seen["offset"]), seen["offset"]  # the canvas is the map
    assert len(seen["pixels"]) == 3
    for pixel in seen["pixels"]:  # a fresh fix: the free colour, fully opaque
        assert pixel == [*_rgb(figures.ON_DUTY), 255], seen["pixels"]

    # A reporter moves: the markers follow, and the WebGL map is not drawn again.
    page.evaluate(f"() => {{ window.renders = 0; {MAP}.on('render', () => window.renders++); }}")
    for i in range(3):
        move(redis_url, ids[0], 27.70 + 0.002 * (i + 1))
        page.wait_for_function(
            "(lat) => " + MARKERS + ".some(t => t.lat.some(v => Math.abs(v - lat) < 1e-6))",
            arg=round(27.70 + 0.002 * (i + 1), 6),
            timeout=5_000,
        )
    time.sleep(0.5)
    moved = page.evaluate(PROBE, maps.MAP_FREE)
    assert all(pixel == [*_rgb(figures.ON_DUTY), 255] for pixel in moved["pixels"])
    assert page.evaluate("window.renders") == 0
    page.close()


def test_a_task_pin_is_drawn_in_its_priority_colour(
    server: Any, redis_url: str, browser: Browser
) -> None:
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{server.url}/wall?key={wall_key(redis_url)}&lang=en&panels=map")
    page.wait_for_function(f"{MAP}?.loaded() && {MARKERS}", timeout=20_000)

    async def create() -> None:
        r = db.connect(redis_url)
        desk = Principal(role="supervisor", subject="desk", token_hash="0" * 64)
        await tasks.create(r, KEYS, desk, title="堤坝渗水", lat=27.75, lon=112.50,
                           priority="breaking")  # fmt: skip
        await r.aclose()

    arun(create())
    page.wait_for_function(f"{MARKERS}[{maps.MAP_TASK}].lat.length === 1", timeout=5_000)
    pin = page.evaluate(f"{MARKERS}[{maps.MAP_TASK}]")
    assert pin["color"] == [maps.PRIORITY_COLOURS["breaking"]]
    time.sleep(0.2)  # drawn on the next frame
    (pixel,) = page.evaluate(PROBE, maps.MAP_TASK)["pixels"]
    assert pixel == [*_rgb(maps.PRIORITY_COLOURS["breaking"]), 255]
    page.close()
