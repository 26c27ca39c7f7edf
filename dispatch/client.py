"""The reference reporter client (`newsroom reporter`): protocol v1 over the websockets library.

Connects, says hello with the token (and the last cursor it processed), prints every pushed
task once (deduplicated by task_id + version), acknowledges it after printing, answers
pings, and reconnects with backoff, resuming from its cursor.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

FATAL_CODES = {1008}  # policy: wrong token, revoked: reconnecting will not help


def describe(msg: dict[str, Any]) -> str:
    task = msg.get("task", {})
    change = msg.get("change")
    head = (
        f"[{task.get('priority', 'normal').upper()}] " if task.get("priority") != "normal" else ""
    )
    what = f"task {task.get('task_id')} v{task.get('version')} {task.get('state')}"
    if change:
        what += f" ({change})"
    where = f"@ {task.get('lat'):.5f},{task.get('lon'):.5f}" if "lat" in task else ""
    return f"{head}{what}: {task.get('title', '')} {where}".strip()


class ReporterClient:
    def __init__(
        self,
        url: str,
        token: str,
        state_file: Path | None = None,
        out: TextIO = sys.stdout,
        on_message: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.url, self.token, self.state_file, self.out = url, token, state_file, out
        self.on_message = on_message
        self.cursor: str | None = None
        self.seen: set[tuple[str, int]] = set()
        if state_file and state_file.exists():
            self.cursor = state_file.read_text().strip() or None

    def _save(self) -> None:
        if self.state_file and self.cursor:
            self.state_file.write_text(self.cursor)

    async def run_once(self) -> None:
        async with websockets.connect(
            self.url, max_size=64 * 1024, compression=None, open_timeout=10
        ) as ws:
            await ws.send(
                json.dumps({"type": "hello", "v": 1, "token": self.token, "resume": self.cursor})
            )
            async for raw in ws:
                msg = json.loads(raw)
                kind = msg.get("type")
                if kind == "welcome":
                    rep = msg["reporter"]
                    print(
                        f"connected as {rep['name']} ({rep['reporter_id']}); waiting for tasks",
                        file=self.out,
                        flush=True,
                    )
                elif kind in ("task", "task_update"):
                    key = (msg["task"]["task_id"], int(msg["task"]["version"]))
                    if key not in self.seen:
                        self.seen.add(key)
                        print(describe(msg), file=self.out, flush=True)
                        if self.on_message:
                            self.on_message(msg)
                    self.cursor = msg["cursor"]
                    self._save()
                    await ws.send(json.dumps({"type": "ack", "v": 1, "cursor": msg["cursor"]}))
                elif kind == "error":
                    print(
                        f"server error {msg.get('code')}: {msg.get('text')}",
                        file=sys.stderr,
                        flush=True,
                    )

    async def run(self, reconnect: bool = True) -> int:
        delay = 0.5
        while True:
            try:
                await self.run_once()
                delay = 0.5
            except ConnectionClosed as exc:
                rcvd = exc.rcvd
                if rcvd is not None and rcvd.code in FATAL_CODES:
                    print(
                        f"closed by the server: {rcvd.reason or rcvd.code}",
                        file=sys.stderr,
                        flush=True,
                    )
                    return 2
                print(
                    f"connection lost ({rcvd.code if rcvd else 'no close frame'}); reconnecting",
                    file=sys.stderr,
                    flush=True,
                )
            except (TimeoutError, OSError, InvalidStatus) as exc:
                print(
                    f"cannot connect to {self.url}: {exc}; retrying in {delay:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
            if not reconnect:
                return 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15)
