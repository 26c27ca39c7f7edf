"""The collector protocol and the runner that keeps every collector going.

A collector is anything with a `name`, a `kind`, an `interval_s` and an async `step(r, keys)`
that does one poll (or one read of a log, one simulator tick), applies what it found through
dispatch's services and returns how many items it applied. A step that fails raises.

`run_collectors` runs them all concurrently until `stop` is set. Each one steps every
`interval_s` seconds; after an error it waits an exponential back-off instead (1 s, 2 s, 4 s …
up to 5 min, with jitter; a success resets it). One collector's exception never stops the
others or the process. After every step, successful or not, the runner stores the collector's
heartbeat (`dispatch.sources`), so a source that stops working shows as failing, and one whose
process died shows as stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from dispatch import sources
from dispatch.clock import now_ms
from dispatch.keys import Keys
from dispatch.sources import Heartbeat

log = logging.getLogger(__name__)

MIN_STEP_TIMEOUT_S = 120.0  # a step that hangs longer than this (or 3 intervals) has failed
STOP_GRACE_S = 5.0  # after `stop`, steps under way get this long to finish, then are cancelled


class Collector(Protocol):
    """What the runner needs of a collector (feeds.rss, feeds.wordpress, feeds.tailer …)."""

    name: str  # unique source name from the config, e.g. "app-rss"
    kind: str  # "rss", "atom", "wordpress", "accesslog", "simulator", "derived-alerts"
    interval_s: float  # seconds between steps

    async def step(self, r: aioredis.Redis, keys: Keys) -> int:
        """One poll or read; returns the number of items applied; raises on error."""
        ...


@dataclass(frozen=True)
class Backoff:
    """How long to wait after the n-th error in a row: first_s doubling up to max_s, each
    delay scaled by a random factor in [1 - jitter, 1] so that sources failing together
    (the network is down) do not all retry in the same instant."""

    first_s: float = 1.0
    max_s: float = 300.0
    jitter: float = 0.2

    def delay(self, errors: int, rand: random.Random | None = None) -> float:
        """The pause after `errors` consecutive errors (errors >= 1)."""
        base = min(self.max_s, self.first_s * 2.0 ** min(max(errors, 1) - 1, 60))
        spread = (rand or random).uniform(1.0 - self.jitter, 1.0) if self.jitter else 1.0
        return base * spread


OnChange = Callable[[Heartbeat, str], None]  # (heartbeat, previous status: "ok"/"failing"/"")


async def run_collector(
    r: aioredis.Redis,
    keys: Keys,
    collector: Collector,
    stop: asyncio.Event,
    backoff: Backoff = Backoff(),
    on_change: OnChange | None = None,
) -> Heartbeat:
    """Step one collector until `stop` is set; returns its last heartbeat. Never raises for
    the collector's errors or Redis's: they are counted, stored and backed off from."""
    beat = Heartbeat(collector.name, collector.kind, float(collector.interval_s))
    with contextlib.suppress(RedisError, OSError):
        beat.resume(await sources.previous(r, keys, collector.name))
    timeout = max(MIN_STEP_TIMEOUT_S, 3 * beat.interval_s)
    state = ""
    while not stop.is_set():
        began = time.monotonic()
        try:
            items = await asyncio.wait_for(collector.step(r, keys), timeout)
        except Exception as exc:  # noqa: BLE001 - any error of one collector is contained
            pause = backoff.delay(beat.consecutive_errors + 1)
            text = (
                f"step timed out after {timeout:g} s"
                if isinstance(exc, TimeoutError)
                else (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            )
            beat.failed(text, now_ms(), now_ms() + int(pause * 1000))
            if beat.consecutive_errors == 1:
                log.warning("feeds: %s failed: %s", collector.name, text, exc_info=exc)
            else:
                log.warning(
                    "feeds: %s failed again (%d in a row): %s; retrying in %.0f s",
                    collector.name,
                    beat.consecutive_errors,
                    text,
                    pause,
                )
        else:
            pause = max(0.0, beat.interval_s - (time.monotonic() - began))
            beat.succeeded(int(items or 0), now_ms(), now_ms() + int(pause * 1000))
        now_state = "ok" if beat.ok else "failing"
        if now_state != state and on_change is not None:
            on_change(beat, state)
        state = now_state
        try:
            await sources.heartbeat(r, keys, beat)
        except (RedisError, OSError) as exc:
            log.debug("feeds: could not store %s's heartbeat: %s", collector.name, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
    return beat


async def run_collectors(
    r: aioredis.Redis,
    keys: Keys,
    collectors: Sequence[Collector],
    stop: asyncio.Event,
    backoff: Backoff = Backoff(),
    on_change: OnChange | None = None,
) -> None:
    """Run every collector concurrently until `stop` is set. Steps under way then get
    STOP_GRACE_S seconds to finish before they are cancelled."""
    names = [c.name for c in collectors]
    if len(set(names)) != len(names):
        raise ValueError(f"collector names must be unique, got {names}")
    jobs = [
        asyncio.create_task(run_collector(r, keys, c, stop, backoff, on_change), name=c.name)
        for c in collectors
    ]
    stopped = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([*jobs, stopped], return_when=asyncio.FIRST_COMPLETED)
        if jobs:
            await asyncio.wait(jobs, timeout=STOP_GRACE_S if stop.is_set() else None)
    finally:
        for job in (*jobs, stopped):
            job.cancel()
        results = await asyncio.gather(*jobs, stopped, return_exceptions=True)
        for job, result in zip(jobs, results, strict=False):
            if isinstance(result, Exception):
                log.error("feeds: %s's runner ended: %r", job.get_name(), result)
