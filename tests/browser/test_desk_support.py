"""What the desk's browser tests share (it holds no tests): supervisors logged in in their own
browser contexts, reporters with a fix, a reporter's phone on the websocket, stories, traffic
and alerts written through the real services, and the desk's dropdowns."""

from __future__ import annotations

import json
import threading
from typing import Any

from playwright.sync_api import Browser, Page
from websockets.sync.client import connect

from browser_helpers import KEYS, arun
from dispatch import auth, db, escalation, reporters, schema, stories
from dispatch.clock import now_ms


def make_reporters(
    redis_url: str, names: list[str], battery: list[float] | None = None
) -> list[dict[str, Any]]:
    """Reporters near the county seat, 2.2 km apart going north, the first nearest; each with
    their token."""

    async def go() -> list[dict[str, Any]]:
        r = db.connect(redis_url)
        made = []
        for i, name in enumerate(names):
            rep = await reporters.create(r, KEYS, name, ["camera"])
            await reporters.apply_fix(
                r,
                KEYS,
                schema.Location(
                    reporter_id=rep["reporter_id"],
                    lat=27.735 + 0.02 * i,
                    lon=112.534,
                    accuracy_m=6,
                    battery=(battery or [90 - 10 * i for i in range(len(names))])[i],
                    ts=now_ms(),
                    received_at=now_ms(),
                    source="app",
                ),
            )
            made.append(rep)
        await r.aclose()
        return made

    return arun(go())


def supervisor(redis_url: str, name: str) -> str:
    """A supervisor token for `name` (what the desk shows as who did what)."""

    async def go() -> str:
        r = db.connect(redis_url)
        token, _ = await auth.create_token(r, KEYS, "supervisor", name)
        await r.aclose()
        return token

    return arun(go())


def open_desk(browser: Browser, url: str, token: str, lang: str = "en") -> Page:
    """A desk in a browser context of its own (its own session cookie), live."""
    page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    page.goto(f"{url}/desk?lang={lang}")
    page.fill("input[name=token]", token)
    page.click("#desk-login button[type=submit]")
    page.wait_for_selector("#desk-title", timeout=15_000)
    wait_live(page)
    return page


def wait_live(page: Page) -> None:
    """Until the desk's stream is running (its heartbeat says live)."""
    page.wait_for_function(
        "(() => { const b = document.querySelector('#desk-heartbeat');"
        " return b && /^live/.test(b.textContent); })()",
        timeout=15_000,
    )


def choose(page: Page, dropdown: str, value: str) -> None:
    """Pick the option with `value` in a Dash dropdown."""
    page.click(f"#{dropdown}")
    page.click(f".dash-dropdown-option:has(input[value='{value}'])")


def story(
    redis_url: str, story_id: str, title: str, stage: str, ago_s: float = 0, **extra: Any
) -> None:
    """A story update from the CMS, made `ago_s` seconds ago."""

    async def go() -> None:
        r = db.connect(redis_url)
        at = now_ms() - int(ago_s * 1000)
        await stories.upsert_story(
            r,
            KEYS,
            schema.Story(story_id=story_id, title=title, stage=stage, updated_at=at, **extra),
        )
        await r.aclose()

    arun(go())


def traffic(redis_url: str, story_id: str, minutes: int, per_minute: dict[str, int]) -> None:
    """Views of a story over the last `minutes` minutes, per channel per minute."""

    async def go() -> None:
        r = db.connect(redis_url)
        now = now_ms()
        items = [
            schema.Traffic(
                story_id=story_id, channel=channel, window_start=now - 60_000 * m, views=views
            )
            for m in range(minutes)
            for channel, views in per_minute.items()
        ]
        await stories.record_traffic_batch(r, KEYS, items)
        await r.aclose()

    arun(go())


def alert(redis_url: str, kind: str, subject: str, text: str) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        await escalation.raise_alert(r, KEYS, kind, subject, text, "warning")
        await r.aclose()

    arun(go())


class Phone(threading.Thread):
    """A reporter's phone: the websocket protocol, acknowledging every push; `send` queues a
    status change."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.tasks: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.outgoing: list[dict[str, Any]] = []
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        with self.lock:
            self.outgoing.append(message)

    def run(self) -> None:
        with connect(self.url) as ws:
            ws.send(json.dumps({"type": "hello", "v": 1, "token": self.token}))
            assert json.loads(ws.recv(timeout=5))["type"] == "welcome"
            self.ready.set()
            while not self.stop.is_set():
                with self.lock:
                    queued, self.outgoing = self.outgoing, []
                for message in queued:
                    ws.send(json.dumps(message))
                try:
                    msg = json.loads(ws.recv(timeout=0.1))
                except TimeoutError:
                    continue
                if msg["type"] in ("task", "task_update"):
                    (self.tasks if msg["type"] == "task" else self.updates).append(msg["task"])
                    ws.send(json.dumps({"type": "ack", "v": 1, "cursor": msg["cursor"]}))
