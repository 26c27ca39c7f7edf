"""The non-HTTP ingest paths, as a process of their own (pinned like a server):

- feeds: what a feeds process does per fix: build the Location event as the tracker's format
  and parser produce it (feeds.formats.location, OsmAnd query) and apply it with
  `dispatch.reporters.apply_fix` (one Lua script: order check, hash, GEO, trail, PUBLISH).
  `--inflight 1` awaits each write; more keeps that many going.
- feeds-batched: `dispatch.reporters.apply_fixes` with 100 fixes (the same script, 100 calls
  in one pipelined round trip), as the HTTP ingest does with a body's fixes and the simulator
  (feeds/run.py) with a run of fixes.
- publish: raw pipelined PUBLISH of the same 200-byte event JSON on the same Redis (100 a
  pipeline): the ceiling of the Redis side.

Prints one JSON line: {"fixes", "seconds"}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from bench.peers.common import use_uvloop
from dispatch import db, reporters, schema
from dispatch.clock import now_ms
from dispatch.keys import Keys
from feeds import formats

# The same event as schema.encode(Location) gives, formatted without pydantic (a raw peer).
EVENT = (
    '{"type":"location","v":1,"reporter_id":"r-bench%05d","lat":%.5f,"lon":112.53,'
    '"accuracy_m":8.0,"speed_mps":1.6,"heading":90.0,"battery":77.0,"ts":%d,"received_at":%d,'
    '"source":"osmand"}'
)


def _fix(i: int, devices: int, last: dict[int, int]) -> tuple[schema.Location, str]:
    dev = i % devices
    ts = max(now_ms(), last.get(dev, 0) + 1)
    last[dev] = ts
    fix = schema.Location(
        reporter_id=f"r-bench{dev:05d}", lat=27.70 + (i % 997) * 1e-4, lon=112.53,
        accuracy_m=8.0, speed_mps=1.6, heading=90.0, battery=77.0, ts=ts, received_at=ts,
        source="osmand",
    )  # fmt: skip
    return fix, f"dev-{dev:05d}"


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--redis", required=True)
    p.add_argument("--mode", choices=["feeds", "feeds-batched", "publish"], required=True)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--inflight", type=int, default=1)
    p.add_argument("--devices", type=int, default=1000)
    p.add_argument("--rate", type=float, default=0.0, help="feeds: at most this many fixes/s")
    a = p.parse_args()
    r = db.connect(a.redis)
    keys = Keys("default")
    last: dict[int, int] = {}
    done = 0
    cpu0 = time.process_time()
    start = time.monotonic()
    stop = start + a.seconds
    if a.mode == "feeds":

        async def writer(k: int) -> None:
            nonlocal done
            i = k
            while time.monotonic() < stop:
                if a.rate > 0 and (due := start + i / a.rate) > (now := time.monotonic()):
                    await asyncio.sleep(due - now)
                fix, device = _fix(i, a.devices, last)
                await reporters.apply_fix(r, keys, formats.location(fix, device))
                done += 1
                i += a.inflight

        await asyncio.gather(*(writer(k) for k in range(a.inflight)))
    elif a.mode == "feeds-batched":
        i = 0
        while time.monotonic() < stop:
            batch = []
            for _ in range(100):
                fix, device = _fix(i, a.devices, last)
                batch.append(formats.location(fix, device))
                i += 1
            await reporters.apply_fixes(r, keys, batch)
            done += 100
    else:
        i = 0
        while time.monotonic() < stop:
            async with r.pipeline(transaction=False) as pipe:
                for _ in range(100):
                    dev = i % a.devices
                    i += 1
                    ts = now_ms()
                    pipe.publish(keys.live_channel, EVENT % (dev, 27.70 + (i % 997) * 1e-4, ts, ts))
                await pipe.execute()
            done += 100
    elapsed = time.monotonic() - start
    cpu = time.process_time() - cpu0
    await r.aclose()
    print(json.dumps({"fixes": done, "seconds": elapsed, "cpu": cpu}), flush=True)


if __name__ == "__main__":
    use_uvloop()
    asyncio.run(main())
