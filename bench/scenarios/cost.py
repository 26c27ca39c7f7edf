"""Scenario 5, cost curve: how the server's CPU and memory grow with connected reporters and
with open walls (one `newsroom serve` process alone on core 0).

Reporters (100 → 10,000): N real /ws/reporter connections (hello, welcome; idle), then each
sends a location fix every 10 s over its socket (N/10 fixes/s, each applied with the Lua
script and published on the live channel) while the desk creates 2 tasks/s for random
reporters. Measured: RSS and RSS growth per connection when idle; server CPU % idle and under
that load.

Walls (1 → 50): W wall pages' live streams — Dash's /_dash-ws-callback websocket, started and
kept alive exactly as the page's renderer does (callback_request for the wall's persistent
callback, answers to its get_props probes), without a browser — while 500 reporters move at
200 events/s (as in scenario 4) and the desk creates 2 probe tasks/s. Measured: server CPU %,
RSS, and latency from the task write to the websocket frame that first shows it on each wall
(the server's share of event → wall, without the browser's).
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

import httpx

from bench import harness, newsroom
from bench.harness import BenchRedis, ServerProc, log
from bench.scenarios import wall as wall_scenario
from bench.wsclient import Clients, ClientSpec

TARGETS = {"idle_connection_kib": "<= 32"}
FIX_EVERY_S = 10.0
TASKS_PER_S = 2.0

R_COLUMNS = [
    ("n", "reporters"),
    ("connected", "conn"),
    ("rss_mib", "RSS MiB"),
    ("kib_per_conn", "KiB/conn"),
    ("idle_cpu_pct", "idle CPU %"),
    ("load_fixes_per_s", "fixes/s"),
    ("load_cpu_pct", "CPU % under load"),
    ("task_p50_ms", "task p50 ms"),
    ("task_p99_ms", "task p99 ms"),
]
W_COLUMNS = [
    ("walls", "walls"),
    ("connected", "conn"),
    ("rss_mib", "RSS MiB"),
    ("mib_per_wall", "MiB/wall"),
    ("cpu_pct", "CPU %"),
    ("cpu_ms_per_event_per_wall", "CPU ms/event/wall"),
    ("p50_ms", "frame p50 ms"),
    ("p99_ms", "frame p99 ms"),
    ("seen", "seen"),
    ("expected", "of"),
]


def dash_request(key: str, lang: str = "en") -> str:
    """The wall's persistent callback, as dash-renderer's worker sends it (REQ is replaced by
    a per-connection id)."""
    return json.dumps({
        "type": "callback_request", "rendererId": "bench-REQ", "requestId": "REQ-1",
        "payload": {
            "output": "wall-live-sink.children",
            "outputs": {"id": "wall-live-sink", "property": "children"},
            "inputs": [{"id": "wall-ticket", "property": "data",
                        "value": {"key": key, "lang": lang}}],
            "changedPropIds": ["wall-ticket.data"],
            "parsedChangedPropsIds": ["wall-ticket.data"],
        },
    })  # fmt: skip


def run(opts: Any) -> list[dict[str, Any]]:
    reps_ns = opts.n or ([100, 300] if opts.quick else [100, 1000, 3000, 10_000])
    walls_ns = [1, 5] if opts.quick else [1, 5, 10, 25, 50]
    if getattr(opts, "walls", None):  # --walls W ...: only the walls curve, at those counts
        reps_ns, walls_ns = [], opts.walls
    secs = 4.0 if opts.quick else 10.0
    rows: list[dict[str, Any]] = []
    with BenchRedis() as rds:
        for n in reps_ns:
            rds.flush()
            log(f"cost: {n} reporters")
            reps = newsroom.create_reporters(rds.url, n)
            try:
                with newsroom.serve(rds.url) as server:
                    rows.append(_reporters(server, reps, secs))
            except Exception as exc:
                log(f"cost: {n} reporters failed: {exc!r}")
                rows.append({"curve": "reporters", "n": n, "error": repr(exc)[:300]})
            print(harness.table(rows[-1:], R_COLUMNS), flush=True)
        rds.flush()
        newsroom.create_reporters(rds.url, wall_scenario.REPORTERS)
        key = harness.arun(wall_scenario._wall_token(rds.url))
        with newsroom.serve(rds.url) as server:
            base_rss = server.rss()
            for w in walls_ns:
                log(f"cost: {w} walls")
                try:
                    rows.append(_walls(server, rds, key, w, secs, base_rss))
                except Exception as exc:
                    log(f"cost: {w} walls failed: {exc!r}")
                    rows.append({"curve": "walls", "walls": w, "error": repr(exc)[:300]})
                print(harness.table(rows[-1:], W_COLUMNS), flush=True)
        version = rds.version
    print("\ncost: reporters")
    print(harness.table([r for r in rows if r.get("curve") == "reporters"], R_COLUMNS))
    print("\ncost: open walls (500 reporters moving, 200 events/s)")
    print(harness.table([r for r in rows if r.get("curve") == "walls"], W_COLUMNS))
    path = harness.write_results("cost", rows, TARGETS, redis_version=version,
                                 method=__doc__ or "")  # fmt: skip
    log(f"wrote {path}")
    plot(rows)
    return rows


def _reporters(server: ServerProc, reps: list[dict[str, Any]], secs: float) -> dict[str, Any]:
    n = len(reps)
    time.sleep(0.5)
    rss0 = server.rss()
    spec = ClientSpec(host="127.0.0.1", port=server.port, path="/ws/reporter", kind="reporter",
                      count=n, first=[newsroom.hello(r["token"]) for r in reps],
                      concurrency=50)  # fmt: skip
    row: dict[str, Any] = {"curve": "reporters", "n": n, "rss0_mib": round(rss0 / 2**20, 1)}
    with Clients(spec, 1 if n <= 2000 else 2, harness.LOAD_CPUS) as clients:
        row["connected"], row["failed"] = clients.wait_connected()
        time.sleep(2)
        idle = harness.Window(server).start()
        time.sleep(secs)
        idle.stop()
        rss1 = server.rss()
        row["rss_mib"] = round(rss1 / 2**20, 1)
        row["kib_per_conn"] = round((rss1 - rss0) / max(1, row["connected"]) / 1024, 1)
        row["idle_cpu_pct"] = round(100 * idle.cpu_s / idle.wall_s, 1)
        clients.reset()
        clients.fixes(FIX_EVERY_S, secs)
        http = httpx.Client(
            base_url=f"http://127.0.0.1:{server.port}",
            timeout=30,
            headers={"Authorization": f"Bearer {newsroom.admin_token(server)}"},
        )
        rnd = random.Random(n)
        load = harness.Window(server).start()
        start = time.monotonic()
        k = 0
        while time.monotonic() - start < secs:
            due = start + k / TASKS_PER_S
            if (now := time.monotonic()) < due:
                time.sleep(due - now)
            http.post("/api/v1/tasks", json={
                "title": f"bench bt={time.monotonic_ns()}", "lat": 27.7, "lon": 112.5,
                "assignee": rnd.choice(reps)["reporter_id"]})  # fmt: skip
            k += 1
        load.stop()
        http.close()
        clients.wait_for(k, timeout=10, stall=3)
        rep = clients.report()
        row["load_fixes_per_s"] = round(n / FIX_EVERY_S, 1)
        row["load_tasks_per_s"] = TASKS_PER_S
        row["load_cpu_pct"] = round(100 * load.cpu_s / load.wall_s, 1)
        row.update({f"task_{k2}": v for k2, v in harness.summary_ms(rep.latencies).items()})
        row["rss_load_mib"] = round(server.rss() / 2**20, 1)
    return row


def _walls(server: ServerProc, rds: BenchRedis, key: str, w: int, secs: float,
           base_rss: int) -> dict[str, Any]:  # fmt: skip
    spec = ClientSpec(host="127.0.0.1", port=server.port, path="/_dash-ws-callback", kind="dash",
                      count=w, origin=f"http://127.0.0.1:{server.port}",
                      dash_request=dash_request(key), marker=b"probe bt=",
                      concurrency=10)  # fmt: skip
    row: dict[str, Any] = {"curve": "walls", "walls": w}
    mover = wall_scenario.mover(rds, seconds=secs + 15, rate=wall_scenario.EVENTS_PER_S)
    try:
        with Clients(spec, 1, harness.LOAD_CPUS) as clients:
            row["connected"], row["failed"] = clients.wait_connected()
            time.sleep(3)  # every stream has loaded its snapshot
            clients.reset()
            prober = wall_scenario.Prober(rds.url)
            win = harness.Window(server).start()
            start = time.monotonic()
            k = 0
            while time.monotonic() - start < secs:
                due = start + k / TASKS_PER_S
                if (now := time.monotonic()) < due:
                    time.sleep(due - now)
                prober.probe(f"probe bt={time.monotonic_ns()}")
                k += 1
            clients.wait_for(k * w, timeout=10, stall=3)
            win.stop()
            prober.close()
            rep = clients.report()
            rss = server.rss()
    finally:
        mover.terminate()
        mover.wait(10)
    events = (wall_scenario.EVENTS_PER_S + TASKS_PER_S) * win.wall_s
    row.update({
        "rss_mib": round(rss / 2**20, 1),
        "mib_per_wall": round((rss - base_rss) / w / 2**20, 2),
        "cpu_pct": round(100 * win.cpu_s / win.wall_s, 1),
        "cpu_ms_per_event_per_wall": round(1e3 * win.cpu_s / events / w, 3),
        **harness.summary_ms(rep.latencies),
        "seen": rep.deliveries,
        "expected": k * w,
        "events_per_s": wall_scenario.EVENTS_PER_S,
    })  # fmt: skip
    return row


def plot(rows: list[dict[str, Any]]) -> None:
    """bench/results/cost.png: CPU and memory against reporters and against walls."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("cost: matplotlib not installed (pip install '.[bench]'); no plot")
        return
    reps = [r for r in rows if r.get("curve") == "reporters" and "rss_mib" in r]
    walls = [r for r in rows if r.get("curve") == "walls" and "rss_mib" in r]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax = axes[0]
    if reps:
        xs = [r["n"] for r in reps]
        ax.plot(xs, [r["load_cpu_pct"] for r in reps], "o-", label="CPU % under load")
        ax.plot(xs, [r["idle_cpu_pct"] for r in reps], "o--", label="CPU % idle")
        ax.set_xscale("log")
        ax2 = ax.twinx()
        ax2.plot(xs, [r["rss_mib"] for r in reps], "s-", color="tab:red", label="RSS MiB")
        ax2.set_ylabel("RSS MiB")
        ax2.legend(loc="lower right")
    ax.set_xlabel("connected reporters (each: a fix / 10 s; desk: 2 tasks/s)")
    ax.set_ylabel("server CPU % of one core")
    ax.legend(loc="upper left")
    ax.set_title("Reporters")
    ax = axes[1]
    if walls:
        xs = [r["walls"] for r in walls]
        ax.plot(xs, [r["cpu_pct"] for r in walls], "o-", label="CPU %")
        ax2 = ax.twinx()
        ax2.plot(xs, [r["rss_mib"] for r in walls], "s-", color="tab:red", label="RSS MiB")
        ax2.set_ylabel("RSS MiB")
        ax2.legend(loc="lower right")
    ax.set_xlabel("open walls (500 reporters moving, 200 events/s)")
    ax.set_ylabel("server CPU % of one core")
    ax.legend(loc="upper left")
    ax.set_title("Walls")
    fig.tight_layout()
    out = harness.RESULTS / "cost.png"
    fig.savefig(out, dpi=90)
    log(f"wrote {out}")
