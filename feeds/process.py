"""The feeds commands: `newsroom feeds`, `newsroom simulate`, and the feeds inside the web
process (`newsroom up`).

`main` runs the collectors a feeds config names (see feeds/config.py) plus the derived alerts,
each heartbeating its health; with no config it runs the simulator, as `simulate` does. These
are the I/O shell around feeds/collector.py's runner and feeds/run.py's simulator: they connect
to Redis, stop on Ctrl-C and print where the data goes, each source's changes and the
simulator's progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
from collections.abc import Iterable, Iterator
from typing import TypedDict, Unpack

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from dispatch import db, sources
from dispatch.errors import ConfigError
from dispatch.keys import Keys
from dispatch.settings import Settings
from dispatch.sources import Heartbeat
from feeds import config
from feeds.collector import Backoff, Collector, run_collectors
from feeds.derived import DerivedAlertsCollector
from feeds.run import PROGRESS_EVERY_S, Progress, run_simulator

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """Ctrl-C and SIGTERM set `stop` (where the loop can handle signals)."""
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:  # a clean stop on Ctrl-C; not available off the main thread or on Windows
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    try:
        yield
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)


class RunOptions(TypedDict, total=False):
    """The options `main` (`newsroom feeds`) and `simulate` (`newsroom simulate`) share."""

    seed: int  # the simulator's: same seed, same newsroom (default 1)
    rate: float  # the simulator's speed-up (default 1.0)
    duration_s: float | None  # stop after this many seconds (default None: at Ctrl-C)


async def main(settings: Settings, redis_url: str, **options: Unpack[RunOptions]) -> int:
    """`newsroom feeds`: the collectors the feeds config names, plus the derived alerts. The
    config is NEWSROOM_FEEDS_CONFIG (`--config`), else NEWSROOM_DATA_DIR/feeds.toml if it
    exists; with neither, the simulator (`seed`, `rate`), as `newsroom simulate` runs it.
    Runs until Ctrl-C (or `duration_s`); returns the exit status."""
    path = config.default_path(settings.feeds_config, settings.data_dir)
    if path is None:
        return await simulate(settings, redis_url, **options)
    duration_s = options.get("duration_s")
    return await run_config(settings, redis_url, config.load(path), duration_s=duration_s)


def in_web_process(settings: Settings) -> list[Collector]:
    """For `newsroom up` (one box): the feeds config's collectors if there is a config, and the
    derived alerts either way. Raises ConfigError before anything starts."""
    path = config.default_path(settings.feeds_config, settings.data_dir)
    if path is None:
        return [DerivedAlertsCollector(lang=settings.lang)]
    return collectors_for(config.load(path), settings.lang)


async def run_in_web_process(r: aioredis.Redis, keys: Keys, collectors: list[Collector]) -> None:
    """Run `in_web_process`'s collectors until cancelled (the web process stopping)."""
    try:
        await run_collectors(r, keys, collectors, asyncio.Event(), Backoff(), _print_change)
    finally:
        await _close(collectors)


def collectors_for(cfg: config.FeedsConfig, lang: str) -> list[Collector]:
    """The collectors a config names, plus the derived alerts (unless turned off), ready for
    `feeds.collector.run_collectors`. Raises ConfigError if one cannot be built."""
    collectors: list[Collector] = [config.build(source) for source in cfg.sources]
    if cfg.alerts.enabled:
        collectors.append(DerivedAlertsCollector(cfg.alerts, lang=lang))
    if not collectors:
        raise ConfigError(
            f"{cfg.path}: no enabled [[source]] and the [alerts] are off: nothing to run"
        )
    return collectors


