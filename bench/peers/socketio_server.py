"""Peer: python-socketio with its AsyncRedisManager (the documented way to emit from other
processes through Redis), as an ASGI app on uvicorn with compression off, like ours."""

from __future__ import annotations

import socketio
import uvicorn

from bench.peers.common import args

CHANNEL = "socketio"


def main() -> None:
    a = args(__doc__ or "")
    mgr = socketio.AsyncRedisManager(a.redis, channel=CHANNEL)
    sio = socketio.AsyncServer(
        async_mode="asgi", client_manager=mgr, cors_allowed_origins="*", http_compression=False
    )
    app = socketio.ASGIApp(sio)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=a.port,
        ws_max_size=64 * 1024,
        ws_per_message_deflate=False,
        log_level="warning",
        backlog=4096,
    )


if __name__ == "__main__":
    main()
