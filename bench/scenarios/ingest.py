"""Scenario 3, ingest: location fixes per second into Redis, on one core.

- /ingest/osmand (HTTP GET, one fix a request, as Traccar Client sends live; and a JSON POST of
  100 queued fixes of one device, as Traccar Client 9 flushes its queue): the real `newsroom
  serve` on core 0; a closed-loop HTTP/1.1 load generator (64 keep-alive connections) on core
  1; 1,000 reporters each bound to a device; every fix newer than the last (all applied).
- feeds path: a process on core 0 doing what a feeds process does per fix (parse the
  tracker's format, `dispatch.reporters.apply_fix`), one write awaited at a time, and 64 in
  flight.
- feeds path, batched: `dispatch.reporters.apply_fixes`, 100 fixes per round trip (as the
  simulator, feeds/run.py, writes a run of fixes, and the HTTP ingest a body's fixes).
- peer: raw pipelined PUBLISH of the same event JSON on the same Redis (100 a round trip).

Measured: fixes/s; CPU µs per fix of the process on core 0 and of Redis (on core 1 with the
load, so Redis is not the limit unless its CPU/fix × rate nears one core); HTTP p50/p99.
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import psutil

from bench import harness, httpload, newsroom, profile
from bench.harness import BenchRedis, log

TARGETS = {"fixes_per_s": ">= 20000"}
BATCH = 100  # fixes in one body / one round trip

COLUMNS = [
    ("path", "path"),
    ("fixes_per_s", "fixes/s"),
    ("cpu_us_per_fix", "CPU µs/fix"),
    ("redis_cpu_us_per_fix", "Redis µs/fix"),
    ("p50_ms", "p50 ms"),
    ("p99_ms", "p99 ms"),
    ("fixes", "fixes"),
    ("errors", "errors"),
]


def _redis_cpu(rds: BenchRedis) -> float:
    assert rds.proc
    t = psutil.Process(rds.proc.pid).cpu_times()
    return float(t.user + t.system)


def run(opts: Any) -> list[dict[str, Any]]:
    seconds = 3.0 if opts.quick else 10.0
    devices = 1000
    rows: list[dict[str, Any]] = []
    with BenchRedis() as rds:
        log(f"ingest: creating {devices} reporters with tracker devices")
        newsroom.create_reporters(rds.url, devices, devices=True)
        # 1. HTTP: a fix a GET, and a body of BATCH fixes a POST
        with newsroom.serve(rds.url) as server:
            for maker, batch in (("osmand_get", 1), ("osmand_json", BATCH)):
                rows.append(_http(opts, server, maker, batch, rds, seconds, devices))
                print(harness.table(rows[-1:], COLUMNS), flush=True)
        # 2-4. the feeds path and the raw PUBLISH peer, each a process on core 0
        for label, mode, inflight in [
            ("feeds path: apply_fix, 1 in flight", "feeds", 1),
            ("feeds path: apply_fix, 64 in flight", "feeds", 64),
            (f"feeds path: apply_fixes, {BATCH} a round trip", "feeds-batched", 1),
            ("peer: raw pipelined PUBLISH (same Redis)", "publish", 1),
        ]:
            log(f"ingest: {label}")
            rows.append(_worker(rds, label, mode, inflight, seconds, devices))
            print(harness.table(rows[-1:], COLUMNS), flush=True)
        version = rds.version
    print("\ningest: location fixes into Redis (the ingesting process alone on one core)")
    print(harness.table(rows, COLUMNS))
    path = harness.write_results("ingest", rows, TARGETS, redis_version=version,
                                 method=__doc__ or "")  # fmt: skip
    log(f"wrote {path}")
    return rows


def _http(opts: Any, server: harness.ServerProc, maker: str, batch: int, rds: BenchRedis,
          seconds: float, devices: int) -> dict[str, Any]:  # fmt: skip
    time.sleep(0.5)
    spec = httpload.LoadSpec("127.0.0.1", server.port, connections=64, seconds=seconds,
                             devices=devices, maker=maker, batch=batch)  # fmt: skip
    name = "GET, 1 fix" if batch == 1 else f"POST JSON, {batch} fixes"
    log(f"ingest: /ingest/osmand {name}")
    httpload.run(httpload.LoadSpec(**{**spec.__dict__, "seconds": 1.0}), 1,
                 harness.LOAD_CPUS)  # warm-up  # fmt: skip
    r0 = _redis_cpu(rds)
    assert server.proc
    prof = profile.maybe(opts, server.proc.pid, f"ingest-osmand-{maker}", seconds - 1)
    w = harness.Window(server).start()
    res = httpload.run(spec, 1, harness.LOAD_CPUS)
    w.stop()
    summary = prof.stop()
    rc = _redis_cpu(rds) - r0
    fixes = res.ok * batch
    row: dict[str, Any] = {
        "path": f"HTTP /ingest/osmand ({name} a request)", "fixes": fixes, "errors": res.errors,
        "fixes_per_s": round(fixes / res.seconds),
        "cpu_us_per_fix": round(w.cpu_s / max(1, fixes) * 1e6, 1),
        "redis_cpu_us_per_fix": round(rc / max(1, fixes) * 1e6, 1),
        "server_cpu_util": round(w.cpu_s / w.wall_s, 2),
        **{k: v for k, v in harness.summary_ms(res.latencies).items() if k in ("p50_ms", "p99_ms")},
        "statuses": {str(k): v for k, v in res.statuses.items()},
    }  # fmt: skip
    if summary:
        row["profile"] = summary
    return row


def _worker(rds: BenchRedis, label: str, mode: str, inflight: int, seconds: float,
            devices: int) -> dict[str, Any]:  # fmt: skip
    argv = harness.python_module("bench.peers.ingest_worker", "--redis", rds.url, "--mode", mode,
                                 "--seconds", str(seconds), "--inflight", str(inflight),
                                 "--devices", str(devices))  # fmt: skip
    proc = subprocess.Popen(argv, cwd=harness.ROOT, stdout=subprocess.PIPE, text=True,
                            preexec_fn=harness._server_child)  # fmt: skip
    harness.pin(proc.pid, harness.SERVER_CPUS)
    ps = psutil.Process(proc.pid)
    r0 = _redis_cpu(rds)
    cpu = 0.0
    out = ""
    try:
        while proc.poll() is None:
            with contextlib_suppress():
                t = ps.cpu_times()
                cpu = t.user + t.system
            time.sleep(0.05)
            if proc.stdout and proc.poll() is not None:
                break
        out = proc.stdout.read() if proc.stdout else ""
    finally:
        if proc.poll() is None:
            proc.kill()
    rc = _redis_cpu(rds) - r0
    data = json.loads(out.strip().splitlines()[-1])
    fixes, secs = int(data["fixes"]), float(data["seconds"])
    cpu = float(data.get("cpu", cpu))  # the loop's own CPU, without the start-up imports
    return {"path": label, "fixes": fixes, "errors": 0, "fixes_per_s": round(fixes / secs),
            "cpu_us_per_fix": round(cpu / max(1, fixes) * 1e6, 1),
            "redis_cpu_us_per_fix": round(rc / max(1, fixes) * 1e6, 1)}  # fmt: skip


def contextlib_suppress() -> Any:
    import contextlib

    return contextlib.suppress(psutil.Error)
