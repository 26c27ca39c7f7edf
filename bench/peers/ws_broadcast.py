"""Peer: the websockets library's own asyncio server; each Redis message goes to every
connection with `websockets.broadcast()` (one frame encoded once, written synchronously)."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from websockets.asyncio.server import ServerConnection, broadcast, serve

from bench.peers.common import args, use_uvloop


async def main() -> None:
    a = args(__doc__ or "")
    clients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    r = aioredis.from_url(a.redis, decode_responses=True)
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(a.channel)
    async with serve(handler, "127.0.0.1", a.port, compression=None, max_size=65536, backlog=4096):
        async for message in pubsub.listen():
            if message["type"] == "message":
                broadcast(clients, message["data"])


if __name__ == "__main__":
    use_uvloop()
    asyncio.run(main())
