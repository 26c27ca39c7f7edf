"""Text frames to a websocket, the short way when that is safe.

Under uvicorn, each ASGI `websocket.send` goes through the websocket protocol's `send`: it
waits until the transport is writable, checks the connection's state, has the websockets
library frame the text and writes it. That is about half of the CPU a pushed message costs
the server. When the connection is open and its transport is keeping up,
`TextFrames.write_now` writes the same frame (FIN, text, unmasked, as a server sends it)
straight to the transport, as the websockets library's own `broadcast()` does. Otherwise (a
reader that is behind, a closing connection, another ASGI server) the caller awaits the ASGI
path, with its back-pressure and errors. The protocol recognised is uvicorn's default,
`websockets-sansio`; with another (wsproto, the deprecated legacy `websockets`) or another
server, every frame takes the ASGI path.
"""

from __future__ import annotations

import struct
from typing import Any

from starlette.types import Send
from starlette.websockets import WebSocketDisconnect
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

# Above this many bytes waiting in the transport the reader is behind: take the ASGI path,
# which waits for the buffer to drain (the push's timeout then applies).
DIRECT_MAX_BUFFER = 64 * 1024


async def send_text(send: Send, text: str) -> None:
    """One text frame, straight to the server's ASGI `send`. Starlette's WebSocket.send_text
    would add a fifth to the CPU of each delivery (its state checks and exception wrapper);
    text frames do not change the socket's state, so only the error is translated here."""
    try:
        await send({"type": "websocket.send", "text": text})
    except OSError:  # uvicorn: ClientDisconnected
        raise WebSocketDisconnect(code=1006) from None


def text_frame(text: str) -> bytes:
    """One complete server-to-client text frame (RFC 6455 §5.2: FIN, opcode 1, no mask)."""
    data = text.encode()
    size = len(data)
    if size < 126:
        return bytes((0x81, size)) + data
    if size < 65536:
        return struct.pack("!BBH", 0x81, 126, size) + data
    return struct.pack("!BBQ", 0x81, 127, size) + data


def _protocol(send: Send) -> Any:
    """uvicorn's `websockets-sansio` protocol behind an ASGI `send`, if that is what it is."""
    proto = getattr(send, "__self__", None)
    return proto if isinstance(proto, WebSocketsSansIOProtocol) else None


class TextFrames:
    """The text frames of one connection (one small object per socket)."""

    __slots__ = ("send", "_proto")

    def __init__(self, send: Send) -> None:
        self.send = send
        self._proto = _protocol(send)

    @property
    def direct(self) -> bool:
        """Whether frames can be written directly on this server (else always ASGI)."""
        return self._proto is not None

    def write_now(self, text: str) -> bool:
        """Write `text` as one frame now if the connection is open and keeping up; False if
        the caller must `await self.send_text(text)` instead."""
        proto = self._proto
        if (
            proto is None
            or not proto.handshake_complete
            or proto.close_sent
            or proto.disconnected
            or not proto.writable.is_set()  # uvicorn paused writing: the reader is behind
            or proto.conn.state is not State.OPEN
        ):
            return False
        transport = proto.transport
        if transport.is_closing() or transport.get_write_buffer_size() > DIRECT_MAX_BUFFER:
            return False
        transport.write(text_frame(text))
        return True

    async def send_text(self, text: str) -> None:
        """The ASGI path (waits for the transport to drain)."""
        await send_text(self.send, text)
