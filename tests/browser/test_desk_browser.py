"""The desk in headless Chromium: log in, get the nearest reporters, dispatch in one click; the
task reaches the reporter's websocket, and the acknowledgement comes back to the desk by push."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser
from websockets.sync.client import connect

from browser_helpers import KEYS, arun
from dispatch import db, reporters, schema
from dispatch.clock import now_ms

pytestmark = [pytest.mark.browser, pytest.mark.integration]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


def _reporters(redis_url: str) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        r = db.connect(redis_url)
        made = []
        for i, name in enumerate(["杨帆", "郑凯", "赵敏"]):
            rep = await reporters.create(r, KEYS, name, ["camera"])
            await reporters.apply_fix(
                r,
                KEYS,
                schema.Location(
                    reporter_id=rep["reporter_id"],
                    lat=27.735 + 0.02 * i,
                    lon=112.534,
                    accuracy_m=6,
                    battery=90 - 10 * i,
                    ts=now_ms(),
                    received_at=now_ms(),
                    source="app",
                ),
            )
            made.append(rep)
        await r.aclose()
        return made

    return arun(go())


class Phone(threading.Thread):
    """A reporter's phone: the websocket protocol, acknowledging every push."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.tasks: list[dict[str, Any]] = []
        self.ready = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        with connect(self.url) as ws:
            ws.send(json.dumps({"type": "hello", "v": 1, "token": self.token}))
            assert json.loads(ws.recv(timeout=5))["type"] == "welcome"
            self.ready.set()
            while not self.stop.is_set():
                try:
                    msg = json.loads(ws.recv(timeout=0.2))
                except TimeoutError:
                    continue
                if msg["type"] == "task":
                    self.tasks.append(msg["task"])
                    ws.send(json.dumps({"type": "ack", "v": 1, "cursor": msg["cursor"]}))


def test_desk_dispatch_reaches_the_reporter_and_back(
    server: Any, redis_url: str, browser: Browser
) -> None:
    nearest, *_ = _reporters(redis_url)
    phone = Phone(server.url.replace("http", "ws", 1) + "/ws/reporter", nearest["token"])
    phone.start()
    assert phone.ready.wait(10)

    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{server.url}/desk?lang=en")
    page.fill("input[name=token]", "not-the-token")
    page.click("#desk-login button[type=submit]")
    page.wait_for_selector("#desk-login-error", timeout=15_000)
    page.fill("input[name=token]", server.admin_token)
    page.click("#desk-login button[type=submit]")
    page.wait_for_selector("#desk-title", timeout=15_000)

    page.fill("#desk-title", "Reservoir flood check")
    page.fill("#desk-brief", "Meet the water bureau at the dam.")
    page.click("#desk-suggest")
    first = page.wait_for_selector("#desk-suggestions li[data-reporter-id]", timeout=10_000)
    assert first.get_attribute("data-reporter-id") == nearest["reporter_id"]
    assert "km" in first.inner_text()

    page.click("#desk-dispatch")
    ok = page.wait_for_selector("#desk-result .nr-ok", timeout=10_000)
    task_id = ok.get_attribute("data-task-id")
    assert ok.get_attribute("data-state") == "offered"

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not phone.tasks:
        time.sleep(0.05)
    assert [t["task_id"] for t in phone.tasks] == [task_id]
    assert phone.tasks[0]["title"] == "Reservoir flood check"

    # The phone acknowledged: the desk's task list shows it delivered, pushed, not reloaded.
    page.wait_for_function(
        "(id) => [...document.querySelectorAll('#desk-tasks [data-task-id]')]"
        ".some(r => r.dataset.taskId === id && /delivered/i.test(r.innerText))",
        arg=task_id,
        timeout=5_000,
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "desk.png"))

    page.click("#desk-logout button")
    page.wait_for_selector("#desk-login", timeout=15_000)
    phone.stop.set()
    phone.join(5)
    page.close()
