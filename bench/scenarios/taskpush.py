"""Scenario 2, task push: POST /api/v1/tasks → the task on the assignee's socket, with N
reporters connected to one `newsroom serve` process (10,000 in the full run).

The desk side is one HTTP client (keep-alive) creating tasks at a steady rate, each assigned
to a random connected reporter; the task's title carries the monotonic time taken just before
the request was sent. Every reporter is a real /ws/reporter connection (hello with its token,
welcome, pushes, an ack for each push — which moves the task to `delivered`, as a phone does).
Measured: receipt latency (request sent → push frame read by the phone), p50/p99; the POST's
own response time; server CPU per task (create + push + the ack's transition); memory per idle
reporter connection (RSS growth / N once all are connected and quiet). The durable write is
included: the task's MULTI/EXEC goes to a Redis with appendonly yes, appendfsync everysec.
"""

from __future__ import annotations

import random
import time
from typing import Any

import httpx

from bench import harness, newsroom, profile
from bench.harness import BenchRedis, log
from bench.wsclient import Clients, ClientSpec

_OPTS: Any = None
TARGETS = {"receipt_p99_ms_with_10000_connected": "<= 25", "idle_connection_kib": "<= 32"}

COLUMNS = [
    ("server", "server"),
    ("n", "reporters"),
    ("connected", "conn"),
    ("tasks", "tasks"),
    ("rate_per_s", "tasks/s"),
    ("receipt_p50_ms", "receipt p50 ms"),
    ("receipt_p99_ms", "receipt p99 ms"),
    ("post_p50_ms", "POST p50 ms"),
    ("post_p99_ms", "POST p99 ms"),
    ("cpu_ms_per_task", "CPU ms/task"),
    ("kib_per_conn", "KiB/conn"),
    ("idle_cpu_pct", "idle CPU %"),
    ("gc_max_ms", "max GC ms"),
]


def run(opts: Any) -> list[dict[str, Any]]:
    global _OPTS
    _OPTS = opts
    ns = opts.n or ([100] if opts.quick else [10_000])
    tasks_n = 60 if opts.quick else 400
    rate = 20.0
    rows: list[dict[str, Any]] = []
    with BenchRedis() as rds:
        for n in ns:
            for name, whatif in newsroom.VARIANTS:
                rds.flush()
                log(f"taskpush: {name}, creating {n} reporters")
                reps = newsroom.create_reporters(rds.url, n)
                try:
                    with newsroom.serve(rds.url, name=name, whatif=whatif) as server:
                        row = measure(server, reps, tasks_n, rate)
                        row["server"] = name
                        row.update(newsroom.gc_pauses(server))
                        rows.append(row)
                except Exception as exc:
                    log(f"taskpush: {name} failed: {exc!r}")
                    rows.append({"server": name, "n": n, "error": repr(exc)[:300]})
                print(harness.table(rows[-1:], COLUMNS), flush=True)
        version = rds.version
    print("\ntaskpush: POST /api/v1/tasks -> the assignee's socket")
    print(harness.table(rows, COLUMNS))
    path = harness.write_results("taskpush", rows, TARGETS, redis_version=version,
                                 method=__doc__ or "")  # fmt: skip
    log(f"wrote {path}")
    return rows


def measure(server: harness.ServerProc, reps: list[dict[str, Any]], m: int, rate: float
            ) -> dict[str, Any]:  # fmt: skip
    n = len(reps)
    admin = newsroom.admin_token(server)
    http = httpx.Client(base_url=f"http://127.0.0.1:{server.port}",
                        headers={"Authorization": f"Bearer {admin}"}, timeout=30)  # fmt: skip
    http.get("/api/v1/tasks").raise_for_status()  # warm the route
    time.sleep(0.5)
    rss0 = server.rss()
    spec = ClientSpec(
        host="127.0.0.1", port=server.port, path="/ws/reporter", kind="reporter", count=n,
        first=[newsroom.hello(r["token"]) for r in reps], sample_every=1, concurrency=50,
    )  # fmt: skip
    row: dict[str, Any] = {"server": "newsroom serve", "n": n}
    procs = 1 if n <= 2000 else 2
    log(f"taskpush: connecting {n} reporters")
    t_conn = time.monotonic()
    with Clients(spec, procs, harness.LOAD_CPUS) as clients:
        opened, failed = clients.wait_connected()
        row.update(connected=opened, failed=failed,
                   connect_s=round(time.monotonic() - t_conn, 1))  # fmt: skip
        time.sleep(2.0)
        idle = harness.Window(server).start()
        time.sleep(3.0)
        idle.stop()
        rss1 = server.rss()
        row["kib_per_conn"] = round((rss1 - rss0) / max(1, opened) / 1024, 1)
        row["rss_mib"] = round(rss1 / 2**20, 1)
        row["idle_cpu_pct"] = round(100 * idle.cpu_s / idle.wall_s, 1)
        clients.reset()
        rnd = random.Random(7)
        connected_ids = [r["reporter_id"] for r in reps]
        posts: list[int] = []
        assert server.proc
        prof = profile.maybe(_OPTS, server.proc.pid, f"taskpush-{server.name}-{n}", m / rate)
        w = harness.Window(server).start()
        start = time.monotonic()
        for i in range(m):
            due = start + i / rate
            if (now := time.monotonic()) < due:
                time.sleep(due - now)
            t = time.monotonic_ns()
            resp = http.post("/api/v1/tasks", json={
                "title": f"bench bt={t}", "lat": 27.73, "lon": 112.53,
                "priority": "normal", "assignee": rnd.choice(connected_ids)})  # fmt: skip
            posts.append(time.monotonic_ns() - t)
            if resp.status_code != 201:
                log(f"taskpush: POST answered {resp.status_code}: {resp.text[:200]}")
        clients.wait_for(m, timeout=60, stall=5)
        time.sleep(0.5)  # the acks' transitions
        w.stop()
        rep = clients.report()
        if summary := prof.stop():
            row["profile"] = summary
        row["tasks"] = m
        row["received"] = rep.deliveries
        row["rate_per_s"] = rate
        row.update({f"receipt_{k}": v for k, v in harness.summary_ms(rep.latencies).items()})
        row.update({f"post_{k}": v for k, v in harness.summary_ms(posts).items()})
        row["cpu_ms_per_task"] = round(w.cpu_s / max(1, m) * 1e3, 2)
        row["open_at_end"] = rep.open
        if rep.close_codes:
            row["close_codes"] = rep.close_codes
    http.close()
    return row
