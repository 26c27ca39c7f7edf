"""The feeds end to end, seen on the wall in headless Chromium: tracker apps move a reporter
(and a late fix never moves them back), a growing and rotated access log tailed by `newsroom
feeds` changes the traffic chart, and a signed CMS webhook moves a story's stage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from browser_helpers import MARKERS, wall_key
from dispatch import schema
from dispatch.clock import now_ms
from feeds.accesslog import to_combined_line
from feeds.signing import sign

pytestmark = [pytest.mark.browser, pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]
TRAFFIC = "document.querySelector('#wall-traffic .js-plotly-plot')"
STAGES = "document.querySelector('#wall-stages .js-plotly-plot')"


def _wait_map_has(page: Page, lat: float) -> None:
    page.wait_for_function(
        f"(lat) => {MARKERS}?.some(t => t.lat.some(v => Math.abs(v - lat) < 1e-5))",
        arg=lat,
        timeout=5_000,
    )


def _web_views(page: Page) -> int:
    web = schema.CHANNELS.index("web")
    return int(page.evaluate(f"({TRAFFIC}.data[{web}].y || []).reduce((a, b) => a + b, 0)"))


def _stage_count(page: Page, stage: str) -> int:
    return int(page.evaluate(f"{STAGES}.data[0].x[{schema.STAGES.index(stage)}]"))


def _story(server: Any, body: dict[str, Any], secret: str = "test-webhook-secret") -> int:
    raw = json.dumps(body, ensure_ascii=False).encode()
    response = httpx.post(
        server.url + "/ingest/story",
        content=raw,
        headers={"Content-Type": "application/json", "X-Signature-256": sign(secret, raw)},
    )
    return response.status_code


def test_trackers_logs_and_webhooks_move_the_wall(
    server: Any, redis_url: str, browser: Browser, tmp_path: Path
) -> None:
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    rep = httpx.post(
        server.url + "/api/v1/reporters",
        json={"name": "周杰", "devices": ["e2e-phone"]},
        headers=admin,
    ).json()
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{server.url}/wall?key={wall_key(redis_url)}&lang=en")
    page.wait_for_function(f"{MARKERS} && {TRAFFIC}?.data && {STAGES}?.data", timeout=20_000)

    # OwnTracks (Basic auth, the reporter's token), then Traccar Client (OsmAnd, bound device).
    now_s = int(time.time())
    fix = {"_type": "location", "lat": 27.751, "lon": 112.551, "tst": now_s - 5, "acc": 12}
    got = httpx.post(server.url + "/ingest/owntracks", json=fix, auth=("zj", rep["token"]))
    assert got.status_code == 200 and got.json() == []
    _wait_map_has(page, 27.751)
    query = {"id": "e2e-phone", "lat": "27.762", "lon": "112.562", "timestamp": str(now_s)}
    assert httpx.get(server.url + "/ingest/osmand", params=query).status_code == 200
    _wait_map_has(page, 27.762)
    # The phone's offline queue arrives late: an older fix is accepted and changes nothing.
    late = {**fix, "lat": 27.7, "tst": now_s - 60}
    assert (
        httpx.post(server.url + "/ingest/owntracks", json=late, auth=("zj", rep["token"])).json()
        == []
    )
    time.sleep(1.0)
    lats = page.evaluate(f"{MARKERS}.flatMap(t => t.lat)")
    assert any(abs(v - 27.762) < 1e-6 for v in lats) and not any(abs(v - 27.7) < 1e-6 for v in lats)

    # A signed CMS webhook moves a story through its stages; a bad signature moves nothing.
    at = now_ms()
    story = {"type": "story", "v": 1, "story_id": "xx-e2e", "title": "防汛调度会", "updated_at": at}
    assert _story(server, {**story, "stage": "editing"}) == 200
    page.wait_for_function(
        f"{STAGES}.data[0].x[{schema.STAGES.index('editing')}] === 1", timeout=5_000
    )
    assert _story(server, {**story, "stage": "published", "updated_at": at + 1}, "wrong") == 401
    assert _story(server, {**story, "stage": "review", "updated_at": at + 2}) == 200
    page.wait_for_function(
        f"{STAGES}.data[0].x[{schema.STAGES.index('review')}] === 1", timeout=5_000
    )
    assert _stage_count(page, "editing") == 0 and _stage_count(page, "published") == 0

    # nginx writes; `newsroom feeds` tails the log, through a rotation, into the traffic chart.
    log = tmp_path / "access.log"

    def write(path: Path, n: int) -> None:
        with path.open("a") as f:
            for _ in range(n):
                f.write(to_combined_line("xx-e2e", "direct", now_ms()) + "\n")

    write(log, 5)
    config = tmp_path / "feeds.toml"
    config.write_text(
        f'[[source]]\nname = "nginx-e2e"\nkind = "accesslog"\npath = "{log}"\n'
        "start_at_end = false\ninterval_s = 0.5\n[alerts]\nenabled = false\n"
    )
    before = _web_views(page)
    feeds = subprocess.Popen(
        [sys.executable, "-m", "dispatch.cli", "feeds", "--config", str(config)],
        env={**server.env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        page.wait_for_function(
            f"(want) => ({TRAFFIC}.data[{schema.CHANNELS.index('web')}].y || [])"
            ".reduce((a, b) => a + b, 0) >= want",
            arg=before + 5,
            timeout=10_000,
        )
        write(log, 2)
        os.rename(log, tmp_path / "access.log.1")  # logrotate `create`...
        write(tmp_path / "access.log.1", 1)  # ...nginx writes on until it reopens
        write(log, 3)
        page.wait_for_function(
            f"(want) => ({TRAFFIC}.data[{schema.CHANNELS.index('web')}].y || [])"
            ".reduce((a, b) => a + b, 0) >= want",
            arg=before + 11,
            timeout=10_000,
        )
        time.sleep(1.5)  # nothing is counted twice
        assert _web_views(page) == before + 11
        health = httpx.get(server.url + "/api/v1/feeds", headers=admin).json()
        assert [(f["name"], f["status"]) for f in health] == [("nginx-e2e", "ok")]
    finally:
        feeds.terminate()
        feeds.wait(timeout=10)
    page.close()
