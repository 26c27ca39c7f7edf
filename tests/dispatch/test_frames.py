"""dispatch.frames: text frames written straight to the transport while the reader keeps up,
through ASGI (with its back-pressure) when it falls behind; in order either way.

A real uvicorn (our config) on loopback and a real websockets client.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvicorn
import websockets
from hypothesis import given
from hypothesis import strategies as st
from starlette.types import Receive, Scope, Send
from websockets.frames import Frame, Opcode

from dispatch.app import uvicorn_config
from dispatch.frames import DIRECT_MAX_BUFFER, TextFrames, text_frame
from dispatch.settings import Settings

Run = Callable[[Coroutine[Any, Any, Any]], Any]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _serve_and_read(
    count: int, size: int, read_after: float, ws: str = "auto"
) -> dict[str, Any]:
    """A socket that sends `count` numbered messages of `size` bytes as fast as it can; the
    client starts reading after `read_after` seconds. Returns what each side saw."""
    seen: dict[str, Any] = {"direct": 0, "asgi": 0, "resolved": None}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        frames = TextFrames(send)
        seen["resolved"] = frames.direct
        for i in range(count):
            text = f"{i:08d}" + "x" * (size - 8)
            if frames.write_now(text):
                seen["direct"] += 1
            else:
                seen["asgi"] += 1
                await frames.send_text(text)
        await send({"type": "websocket.close", "code": 1000})

    port = _free_port()
    config = uvicorn_config(app, Settings(host="127.0.0.1", port=port))
    config.ws = ws
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            if serving.done():
                serving.result()  # the server failed to start: raise its error
                raise RuntimeError("uvicorn exited before it started")
            await asyncio.sleep(0.02)
    received: list[str] = []
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/", max_size=2**20) as client:
            await asyncio.sleep(read_after)
            with contextlib.suppress(websockets.ConnectionClosedOK):
                async for message in client:
                    received.append(str(message))
    finally:
        server.should_exit = True
        await serving
    seen["received"] = received
    return seen


@pytest.mark.parametrize("ws", ["auto", "websockets-sansio"])
def test_a_reader_that_keeps_up_gets_frames_written_directly(run: Run, ws: str) -> None:
    seen = run(_serve_and_read(200, 200, read_after=0.0, ws=ws))
    assert seen["resolved"] is True  # the websocket protocol was recognised
    assert [int(m[:8]) for m in seen["received"]] == list(range(200))
    assert seen["direct"] > 0


def test_another_server_takes_the_asgi_path(run: Run) -> None:
    """An ASGI `send` that is not uvicorn's websockets-sansio protocol is never bypassed."""
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def go() -> bool:
        frames = TextFrames(send)
        if frames.direct or frames.write_now("x"):
            return False
        await frames.send_text("hello")
        return True

    assert run(go()) is True
    assert sent == [{"type": "websocket.send", "text": "hello"}]


@given(st.text(max_size=70_000))
def test_a_frame_is_what_the_websockets_library_would_write(text: str) -> None:
    expected = Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])
    assert text_frame(text) == expected


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536, 70_000])
def test_frames_at_the_length_boundaries(size: int) -> None:
    text = "x" * size
    expected = Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])
    assert text_frame(text) == expected


def test_a_reader_that_falls_behind_gets_back_pressure_and_every_frame_in_order(
    run: Run,
) -> None:
    # 8 MiB for a reader that starts late: far more than the direct path may buffer.
    count, size = 1024, 8 * 1024
    seen = run(_serve_and_read(count, size, read_after=0.5))
    assert seen["asgi"] > 0  # the buffer passed DIRECT_MAX_BUFFER: the ASGI path took over
    assert seen["direct"] * size < count * size  # not everything was written at once
    assert seen["direct"] >= DIRECT_MAX_BUFFER // size
    assert [int(m[:8]) for m in seen["received"]] == list(range(count))
    assert all(len(m) == size for m in seen["received"])
