"""Scenario 1, dashboard fan-out: one event PUBLISHed to Redis → N connected sockets.

For each server and each N, in one run on loopback:
1. start the server alone on core 0; connect N websocket clients from client processes on
   core 1; after 1 s idle, memory per connection = (RSS now − RSS before connecting) / N;
2. throughput: PUBLISH K messages of 200 bytes as fast as a pipelined client can, wait until
   all N×K deliveries arrived: deliveries/s = N×K / (last arrival − first publish), server CPU
   per delivery = server CPU seconds (psutil, user+system) in that window / deliveries;
3. latency: PUBLISH at a fixed offered load of LOAD deliveries/s (LOAD/N messages a second)
   for a few seconds; each message carries its publish time (CLOCK_MONOTONIC, shared by all
   processes); p50/p99 of arrival − publish, sampled on a subset of the connections.

Servers (compression off, one process; all on uvloop but "ours (bus)"):
- ours (bus) and ours (bus, uvloop): dispatch.bus.Bus → a Starlette websocket reached as
  dispatch.app.Edge reaches the reporter socket, forwarding each message as a reporter
  session writes its pushes (dispatch.frames: the frame straight to the transport while the
  socket keeps up, uvicorn's ASGI send otherwise), served with our uvicorn config
  (bench/peers/bus_server.py): the shared-subscriber fan-out every live socket of the product
  sits on; `newsroom serve` runs on uvloop. The walls' own work on top of it (one fold and
  render per look in the hub, Dash's queue per page) is measured per wall in the cost scenario
  (walls 1 → 50), since a county has walls by the dozen, not by the thousand.
- python-socketio + AsyncRedisManager on uvicorn
- websockets broadcast()
- raw-frame floor
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import redis

from bench import harness, profile
from bench.harness import BenchRedis, ServerProc, log
from bench.wsclient import Clients, ClientSpec
from dispatch.keys import Keys

CHANNEL = Keys("bench").live_channel  # matched by the bus's PSUBSCRIBE, like any tenant's
PAYLOAD_BYTES = 200
LOAD = 20_000  # offered deliveries/s in the latency run

TARGETS = {
    "deliveries_per_s_vs_socketio_at_1000": ">= 1.5x",
    "deliveries_per_s_vs_websockets_broadcast_at_1000": ">= 1.0x",
    "cpu_us_per_delivery_at_1000": "<= 18",
    "idle_connection_kib": "<= 32",
}


def payload(seq: int) -> str:
    head = f'{{"type":"bench","seq":{seq},"bt":{time.monotonic_ns()},"pad":"'
    return head + "x" * max(0, PAYLOAD_BYTES - len(head) - 2) + '"}'


@dataclass
class Target:
    name: str
    module: str
    path: str
    kind: str = "plain"
    channel: str = CHANNEL
    socketio: bool = False
    extra: tuple[str, ...] = ()

    def server(self, port: int, redis_url: str) -> ServerProc:
        argv = harness.python_module(
            self.module, "--port", str(port), "--redis", redis_url, "--channel", self.channel,
            *self.extra,
        )  # fmt: skip
        return ServerProc(self.name, argv, port)

    def wrap(self, text: str) -> str:
        if not self.socketio:
            return text
        return json.dumps(
            {"method": "emit", "event": "news", "data": [text], "binary": False,
             "namespace": "/", "room": None, "skip_sid": None, "callback": None,
             "host_id": "bench-publisher"}
        )  # fmt: skip


TARGETS_BY_NAME = {
    t.name: t
    for t in [
        Target("ours (bus)", "bench.peers.bus_server", "/ws", extra=("--loop", "asyncio")),
        Target("ours (bus, uvloop)", "bench.peers.bus_server", "/ws", extra=("--loop", "uvloop")),
        Target(
            "python-socketio",
            "bench.peers.socketio_server",
            "/socket.io/?EIO=4&transport=websocket",
            kind="socketio",
            channel="socketio",
            socketio=True,
        ),
        Target("websockets broadcast()", "bench.peers.ws_broadcast", "/"),
        Target("raw-frame floor", "bench.peers.raw_floor", "/"),
    ]
}


def publish_burst(r: redis.Redis, target: Target, k: int) -> int:
    """PUBLISH k messages as fast as a pipelined client can; returns the first publish time."""
    t0 = time.monotonic_ns()
    sent = 0
    while sent < k:
        pipe = r.pipeline(transaction=False)
        for _ in range(min(100, k - sent)):
            pipe.publish(target.channel, target.wrap(payload(sent)))
            sent += 1
        pipe.execute()
    return t0


def publish_paced(r: redis.Redis, target: Target, rate: float, seconds: float) -> int:
    """PUBLISH at `rate` messages/s for `seconds`; returns how many were sent."""
    interval = 1.0 / rate
    start = time.monotonic()
    sent = 0
    while (now := time.monotonic()) - start < seconds:
        due = start + sent * interval
        if now < due:
            time.sleep(due - now)
        r.publish(target.channel, target.wrap(payload(sent)))
        sent += 1
    return sent


def client_processes(n: int) -> int:
    return 1 if n <= 2000 else 2


def measure(
    target: Target,
    server: ServerProc,
    rds: BenchRedis,
    n: int,
    k: int,
    latency_s: float,
    spec: ClientSpec | None = None,
    opts: Any = None,
) -> dict[str, Any]:
    """Connect n clients to a started server and run the throughput and latency runs."""
    r = redis.Redis.from_url(rds.url, decode_responses=True)
    time.sleep(0.5)
    rss0 = server.rss()
    spec = spec or ClientSpec(
        host="127.0.0.1",
        port=server.port,
        path=target.path,
        kind=target.kind,
        count=n,
        sample_every=max(1, n // 100),
        concurrency=100,
    )
    row: dict[str, Any] = {"server": target.name, "n": n}
    with Clients(spec, client_processes(n), harness.LOAD_CPUS) as clients:
        opened, failed = clients.wait_connected()
        row.update(connected=opened, failed=failed)
        time.sleep(1.0)
        rss1 = server.rss()
        row["kib_per_conn"] = round((rss1 - rss0) / max(1, opened) / 1024, 1)
        row["rss_mib"] = round(rss1 / 2**20, 1)
        if opened == 0:
            return row
        # throughput
        clients.reset()
        w = harness.Window(server).start()
        c0 = clients.cpu()
        assert server.proc
        prof = profile.maybe(opts, server.proc.pid, f"fanout-{target.name}-{n}", 3)
        t0 = publish_burst(r, target, k)
        got = clients.wait_for(opened * k, timeout=120)
        w.stop()
        if summary := prof.stop():
            row["profile"] = summary
        row["client_cpu_util"] = round((clients.cpu() - c0) / max(1e-9, w.wall_s), 2)
        row["core_busy"] = w.core_busy  # the whole machine's cores (others' work included)
        rep = clients.report()
        span = max(1e-9, (rep.last_ns - t0) / 1e9)
        row["deliveries"] = got
        row["expected"] = opened * k
        row["deliveries_per_s"] = round(got / span)
        row["cpu_us_per_delivery"] = round(w.cpu_s / max(1, got) * 1e6, 1)
        # What one core could deliver at that cost: the clients, Redis and the publisher share
        # the other core here, so the measured rate is often the load side's limit, not the
        # server's; CPU per delivery is what the server itself spends.
        row["capacity_per_s"] = round(1e6 / max(1e-9, row["cpu_us_per_delivery"]))
        row["server_cpu_util"] = round(w.cpu_s / max(1e-9, w.wall_s), 2)
        # latency at a fixed offered load
        time.sleep(0.5)
        clients.reset()
        rate = max(1.0, LOAD / opened)
        sent = publish_paced(r, target, rate, latency_s)
        clients.wait_for(opened * sent, timeout=60, stall=3)
        rep = clients.report()
        row.update({f"lat_{k2}": v for k2, v in harness.summary_ms(rep.latencies).items()})
        row["lat_load_per_s"] = round(rate * opened)
        row["lat_lost"] = opened * sent - rep.deliveries
        row["open_at_end"] = rep.open
        if rep.close_codes:
            row["close_codes"] = rep.close_codes
    r.close()
    return row


COLUMNS = [
    ("server", "server"),
    ("n", "N"),
    ("connected", "conn"),
    ("deliveries_per_s", "deliveries/s"),
    ("cpu_us_per_delivery", "CPU µs/deliv"),
    ("capacity_per_s", "1 core capacity/s"),
    ("lat_p50_ms", "p50 ms"),
    ("lat_p99_ms", "p99 ms"),
    ("lat_load_per_s", "@ deliv/s"),
    ("kib_per_conn", "KiB/conn"),
    ("deliveries", "delivered"),
    ("expected", "of"),
]


def run(opts: Any) -> list[dict[str, Any]]:
    ns = opts.n or ([100] if opts.quick else [100, 1000, 10000])
    names = opts.servers or list(TARGETS_BY_NAME)
    rows: list[dict[str, Any]] = []
    with BenchRedis() as rds:
        for n in ns:
            k = max(10, (60_000 if opts.quick else 300_000) // n)
            latency_s = 2.0 if opts.quick else 5.0
            for name in names:
                target = TARGETS_BY_NAME[name]
                log(f"fanout: {name}, N={n}, K={k}")
                port = harness.free_port()
                try:
                    with target.server(port, rds.url) as server:
                        rows.append(measure(target, server, rds, n, k, latency_s, opts=opts))
                except Exception as exc:  # one failing server must not lose the others
                    log(f"fanout: {name} N={n} failed: {exc!r}")
                    rows.append({"server": name, "n": n, "error": repr(exc)[:300]})
                print(harness.table(rows[-1:], COLUMNS), flush=True)
        versions_redis = rds.version
    compared = ratios(rows)
    rows += compared
    print("\nfanout: event PUBLISHed to Redis -> N websockets (server alone on one core)")
    print(harness.table([r for r in rows if "server" in r], COLUMNS))
    if compared:
        keys = [k for k in compared[0] if k != "compare"]
        print("\nours (bus) deliveries/s as a multiple of each peer's")
        print(harness.table(compared, [("compare", "")] + [(k, k[2:]) for k in keys]))
    path = harness.write_results(
        "fanout", rows, TARGETS, redis_version=versions_redis, method=__doc__ or ""
    )
    log(f"wrote {path}")
    return rows


def ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ours against the peers, per N: one-core capacity (from CPU per delivery) and the
    measured deliveries/s."""
    out = []
    by = {(r.get("server"), r.get("n")): r for r in rows}
    for (server, n), row in by.items():
        if not str(server).startswith("ours") or not row.get("capacity_per_s"):
            continue
        for key, what in (("capacity_per_s", "capacity"), ("deliveries_per_s", "measured")):
            ratio: dict[str, Any] = {"compare": f"{server} at N={n}, {what}"}
            for peer in ("python-socketio", "websockets broadcast()", "raw-frame floor"):
                p = by.get((peer, n))
                if p and p.get(key) and row.get(key):
                    ratio[f"x_{peer}"] = round(row[key] / p[key], 2)
            out.append(ratio)
    return out
