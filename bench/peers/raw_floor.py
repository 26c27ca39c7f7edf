"""The floor: hand-written asyncio protocols, no framework. The websocket upgrade is done by
hand; each Redis message (read with hiredis from one raw SUBSCRIBE connection) becomes one
pre-encoded frame that is written to every open transport. Nothing per delivery but a
`transport.write` of the same bytes."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from typing import cast
from urllib.parse import urlparse

import hiredis

from bench.peers.common import args, use_uvloop

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OPEN: set[asyncio.Transport] = set()


def frame(payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes([0x81, n]) + payload
    if n < 65536:
        return bytes([0x81, 126]) + n.to_bytes(2, "big") + payload
    return bytes([0x81, 127]) + n.to_bytes(8, "big") + payload


class WS(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.open = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.open:
            if data and data[0] & 0x0F == 8 and self.transport:  # close frame
                self.transport.close()
            return
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        key = b""
        for line in self.buf[:end].split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-key":
                key = value.strip()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        assert self.transport
        self.transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        self.open = True
        OPEN.add(self.transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport:
            OPEN.discard(self.transport)


class RedisSub(asyncio.Protocol):
    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.reader = hiredis.Reader()
        self.lost = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)
        ch = self.channel.encode()
        transport.write(b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(ch), ch))

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            if isinstance(reply, list) and reply[0] == b"message":
                f = frame(reply[2])
                for t in OPEN:
                    t.write(f)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)


async def main() -> None:
    a = args(__doc__ or "")
    loop = asyncio.get_running_loop()
    url = urlparse(a.redis)
    sub = RedisSub(a.channel)
    if url.scheme == "unix":
        await loop.create_unix_connection(lambda: sub, url.path)
    else:
        await loop.create_connection(lambda: sub, url.hostname, url.port or 6379)
    server = await loop.create_server(WS, "127.0.0.1", a.port, backlog=4096)
    async with server:
        await sub.lost


if __name__ == "__main__":
    use_uvloop()
    asyncio.run(main())
