"""Test clients for fault tests: phones that speak protocol v1 and a task creator that retries."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus


@dataclass
class Phone:
    """A reporter's phone: connects to any of `urls`, resumes from its cursor, dedupes by
    task_id + version, acknowledges after recording, and reconnects whatever happens."""

    urls: list[str]
    token: str
    shown: list[dict[str, Any]] = field(default_factory=list)  # tasks as shown to the reporter
    receipts: int = 0  # every push received, duplicates included
    cursor: str | None = None
    seen: set[tuple[str, int]] = field(default_factory=set)
    connects: int = 0

    def titles(self) -> list[str]:
        return [t["title"] for t in self.shown]

    async def run(self, stop: asyncio.Event) -> None:
        i = 0
        while not stop.is_set():
            url = self.urls[i % len(self.urls)]
            i += 1
            try:
                async with websockets.connect(url, open_timeout=3, close_timeout=1) as ws:
                    self.connects += 1
                    await ws.send(
                        json.dumps(
                            {"type": "hello", "v": 1, "token": self.token, "resume": self.cursor}
                        )
                    )
                    while not stop.is_set():
                        try:
                            raw = await asyncio.wait_for(ws.recv(), 0.2)
                        except TimeoutError:
                            continue
                        msg = json.loads(raw)
                        if msg["type"] not in ("task", "task_update"):
                            continue
                        self.receipts += 1
                        key = (msg["task"]["task_id"], int(msg["task"]["version"]))
                        if msg["type"] == "task" and key not in self.seen:
                            self.shown.append(msg["task"])
                        self.seen.add(key)
                        self.cursor = msg["cursor"]
                        await ws.send(json.dumps({"type": "ack", "v": 1, "cursor": msg["cursor"]}))
            except (OSError, ConnectionClosed, InvalidStatus, TimeoutError):
                await asyncio.sleep(0.1)


async def create_task(
    client: httpx.AsyncClient,
    urls: list[str],
    admin: str,
    body: dict[str, Any],
    give_up_s: float = 60,
) -> dict[str, Any]:
    """POST a task with an Idempotency-Key, retrying (same key) on any server until one answers.
    Only an answer with 200/201 counts as acknowledged."""
    key = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {admin}", "Idempotency-Key": key}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_s
    attempt = 0
    while loop.time() < deadline:
        attempt += 1
        url = urls[attempt % len(urls)]
        try:
            r = await client.post(url + "/api/v1/tasks", json=body, headers=headers, timeout=5)
        except httpx.HTTPError:
            await asyncio.sleep(0.05)
            continue
        if r.status_code in (200, 201):
            return r.json()  # type: ignore[no-any-return]
        if r.status_code not in (502, 503, 409):
            raise AssertionError(f"unexpected {r.status_code}: {r.text}")
        await asyncio.sleep(0.05)
    raise AssertionError(f"task never acknowledged in {give_up_s} s ({attempt} attempts): {body}")


async def wait_until(predicate: Any, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