async def run_config(
    settings: Settings,
    redis_url: str,
    cfg: config.FeedsConfig,
    duration_s: float | None = None,
    backoff: Backoff | None = None,
) -> int:
    """Run a feeds config's collectors until Ctrl-C (or `duration_s`), printing where the data
    goes, each source's state at the start, and each change between ok and failing."""
    collectors = collectors_for(cfg, settings.lang)
    r = db.connect(redis_url)
    keys = Keys(settings.tenant)
    stop = asyncio.Event()
    try:
        await _print_start(r, keys, settings, redis_url, cfg, collectors)
        with _stop_on_signals(stop):
            if duration_s is not None:
                asyncio.get_running_loop().call_later(duration_s, stop.set)
            await run_collectors(r, keys, collectors, stop, backoff or Backoff(), _print_change)
    finally:
        await _close(collectors)
        await r.aclose()
    print("feeds stopped", flush=True)
    return 0


async def _print_start(
    r: aioredis.Redis,
    keys: Keys,
    settings: Settings,
    redis_url: str,
    cfg: config.FeedsConfig,
    collectors: list[Collector],
) -> None:
    where = "Redis at " + redis_url.split("@")[-1]
    print(
        f"feeds: {len(collectors)} collector(s) from {cfg.path}, writing to {where} "
        f"(tenant {settings.tenant!r}); their health: {settings.public_url}/wall and "
        f"GET {settings.public_url}/api/v1/feeds. Ctrl-C stops",
        flush=True,
    )
    try:
        known = {row["name"]: row for row in await sources.health(r, keys)}
    except (RedisError, OSError) as exc:
        print(f"  (Redis is not answering yet: {exc}; the collectors will keep trying)")
        known = {}
    for c in collectors:
        row = known.get(c.name)
        if row is None:
            state = "new"
        elif row["age_ms"] is None:
            state = f"{row['status']}, never succeeded"
        else:
            state = f"{row['status']}, last ok {row['age_ms'] // 1000} s ago"
        print(f"  {c.name:<20} {c.kind:<15} every {c.interval_s:g} s  ({state})", flush=True)


async def _close(collectors: Iterable[Collector]) -> None:
    """Let collectors that hold something open (a log file, an HTTP client) close it."""
    for c in collectors:
        for method in ("aclose", "close"):
            closer = getattr(c, method, None)
            if callable(closer):
                try:
                    result = closer()
                    if inspect.isawaitable(result):
                        await result
                except Exception as exc:  # noqa: BLE001 - closing is best effort
                    log.debug("feeds: closing %s: %s", c.name, exc)
                break


def _print_change(beat: Heartbeat, before: str) -> None:
    if beat.ok:
        print(f"feeds: {beat.name} ok ({beat.items_last} item(s))", flush=True)
    else:
        retry = max(0, (beat.next_try or 0) - (beat.last_attempt or 0)) / 1000
        print(
            f"feeds: {beat.name} failing: {beat.last_error}; retrying in {retry:.0f} s", flush=True
        )


async def simulate(settings: Settings, redis_url: str, **options: Unpack[RunOptions]) -> int:
    """`newsroom simulate`: run the simulator until Ctrl-C (or `duration_s`), printing a
    progress line about every 10 s. Returns the exit status."""
    seed, rate = options.get("seed", 1), options.get("rate", 1.0)
    duration_s = options.get("duration_s")
    r = db.connect(redis_url)
    keys = Keys(settings.tenant)
    stop = asyncio.Event()
    print(
        f"simulating a newsroom (seed {seed}, rate {rate:g}) for tenant {settings.tenant!r}; "
        f"the wall and desk served at {settings.public_url} show it. Ctrl-C stops",
        flush=True,
    )
    try:
        with _stop_on_signals(stop):
            stats = await run_simulator(
                r,
                keys,
                seed=seed,
                rate=rate,
                stop=stop,
                duration_s=duration_s,
                progress=_print_progress,
                progress_every_s=PROGRESS_EVERY_S,
                source="simulator",
            )
    finally:
        await r.aclose()
    print(
        f"simulator stopped after {stats.elapsed_s:.0f} s: {stats.events} events written, "
        f"{stats.dropped} dropped, {stats.errors} Redis errors",
        flush=True,
    )
    return 0


def _print_progress(p: Progress) -> None:
    waiting = f", {p.backlog} waiting (Redis errors: {p.errors})" if p.backlog or p.errors else ""
    print(f"simulate: {p.events} events written, {p.recent_per_s:.1f}/s{waiting}", flush=True)
