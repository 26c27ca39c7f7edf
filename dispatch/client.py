"""The reference reporter client (`newsroom reporter`): protocol v1 over the websockets library.

Connects, says hello with the token (and the last cursor it processed), prints every pushed
task once (deduplicated by task_id + version), acknowledges it after printing, and reconnects
with backoff, resuming from its cursor. Lines typed on standard input change a task's status:

    accept TASK_ID            decline TASK_ID REASON...
    en_route TASK_ID          on_scene TASK_ID          filed TASK_ID          done TASK_ID

A command typed while disconnected waits and is sent (once, with its client-made id) on
reconnect.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import websockets
from websockets.exceptions import ConnectionClosed, WebSocketException

FATAL_CODES = {1008}  # policy: wrong token, revoked: reconnecting will not help
VERBS = {
    "accept": "accepted",
    "decline": "declined",
    "en_route": "en_route",
    "on_scene": "on_scene",
    "filed": "filed",
    "done": "done",
}


def parse_command(line: str) -> dict[str, Any]:
    """A typed line as a task_status message; ValueError with usage for anything else."""
    words = line.split(maxsplit=2)
    if len(words) < 2 or words[0] not in VERBS:
        raise ValueError("usage: accept|decline|en_route|on_scene|filed|done TASK_ID [REASON]")
    status = VERBS[words[0]]
    reason = words[2] if len(words) > 2 else ""
    if status == "declined" and not reason:
        raise ValueError("decline needs a reason: decline TASK_ID REASON...")
    return {
        "type": "task_status",
        "v": 1,
        "id": uuid.uuid4().hex,
        "task_id": words[1],
        "status": status,
        "reason": reason,
    }


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
        self.outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
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
            sender = asyncio.create_task(self._send_commands(ws))
            try:
                await self._receive(ws)
            finally:
                sender.cancel()

    async def _send_commands(self, ws: Any) -> None:
        while True:
            msg = await self.outgoing.get()
            try:
                await ws.send(json.dumps(msg))
            except ConnectionClosed:
                self.outgoing.put_nowait(msg)  # kept for the next connection, same id
                raise

    def read_commands(self, stream: TextIO = sys.stdin) -> None:
        """Queue the status commands typed on `stream`, from a daemon thread (a blocked read
        must not keep the program from exiting)."""
        loop = asyncio.get_running_loop()

        def reader() -> None:
            for line in stream:
                if not line.strip():
                    continue
                try:
                    loop.call_soon_threadsafe(self.outgoing.put_nowait, parse_command(line))
                except ValueError as exc:
                    print(exc, file=sys.stderr, flush=True)

        threading.Thread(target=reader, name="commands", daemon=True).start()

    async def _receive(self, ws: Any) -> None:
        async for raw in ws:
            msg = json.loads(raw)
            kind = msg.get("type")
            if kind == "welcome":
                rep = msg["reporter"]
                held = msg.get("tasks") or []
                print(
                    f"connected as {rep['name']} ({rep['reporter_id']}); "
                    f"{len(held)} open task(s) held; waiting for tasks",
                    file=self.out,
                    flush=True,
                )
                for task in held:  # caught up from the server, whatever device acknowledged it
                    key = (task["task_id"], int(task["version"]))
                    if key not in self.seen:
                        self.seen.add(key)
                        print("  " + describe({"task": task}), file=self.out, flush=True)
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
            except (TimeoutError, OSError, WebSocketException) as exc:  # refused, bad handshake
                print(
                    f"cannot connect to {self.url}: {exc}; retrying in {delay:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
            if not reconnect:
                return 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15)
