"""Ours, the fan-out path alone: `dispatch.bus.Bus` (one process-wide PSUBSCRIBE fanned out to
bounded per-client queues) and a Starlette websocket that forwards each message as it comes,
reached the way `dispatch.app.Edge` serves the reporter socket (straight from the outermost ASGI
layer, no framework wrappers around each send), served with `dispatch.app.uvicorn_config` (our
uvicorn settings: compression off, 64 KiB frames). This is what a live socket of the product
does per message before its own work (a reporter's outbox read)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from bench.peers.common import args
from dispatch import db
from dispatch.app import uvicorn_config
from dispatch.bus import RESYNC, Bus, Subscription
from dispatch.frames import TextFrames
from dispatch.settings import Settings


def build(redis_url: str, channel: str) -> ASGIApp:
    state: dict[str, Bus] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = db.connect(redis_url)
        bus = Bus(client)
        await bus.start()
        state["bus"] = bus
        try:
            yield
        finally:
            await bus.stop()
            await client.aclose()

    app = FastAPI(lifespan=lifespan)

    async def edge(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == "/ws":
            await ws(WebSocket(scope, receive, send), send)
        else:
            await app(scope, receive, send)

    async def ws(socket: WebSocket, send: Send) -> None:
        await socket.accept()
        async with state["bus"].subscribe(channel) as sub:
            sender = asyncio.create_task(_forward(TextFrames(send), sub))
            try:
                while True:
                    await socket.receive_text()
            except WebSocketDisconnect:
                pass
            finally:
                sender.cancel()

    return edge


async def _forward(frames: TextFrames, sub: Subscription) -> None:
    """As a reporter session's sender writes (dispatch.ws.Session.send)."""
    while True:
        message = await sub.get()
        if message != RESYNC and not frames.write_now(message):
            await frames.send_text(message)


def main() -> None:
    a = args(__doc__ or "", loop=True)
    app = build(a.redis, a.channel)
    config = uvicorn_config(app, Settings(host="127.0.0.1", port=a.port))
    config.backlog = 4096
    server = uvicorn.Server(config)
    if a.loop == "asyncio":
        asyncio.run(server.serve())  # the standard library's event loop
    else:
        config.loop = "uvloop"
        server.run()


if __name__ == "__main__":
    main()
