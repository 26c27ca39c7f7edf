"""`newsroom serve` with proposed hot-path fixes applied as patches at start-up, to measure
them before anyone edits dispatch/ (the "after" rows; the "before" rows run the stock
`python -m dispatch.cli serve`). Not a product configuration.

BENCH_WHATIF is a comma-separated list of:
- uvloop        run the server on uvloop (dispatch.cli runs asyncio.run with the default loop,
                so uvicorn's loop="auto" never applies)
- async_deps    the RT dependency (dispatch.deps.runtime) as an `async def` (FastAPI runs a
                sync dependency in the thread pool: two thread hand-offs per request)
- timeout_send  dispatch.ws.Session.send with `asyncio.timeout` instead of `asyncio.wait_for`
                (which on Python 3.11 wraps every send in a new Task)
- gc_freeze     gc.freeze() once the app is built, so full collections skip start-up objects
- gc_tune       gc.set_threshold(50_000, 50, 100): far fewer collections, so far fewer of the
                full (generation 2) ones whose pause grows with every open connection
- gcstats       only observe: log every garbage collection pause over 10 ms
- memdump       only observe: trace allocations (tracemalloc); each SIGUSR1 logs the 25 source
                lines whose live memory grew most since the previous SIGUSR1 (bench/memconn.py)
- memsnap       only observe: trace allocations (BENCH_TRACE_FRAMES frames, default 25; 0: none);
                every BENCH_MEMSTATS_S seconds (default 30) append the allocator's figures to
                BENCH_MEMSNAP_DIR/stats.jsonl, and on each SIGUSR2 write a tracemalloc snapshot
                and a census of the objects there, from a forked copy (bench/memtrace.py)
- livetrace     only observe: for each text matching BENCH_TRACE_RE (default `probe-\\d+-\\d+`,
                the wall bench's probe titles), append to BENCH_TRACE_FILE (JSON lines) the
                wall-clock ms when the live hub's step got the bus message carrying it, when
                that step ended (its frames published), when a connection queued the frame,
                when Dash's sender took it off its queue and when it wrote the websocket
                message (bench/scenarios/wall.py --split)
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import time
from typing import Annotated, Any

from fastapi import Depends, Request

from dispatch.runtime import Runtime


def _async_deps() -> None:
    """RT as an async dependency. Patched before dispatch.api and feeds' routes import it;
    `deps.runtime` itself stays (limit_ip and principal call it directly)."""
    from dispatch import deps

    deps.RT = Annotated[Runtime, Depends(_runtime)]  # type: ignore[misc,assignment]


async def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def _timeout_send() -> None:
    from dispatch import ws

    async def send(self: Any, payload: dict[str, Any] | str) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        async with asyncio.timeout(ws.SEND_TIMEOUT_S):
            await self.ws.send_text(text)

    ws.Session.send = send  # type: ignore[method-assign]


def _gc_freeze() -> None:
    from dispatch import app

    create = app.create_app

    def create_and_freeze(*args: Any, **kwargs: Any) -> Any:
        built = create(*args, **kwargs)
        gc.collect()
        gc.freeze()
        return built

    app.create_app = create_and_freeze  # type: ignore[assignment]


def _gcstats() -> None:
    started: list[float] = []

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            ms = (time.perf_counter() - started[0]) * 1000
            if ms > 10:
                print(f"bench-gc: gen{info['generation']} {ms:.1f} ms "
                      f"collected={info['collected']}", file=sys.stderr, flush=True)  # fmt: skip

    gc.callbacks.append(on_gc)


def _memdump() -> None:
    import signal
    import tracemalloc

    tracemalloc.start(16)
    last: list[Any] = [tracemalloc.take_snapshot()]

    def dump(signum: int, frame: object) -> None:
        snap = tracemalloc.take_snapshot()
        stats = snap.compare_to(last[0], "traceback")
        last[0] = snap
        print("bench-mem: top growth since the last dump", file=sys.stderr)
        for stat in stats[:30]:
            # where: the innermost line, and the nearest caller outside the standard library
            frames = list(reversed(stat.traceback))  # innermost first
            owner = next((f for f in frames[1:] if "/lib/python3" not in f.filename
                          or "site-packages" in f.filename), frames[-1])  # fmt: skip
            where = f"{frames[0]} <- {owner}"
            print(f"bench-mem: {stat.size_diff / 1024:+10.1f} KiB {stat.count_diff:+8d} "
                  f"{where}", file=sys.stderr)  # fmt: skip
        sys.stderr.flush()

    signal.signal(signal.SIGUSR1, dump)


def _memsnap() -> None:
    import itertools
    import signal
    import tracemalloc
    from pathlib import Path

    from bench import memtrace

    frames = int(os.environ.get("BENCH_TRACE_FRAMES", "25"))
    if frames > 0:
        tracemalloc.start(frames)
    out = Path(os.environ["BENCH_MEMSNAP_DIR"])
    numbers = itertools.count(1)

    def dump(signum: int, frame: object) -> None:
        memtrace.dump(out, next(numbers))

    signal.signal(signal.SIGUSR2, dump)
    memtrace.sample_every(out, float(os.environ.get("BENCH_MEMSTATS_S", "30")))


def _livetrace() -> None:
    import re

    import janus
    from dash.backends import ws as dash_ws

    from dashboards import batching, live_hub

    pattern = re.compile(os.environ.get("BENCH_TRACE_RE", r"probe-\d+-\d+"))
    out = open(os.environ["BENCH_TRACE_FILE"], "a", buffering=1)  # noqa: SIM115 - lives on

    def note(stage: str, text: str) -> None:
        now = round(time.time() * 1000, 2)
        for found in set(pattern.findall(text)):
            out.write(json.dumps({"t": found, "stage": stage, "ms": now}) + "\n")

    step = live_hub.Hub.step

    async def traced_step(self: Any, sub: Any, raws: list[str], *args: Any) -> None:
        joined = "\n".join(raws)
        note("hub_got", joined)
        await step(self, sub, raws, *args)
        note("hub_done", joined)

    push = batching.Pusher.push

    def traced_push(self: Any, updates: Any) -> None:
        push(self, updates)
        if isinstance(updates, batching.Frame):
            note("queued", "".join(updates.encoded.values()))

    send = dash_ws._send_batched

    async def traced_send(send_text: Any, messages: list[str]) -> bool:
        ok = await send(send_text, messages)
        note("sent", "".join(messages))
        return ok

    get = janus._AsyncQueueProxy.get

    async def traced_get(self: Any) -> Any:
        item = await get(self)
        if isinstance(item, str):
            note("dequeued", item)
        return item

    janus._AsyncQueueProxy.get = traced_get  # type: ignore[method-assign]
    live_hub.Hub.step = traced_step  # type: ignore[method-assign]
    batching.Pusher.push = traced_push  # type: ignore[method-assign]
    dash_ws._send_batched = traced_send


def main() -> int:
    flags = {f.strip() for f in os.environ.get("BENCH_WHATIF", "").split(",") if f.strip()}
    if "uvloop" in flags:
        import uvloop

        uvloop.install()
    if "async_deps" in flags:
        _async_deps()
    if "timeout_send" in flags:
        _timeout_send()
    if "gc_freeze" in flags:
        _gc_freeze()
    if "gc_tune" in flags:
        gc.set_threshold(50_000, 50, 100)
    if "gcstats" in flags:
        _gcstats()
    if "memdump" in flags:
        _memdump()
    if "memsnap" in flags:
        _memsnap()
    if "livetrace" in flags:
        _livetrace()
    from dispatch import cli

    return cli.main(sys.argv[1:] or ["serve"])


if __name__ == "__main__":
    sys.exit(main())
