"""The feeds process (`newsroom feeds`), and the simulator's I/O shell.

`main` runs the collectors a feeds config names (see feeds/config.py) plus the derived alerts,
each heartbeating its health; with no config it runs the simulator, as `newsroom simulate`
does.

The simulator registers the simulated reporters, then steps the model in real time and
writes each event through dispatch's services, as any feed would. Redis being away is a normal
condition here, not a crash: events wait in a bounded backlog and are retried after a
back-off. Fixes, duty changes and story updates are idempotent, so a retry is safe; a traffic
window adds to a counter, so it is tried at most once.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from dispatch import db, sources
from dispatch import reporters as reporter_service
from dispatch import stories as story_service
from dispatch.clock import now_ms
from dispatch.errors import ConfigError, InvalidInput, NewsroomError, NotFound
from dispatch.keys import Keys
from dispatch.schema import Duty, Location, Story, Traffic
from dispatch.settings import Settings
from dispatch.sources import Heartbeat
from feeds import config, formats
from feeds.collector import Backoff, Collector, run_collectors
from feeds.derived import DerivedAlertsCollector
from feeds.sim_content import Profile, tracker_device
from feeds.simulator import Newsroom, SimEvent

log = logging.getLogger(__name__)

TICK_S = 1.0  # at rate 1; divided by the rate, but never below MIN_TICK_S
MIN_TICK_S = 0.05
MAX_STEP_S = 60.0  # after a long stall (a sleeping laptop) skip ahead rather than replay a burst
BACKOFF_S = (0.5, 5.0)
MAX_BACKLOG = 50_000
PROGRESS_EVERY_S = 10.0
HEARTBEAT_EVERY_S = 2.0  # run_simulator's heartbeat (a collector's is after every step)
_REDIS_DOWN = (RedisError, OSError)


@dataclass
class Progress:
    """What the runner has done so far; handed to the progress callback."""

    events: int = 0  # written
    dropped: int = 0  # refused by a service, or lost to a full backlog or an uncertain write
    errors: int = 0  # Redis errors met
    backlog: int = 0  # waiting to be written
    elapsed_s: float = 0.0
    recent_per_s: float = 0.0  # events written per second since the previous report


async def register(r: aioredis.Redis, keys: Keys, roster: Iterable[Profile]) -> int:
    """Create the reporters that do not exist yet; return how many were created. Existing
    reporters are left alone: no new profile, no new token."""
    created = 0
    for p in roster:
        if await r.exists(keys.reporter(p.reporter_id)):
            continue
        try:
            await reporter_service.create(
                r, keys, p.name, list(p.skills), list(p.devices), reporter_id=p.reporter_id
            )
            created += 1
        except InvalidInput:  # another runner created it between our check and our create
            pass
    return created


async def backfill(r: aioredis.Redis, keys: Keys, history: list[Traffic]) -> int:
    """Write the history windows whose minute has no traffic yet; return how many. A restart
    therefore never counts an hour twice."""
    written = 0
    for channel in {t.channel for t in history}:
        windows = [t for t in history if t.channel == channel]
        stored = await r.hmget(keys.traffic_minute(channel), [str(t.window_start) for t in windows])
        for window, value in zip(windows, stored, strict=True):
            if not value or int(value) == 0:
                await story_service.record_traffic(r, keys, window)
                written += 1
    return written


async def write(r: aioredis.Redis, keys: Keys, event: SimEvent) -> None:
    """Write one simulator event through the service that owns its state."""
    # Through the sources' real formats and parsers (feeds/formats.py), as a real feed would.
    if isinstance(event, Location):
        fix = formats.location(event, tracker_device(event.reporter_id))
        await reporter_service.apply_fix(r, keys, fix)
    elif isinstance(event, Duty):
        await reporter_service.set_duty(r, keys, event.reporter_id, event.on_duty)
    elif isinstance(event, Story):
        await story_service.upsert_story(r, keys, formats.story(event, now_ms()))
    else:
        await story_service.record_traffic_batch(r, keys, formats.traffic([event], now_ms()))


async def run_simulator(
    r: aioredis.Redis,
    keys: Keys,
    *,
    seed: int = 1,
    rate: float = 1.0,
    reporters: int = 30,
    stories: int = 40,
    stop: asyncio.Event | None = None,
    duration_s: float | None = None,
    progress: Callable[[Progress], None] | None = None,
    progress_every_s: float = PROGRESS_EVERY_S,
    source: str | None = None,
) -> Progress:
    """Run the simulated newsroom against Redis until `stop` is set or `duration_s` passes.

    Registers the roster (idempotently), backfills the last hour of traffic where it is
    missing, then ticks every `1/rate` s (at least 0.05 s). Redis errors are logged and
    retried with back-off; they never end the run. With a `source` name it stores a heartbeat
    every HEARTBEAT_EVERY_S, so the wall shows the simulator's health like any feed's.
    Returns the final Progress.
    """
    model = Newsroom(seed, start_ms=now_ms(), rate=rate, reporters=reporters, stories=stories)
    stop = stop or asyncio.Event()
    tick_s = max(MIN_TICK_S, TICK_S / rate)
    began = time.monotonic()
    deadline = None if duration_s is None else began + duration_s
    stats = Progress()
    backlog: deque[SimEvent] = deque()
    ready, backoff, last_step = False, 0.0, None
    next_report, reported_events = began + progress_every_s, 0
    beat = Heartbeat(source or "simulator", "simulator", tick_s)
    next_beat, beat_events, error = began, 0, ""

    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
        tick_began = time.monotonic()
        try:
            if not ready:
                created = await register(r, keys, model.roster())
                filled = await backfill(r, keys, model.history(now_ms()))
                log.info(
                    "simulator: %d reporters registered, %d traffic minutes backfilled",
                    created,
                    filled,
                )
                ready = True
            dt = 0.0 if last_step is None else min(tick_began - last_step, MAX_STEP_S)
            last_step = tick_began
            backlog.extend(model.step(now_ms(), dt))
            while len(backlog) > MAX_BACKLOG:  # oldest first: a newer fix or story supersedes it
                backlog.popleft()
                stats.dropped += 1
            ready = await _drain(r, keys, backlog, stats)
            backoff, error = 0.0, ""
        except _REDIS_DOWN as exc:
            stats.errors += 1
            error = f"Redis error: {exc}"
            if backlog and isinstance(backlog[0], Traffic):
                backlog.popleft()  # it may have been counted before the error: never twice
                stats.dropped += 1
            backoff = min(max(backoff * 2, BACKOFF_S[0]), BACKOFF_S[1])
            log.warning(
                "simulator: Redis error (%s); %d events waiting; retrying in %.1f s",
                exc,
                len(backlog),
                backoff,
            )
        now = time.monotonic()
        stats.backlog, stats.elapsed_s = len(backlog), now - began
        if progress and now >= next_report:
            since_s = now - (next_report - progress_every_s)
            stats.recent_per_s = (stats.events - reported_events) / since_s
            reported_events, next_report = stats.events, now + progress_every_s
            progress(stats)
        pause = backoff or max(0.0, tick_s - (now - tick_began))
        if source and now >= next_beat:
            next_beat = now + HEARTBEAT_EVERY_S
            at = now_ms()
            if error:
                beat.failed(error, at, at + int(pause * 1000))
            else:
                beat.succeeded(stats.events - beat_events, at, at + int(pause * 1000))
            beat_events = stats.events
            with contextlib.suppress(*_REDIS_DOWN):
                await sources.heartbeat(r, keys, beat)
        if deadline is not None:
            pause = min(pause, max(0.0, deadline - time.monotonic()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
    stats.elapsed_s = time.monotonic() - began
    return stats


async def _drain(r: aioredis.Redis, keys: Keys, backlog: deque[SimEvent], stats: Progress) -> bool:
    """Write the backlog in order. Return False if a reporter has vanished (the database was
    flushed under us), so the roster is registered again."""
    still_registered = True
    while backlog:
        try:
            await write(r, keys, backlog[0])
            stats.events += 1
        except NewsroomError as exc:  # the service refused it: retrying would not help
            log.warning("simulator: %s refused: %s", backlog[0].type, exc.text)
            stats.dropped += 1
            still_registered = still_registered and not isinstance(exc, NotFound)
        backlog.popleft()
    return still_registered


class SimulatorCollector:
    """The simulated newsroom as a collector (`kind = "simulator"` in a feeds config): each
    step advances the model by the time since the last one and writes what happened."""

    kind = "simulator"

    def __init__(
        self,
        *,
        name: str = "simulator",
        interval_s: float = 1.0,
        seed: int = 7,
        rate: float = 1.0,
        reporters: int = 30,
        stories: int = 40,
    ) -> None:
        for option, value, low, high in (
            ("rate", rate, 0.01, 1000),
            ("reporters", reporters, 1, 500),
            ("stories", stories, 1, 5000),
        ):
            if not isinstance(value, int | float) or not low <= value <= high:
                raise ValueError(f"{option} must be from {low:g} to {high:g}, got {value!r}")
        self.name, self.interval_s = name, float(interval_s)
        self._args = (int(seed), float(rate), int(reporters), int(stories))
        self._model: Newsroom | None = None
        self._backlog: deque[SimEvent] = deque()
        self._ready = False
        self._last: float | None = None

    async def step(self, r: aioredis.Redis, keys: Keys) -> int:
        seed, rate, reporters, stories = self._args
        if self._model is None:
            self._model = Newsroom(
                seed, start_ms=now_ms(), rate=rate, reporters=reporters, stories=stories
            )
        stats = Progress()
        try:
            if not self._ready:
                await register(r, keys, self._model.roster())
                await backfill(r, keys, self._model.history(now_ms()))
                self._ready = True
            began = time.monotonic()
            dt = 0.0 if self._last is None else min(began - self._last, MAX_STEP_S)
            self._last = began
            self._backlog.extend(self._model.step(now_ms(), dt))
            while len(self._backlog) > MAX_BACKLOG:
                self._backlog.popleft()
            self._ready = await _drain(r, keys, self._backlog, stats)
        except _REDIS_DOWN:
            if self._backlog and isinstance(self._backlog[0], Traffic):
                self._backlog.popleft()  # it may have been counted before the error: never twice
            raise
        return stats.events


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


async def main(
    settings: Settings,
    redis_url: str,
    seed: int = 1,
    rate: float = 1.0,
    duration_s: float | None = None,
) -> int:
    """`newsroom feeds`: the collectors the feeds config names, plus the derived alerts. The
    config is NEWSROOM_FEEDS_CONFIG (`--config`), else NEWSROOM_DATA_DIR/feeds.toml if it
    exists; with neither, the simulator (`seed`, `rate`), as `newsroom simulate` runs it.
    Runs until Ctrl-C (or `duration_s`); returns the exit status."""
    path = config.default_path(settings.feeds_config, settings.data_dir)
    if path is None:
        return await simulate(settings, redis_url, seed=seed, rate=rate, duration_s=duration_s)
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
    except _REDIS_DOWN as exc:
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


async def simulate(
    settings: Settings,
    redis_url: str,
    seed: int = 1,
    rate: float = 1.0,
    duration_s: float | None = None,
) -> int:
    """`newsroom simulate`: run the simulator until Ctrl-C (or `duration_s`), printing a
    progress line about every 10 s. Returns the exit status."""
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
