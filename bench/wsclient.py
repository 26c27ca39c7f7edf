"""Lean websocket clients for the load side: a raw asyncio protocol that speaks just enough
RFC 6455 (upgrade, masked client text frames, unmasked server frames, ping/pong) to hold
thousands of connections per process and count frames at hundreds of thousands per second.

Client processes run `worker()`; the parent drives them through a `Clients` handle: connect,
reset the counters, wait for a number of deliveries, collect latency samples, stop.

Kinds of connection (what a "delivery" is):
- plain     every text frame (the fan-out peers and our bus server)
- socketio  Engine.IO v4 / Socket.IO v5 over a websocket: `42[...]` event frames; answers pings
- reporter  /ws/reporter: sends hello, counts pushes (frames with a cursor) and acks each one
- dash      Dash's /_dash-ws-callback: starts the wall's persistent callback, answers the
            server's get_props probes, counts set_props frames that carry the bench marker
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
import multiprocessing as mp
import os
import random
import re
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, cast

STAMP = re.compile(rb'bt\\?"?[:=](\d{12,20})')
CURSOR = re.compile(rb'^\{"cursor":"([0-9]+-[0-9]+)"')


def _frame(text: bytes, opcode: int = 1) -> bytes:
    """A masked client frame."""
    n = len(text)
    head = bytearray([0x80 | opcode])
    if n < 126:
        head.append(0x80 | n)
    elif n < 65536:
        head.append(0x80 | 126)
        head += n.to_bytes(2, "big")
    else:
        head.append(0x80 | 127)
        head += n.to_bytes(8, "big")
    mask = os.urandom(4)
    body = bytes(b ^ mask[i & 3] for i, b in enumerate(text))
    return bytes(head) + mask + body


@dataclass
class ClientSpec:
    host: str
    port: int
    path: str
    kind: str = "plain"
    count: int = 100
    first: list[str] | None = None  # per connection: its first text message (hello)
    origin: str | None = None
    sample_every: int = 1  # latency samples on connections whose index % sample_every == 0
    concurrency: int = 100
    dash_request: str | None = None  # the wall's callback_request
    marker: bytes = b""  # dash: a set_props frame is a delivery if it holds this


@dataclass
class Stats:
    deliveries: int = 0
    last_ns: int = 0
    latencies: list[int] = field(default_factory=list)
    opened: int = 0
    ready: int = 0
    failed: int = 0
    closed: int = 0
    close_codes: dict[int, int] = field(default_factory=dict)
    since_ns: int = 0  # dash: stamps older than the last reset are not this run's probes


class WSClient(asyncio.Protocol):
    def __init__(self, spec: ClientSpec, index: int, stats: Stats, sample: bool) -> None:
        self.spec, self.index, self.stats, self.sample = spec, index, stats, sample
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.upgraded = False
        self.seen: set[int] = set()
        self.ready = asyncio.get_running_loop().create_future()
        self.done = asyncio.get_running_loop().create_future()

    # --- transport ----------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        key = base64.b64encode(os.urandom(16)).decode()
        origin = f"Origin: {self.spec.origin}\r\n" if self.spec.origin else ""
        self.transport.write(
            (
                f"GET {self.spec.path} HTTP/1.1\r\nHost: {self.spec.host}:{self.spec.port}\r\n"
                f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\n{origin}\r\n"
            ).encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.stats.closed += 1
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before ready: {exc}"))
        if not self.done.done():
            self.done.set_result(None)

    def send_text(self, text: str | bytes) -> None:
        if self.transport and not self.transport.is_closing():
            self.transport.write(_frame(text.encode() if isinstance(text, str) else text))

    def data_received(self, data: bytes) -> None:
        now = time.monotonic_ns()
        buf = self.buf + data if self.buf else data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                if not self.ready.done():
                    self.ready.set_exception(ConnectionError(buf[:200].decode(errors="replace")))
                assert self.transport
                self.transport.close()
                return
            self.upgraded = True
            buf = buf[end + 4 :]
            self.on_open()
        i, n = 0, len(buf)
        while n - i >= 2:
            op = buf[i] & 0x0F
            ln = buf[i + 1] & 0x7F
            hl = 2
            if ln == 126:
                if n - i < 4:
                    break
                ln = int.from_bytes(buf[i + 2 : i + 4], "big")
                hl = 4
            elif ln == 127:
                if n - i < 10:
                    break
                ln = int.from_bytes(buf[i + 2 : i + 10], "big")
                hl = 10
            if n - i < hl + ln:
                break
            payload = buf[i + hl : i + hl + ln]
            i += hl + ln
            if op == 1 or op == 0 or op == 2:
                self.on_text(payload, now)
            elif op == 9:
                if self.transport:
                    self.transport.write(_frame(payload, 10))
            elif op == 8:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                self.stats.close_codes[code] = self.stats.close_codes.get(code, 0) + 1
                if self.transport:
                    self.transport.close()
        self.buf = buf[i:]

    # --- kinds --------------------------------------------------------------------------------
    def on_open(self) -> None:
        kind = self.spec.kind
        if kind == "plain":
            self._ready()
        elif kind == "reporter":
            assert self.spec.first is not None
            self.send_text(self.spec.first[self.index])
        elif kind == "dash":
            assert self.spec.dash_request is not None
            self.send_text(self.spec.dash_request.replace("REQ", f"{os.getpid()}-{self.index}"))
            self._ready()

    def _ready(self) -> None:
        if not self.ready.done():
            self.stats.ready += 1
            self.ready.set_result(None)

    def _delivered(self, payload: bytes, now: int) -> None:
        st = self.stats
        st.deliveries += 1
        st.last_ns = now
        if self.sample:
            m = STAMP.search(payload)
            if m:
                st.latencies.append(now - int(m.group(1)))

    def on_text(self, payload: bytes, now: int) -> None:
        kind = self.spec.kind
        if kind == "plain":
            self._delivered(payload, now)
        elif kind == "socketio":
            if payload.startswith(b"42"):
                self._delivered(payload, now)
            elif payload == b"2":
                self.send_text(b"3")
            elif payload.startswith(b"0{"):
                self.send_text(b"40")
            elif payload.startswith(b"40"):
                self._ready()
        elif kind == "reporter":
            m = CURSOR.match(payload)
            if m:
                self._delivered(payload, now)
                self.send_text(b'{"type":"ack","v":1,"cursor":"' + m.group(1) + b'"}')
            elif b'"welcome"' in payload[:32]:
                self._ready()
        elif kind == "dash":
            if b"get_props_request" in payload:
                self._answer_probe(payload)
            if self.spec.marker and self.spec.marker in payload:
                # a probe's stamp, the first time this page shows it (lists repeat old ones)
                for m in STAMP.finditer(payload):
                    stamp = int(m.group(1))
                    if stamp not in self.seen:
                        self.seen.add(stamp)
                        if stamp < self.stats.since_ns:
                            continue
                        self.stats.deliveries += 1
                        self.stats.last_ns = now
                        if self.sample:
                            self.stats.latencies.append(now - stamp)

    def _answer_probe(self, payload: bytes) -> None:
        with contextlib.suppress(ValueError):
            data = json.loads(payload)
            for msg in data if isinstance(data, list) else [data]:
                if msg.get("type") == "get_props_request":
                    props = msg["payload"]["properties"]
                    self.send_text(
                        json.dumps(
                            {
                                "type": "get_props_response",
                                "rendererId": msg.get("rendererId"),
                                "requestId": msg["requestId"],
                                "payload": {p: "live" for p in props},
                            }
                        )
                    )


async def _send_fixes(clients: list[WSClient], every_s: float, seconds: float) -> None:
    """Spread the connections' fixes evenly: len(clients)/every_s messages a second."""
    if not clients:
        return
    start = time.monotonic()
    step = every_s / len(clients)
    k = 0
    while (elapsed := time.monotonic() - start) < seconds:
        due = k * step
        if due > elapsed:
            await asyncio.sleep(due - elapsed)
        c = clients[k % len(clients)]
        ms = int(time.time() * 1000)
        c.send_text(
            f'{{"type":"location","v":1,"lat":{27.70 + (k % 991) * 1e-4:.5f},"lon":112.53,'
            f'"accuracy_m":8,"battery":70,"ts":{ms}}}'
        )
        k += 1


