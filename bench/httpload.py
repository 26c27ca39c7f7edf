"""A lean HTTP/1.1 load generator: C keep-alive connections, each sending its next request as
soon as the previous answer is read (closed loop), for a fixed time, from client processes on
the load core. Requests are built by a named maker so they can cross process boundaries."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import multiprocessing as mp
import time
from dataclasses import dataclass, field
from typing import Any, cast

MAKERS = ("osmand_get", "osmand_json")


@dataclass
class LoadSpec:
    host: str
    port: int
    connections: int
    seconds: float
    maker: str = "osmand_get"
    devices: int = 1000
    slot: int = 0
    slots: int = 1
    batch: int = 1  # osmand_json: fixes per request (a phone's queued fixes in one body)


@dataclass
class LoadResult:
    ok: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[int] = field(default_factory=list)
    seconds: float = 0.0


class Maker:
    """OsmAnd fixes, round robin over the bound devices, each device's time increasing: one a
    GET (`osmand_get`, as Traccar Client sends live), or `batch` of one device in a JSON POST
    (`osmand_json`, Traccar Client 9's body with `location` an array, as a queue is flushed)."""

    def __init__(self, spec: LoadSpec) -> None:
        self.spec = spec
        self.i = spec.slot
        self.last: dict[int, int] = {}

    def next(self) -> bytes:
        s = self.spec
        dev = self.i % s.devices
        self.i += s.slots
        if s.maker == "osmand_json":
            return self._json(dev)
        ts = max(int(time.time() * 1000), self.last.get(dev, 0) + 1)
        self.last[dev] = ts
        lat = 27.70 + (self.i % 997) * 1e-4
        path = (
            f"/ingest/osmand?id=dev-{dev:05d}&lat={lat:.5f}&lon=112.53&timestamp={ts}"
            f"&speed=3.2&bearing=90&accuracy=8&batt=77"
        )
        return f"GET {path} HTTP/1.1\r\nHost: {s.host}:{s.port}\r\n\r\n".encode()

    def _json(self, dev: int) -> bytes:
        s = self.spec
        ts = max(int(time.time() * 1000) - s.batch, self.last.get(dev, 0) + 1)
        self.last[dev] = ts + s.batch - 1
        fixes = ",".join(
            f'{{"timestamp":{ts + k},"coords":{{"latitude":{27.70 + k * 1e-4:.5f},'
            f'"longitude":112.53,"speed":1.6,"heading":90,"accuracy":8}},'
            f'"battery":{{"level":0.77}}}}'
            for k in range(s.batch)
        )
        body = f'{{"device_id":"dev-{dev:05d}","location":[{fixes}]}}'.encode()
        head = (
            f"POST /ingest/osmand HTTP/1.1\r\nHost: {s.host}:{s.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body


class Conn(asyncio.Protocol):
    def __init__(self, maker: Maker, result: LoadResult, stop_at: float) -> None:
        self.maker, self.result, self.stop_at = maker, result, stop_at
        self.buf = b""
        self.sent_ns = 0
        self.transport: asyncio.Transport | None = None
        self.done = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.send()

    def send(self) -> None:
        assert self.transport
        if time.monotonic() >= self.stop_at:
            self.transport.close()
            return
        self.sent_ns = time.monotonic_ns()
        self.transport.write(self.maker.next())

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if len(self.buf) < end + 4 + length:
                return
            self.buf = self.buf[end + 4 + length :]
            status = int(head[9:12])
            r = self.result
            r.statuses[status] = r.statuses.get(status, 0) + 1
            if 200 <= status < 300:
                r.ok += 1
            else:
                r.errors += 1
            if r.ok % 16 == 0:
                r.latencies.append(time.monotonic_ns() - self.sent_ns)
            self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


def _same(protocol: Conn) -> Conn:
    return protocol


async def _run(spec: LoadSpec) -> LoadResult:
    loop = asyncio.get_running_loop()
    result = LoadResult()
    maker = Maker(spec)
    start = time.monotonic()
    stop_at = start + spec.seconds
    conns = []
    for _ in range(spec.connections):
        c = Conn(maker, result, stop_at)
        with contextlib.suppress(OSError):
            await loop.create_connection(functools.partial(_same, c), spec.host, spec.port)
            conns.append(c)
    await asyncio.wait([c.done for c in conns], timeout=spec.seconds + 30)
    result.seconds = time.monotonic() - start
    return result


def _worker(spec: LoadSpec, out: Any, cpus: set[int]) -> None:
    from bench.harness import pin, raise_nofile

    raise_nofile()
    pin(0, cpus)
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    out.send(asyncio.run(_run(spec)))


def run(spec: LoadSpec, processes: int, cpus: set[int]) -> LoadResult:
    """Run the load from `processes` processes; the connections are split between them."""
    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    for k in range(processes):
        part = LoadSpec(**{**spec.__dict__, "connections": max(1, spec.connections // processes),
                           "slot": k, "slots": processes})  # fmt: skip
        a, b = ctx.Pipe()
        p = ctx.Process(target=_worker, args=(part, b, cpus), daemon=True)
        p.start()
        pipes.append(a)
        procs.append(p)
    total = LoadResult()
    for a, p in zip(pipes, procs, strict=True):
        if a.poll(spec.seconds + 120):
            r: LoadResult = a.recv()
            total.ok += r.ok
            total.errors += r.errors
            total.latencies += r.latencies
            total.seconds = max(total.seconds, r.seconds)
            for k, v in r.statuses.items():
                total.statuses[k] = total.statuses.get(k, 0) + v
        p.join(5)
        if p.is_alive():
            p.terminate()
    return total