def _same(protocol: WSClient) -> WSClient:
    return protocol


# --- the worker process -----------------------------------------------------------------------
async def _connect_all(spec: ClientSpec, stats: Stats, offset: int) -> list[WSClient]:
    loop = asyncio.get_running_loop()
    sem = asyncio.Semaphore(spec.concurrency)
    clients: list[WSClient] = []

    async def one(i: int) -> None:
        async with sem:
            for attempt in range(5):
                client = WSClient(spec, i, stats, (offset + i) % spec.sample_every == 0)
                try:
                    factory = functools.partial(_same, client)
                    await loop.create_connection(factory, spec.host, spec.port)
                    await asyncio.wait_for(client.ready, 30)
                    stats.opened += 1
                    clients.append(client)
                    return
                except (OSError, ConnectionError, TimeoutError):
                    if client.transport:
                        client.transport.close()
                    await asyncio.sleep(0.2 * (attempt + 1) + random.random() * 0.2)
            stats.failed += 1

    await asyncio.gather(*(one(i) for i in range(spec.count)))
    return clients


def worker(spec: ClientSpec, ctrl: Connection, progress: Any, slot: int, cpus: set[int]) -> None:
    """A client process: connect, then obey the parent's commands."""
    from bench.harness import pin, raise_nofile

    raise_nofile()
    pin(0, cpus)
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    asyncio.run(_worker(spec, ctrl, progress, slot))


async def _worker(spec: ClientSpec, ctrl: Connection, progress: Any, slot: int) -> None:
    stats = Stats()
    offset = slot * spec.count
    clients = await _connect_all(spec, stats, offset)
    ctrl.send(("connected", stats.opened, stats.failed, dict(stats.close_codes)))
    while True:
        progress[slot] = stats.deliveries
        if not ctrl.poll(0):
            await asyncio.sleep(0.01)
            continue
        cmd, *args = ctrl.recv()
        if cmd == "reset":
            stats.deliveries, stats.last_ns, stats.latencies = 0, 0, []
            stats.since_ns = time.monotonic_ns()
            progress[slot] = 0
            ctrl.send(("ok",))
        elif cmd == "report":
            ctrl.send(
                (
                    "report",
                    stats.deliveries,
                    stats.last_ns,
                    stats.latencies,
                    len(clients) - sum(1 for c in clients if c.done.done()),
                    dict(stats.close_codes),
                )
            )
        elif cmd == "fixes":  # every connection sends a location fix every `every_s` seconds
            every_s, seconds = args
            asyncio.get_running_loop().create_task(_send_fixes(clients, every_s, seconds))
            ctrl.send(("ok",))
        elif cmd == "stop":
            for c in clients:
                if c.transport:
                    c.transport.close()
            await asyncio.sleep(0.05)
            ctrl.send(("stopped",))
            return


@dataclass
class Report:
    deliveries: int
    last_ns: int
    latencies: list[int]
    open: int
    close_codes: dict[int, int]


class Clients:
    """The parent's handle on `processes` client processes holding `spec.count` connections
    in all (split evenly)."""

    def __init__(self, spec: ClientSpec, processes: int, cpus: set[int]) -> None:
        ctx = mp.get_context("spawn")
        self.progress = ctx.RawArray("q", processes)
        self.procs: list[Any] = []
        self.ctrls: list[Connection] = []
        self.total = spec.count
        per = [
            spec.count // processes + (1 if k < spec.count % processes else 0)
            for k in range(processes)
        ]
        first_at = 0
        for k, n in enumerate(per):
            part = ClientSpec(**{**spec.__dict__, "count": n})
            if spec.first is not None:
                part.first = spec.first[first_at : first_at + n]
            first_at += n
            parent, child = ctx.Pipe()
            p = ctx.Process(target=worker, args=(part, child, self.progress, k, cpus), daemon=True)
            p.start()
            self.procs.append(p)
            self.ctrls.append(parent)
        self.opened = 0
        self.failed = 0

    def wait_connected(self, timeout: float | None = None) -> tuple[int, int]:
        deadline = time.monotonic() + (timeout or 60 + self.total / 50)
        for c in self.ctrls:
            if not c.poll(max(0.1, deadline - time.monotonic())):
                raise TimeoutError("clients did not connect in time")
            _, opened, failed, _codes = c.recv()
            self.opened += opened
            self.failed += failed
        return self.opened, self.failed

    def _all(self, *cmd: Any) -> list[Any]:
        for c in self.ctrls:
            c.send(cmd)
        out = []
        for c in self.ctrls:
            if not c.poll(60):
                raise TimeoutError(f"client process did not answer {cmd[0]}")
            out.append(c.recv())
        return out

    def reset(self) -> None:
        self._all("reset")

    def fixes(self, every_s: float, seconds: float) -> None:
        """Each connection (reporter) sends a location fix every `every_s` s, for `seconds`."""
        self._all("fixes", every_s, seconds)

    def cpu(self) -> float:
        """CPU seconds of the client processes so far (to tell when the load side saturates)."""
        import psutil

        total = 0.0
        for p in self.procs:
            with contextlib.suppress(psutil.Error):
                t = psutil.Process(p.pid).cpu_times()
                total += t.user + t.system
        return total

    def delivered(self) -> int:
        return int(sum(self.progress))

    def wait_for(self, target: int, timeout: float, stall: float = 5.0) -> int:
        """Wait until `target` deliveries, or no progress for `stall` s, or `timeout`."""
        deadline = time.monotonic() + timeout
        last, last_change = -1, time.monotonic()
        while time.monotonic() < deadline:
            got = self.delivered()
            if got >= target:
                return got
            if got != last:
                last, last_change = got, time.monotonic()
            elif time.monotonic() - last_change > stall:
                return got
            time.sleep(0.01)
        return self.delivered()

    def report(self) -> Report:
        parts = self._all("report")
        codes: dict[int, int] = {}
        for p in parts:
            for k, v in p[5].items():
                codes[k] = codes.get(k, 0) + v
        return Report(
            deliveries=sum(p[1] for p in parts),
            last_ns=max(p[2] for p in parts),
            latencies=[x for p in parts for x in p[3]],
            open=sum(p[4] for p in parts),
            close_codes=codes,
        )

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._all("stop")
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.terminate()

    def __enter__(self) -> Clients:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
