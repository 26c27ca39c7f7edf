"""The simulator's I/O shell: the simulated newsroom written into Redis.

`run_simulator` (`newsroom simulate`, the demo data of `newsroom up`) and `SimulatorCollector`
(`kind = "simulator"` in a feeds config) register the simulated reporters, then step the model
(feeds/simulator.py) in real time and write its events through dispatch's services, as any feed
would, in order. A run of consecutive fixes is one round trip (`reporters.apply_fixes`, as the
tracker ingest writes a request's fixes), and so is a run of traffic windows (one MULTI,
`stories.record_traffic_batch`); duty changes and story updates are one round trip each. The
commands that run them, and print their progress, are in feeds/process.py.

Redis being away is a normal condition here, not a crash: events wait in a bounded backlog and
are retried after a back-off. Fixes, duty changes and story updates are idempotent, so a retry
is safe; a traffic window adds to a counter, so it is tried at most once (a run of them that
meets a Redis error is dropped).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from dispatch import reporters as reporter_service
from dispatch import sources
from dispatch import stories as story_service
from dispatch.clock import now_ms
from dispatch.errors import InvalidInput, NewsroomError, NotFound
from dispatch.keys import Keys
from dispatch.schema import Duty, Location, Story, Traffic
from dispatch.sources import Heartbeat
from feeds import formats
from feeds.sim_content import Profile, tracker_device
from feeds.simulator import Newsroom, SimEvent

log = logging.getLogger(__name__)

TICK_S = 1.0  # at rate 1; divided by the rate, but never below MIN_TICK_S
MIN_TICK_S = 0.05
MAX_STEP_S = 60.0  # after a long stall (a sleeping laptop) skip ahead rather than replay a burst
BACKOFF_S = (0.5, 5.0)
MAX_BACKLOG = 50_000
MAX_BATCH = 500  # events in one round trip (a run of fixes or of traffic windows)
PROGRESS_EVERY_S = 10.0
HEARTBEAT_EVERY_S = 2.0  # run_simulator's heartbeat (a collector's is after every step)
_REDIS_DOWN = (RedisError, OSError)
_E = TypeVar("_E", Location, Traffic)


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


async def write(r: aioredis.Redis, keys: Keys, events: Sequence[SimEvent]) -> None:
    """Write a run of simulator events of one kind (see `_run`) through the service that owns
    their state: fixes in one round trip, traffic windows in one MULTI, anything else one at a
    time. NewsroomError if the service refuses one; fixes before and after a refused one may
    have been applied (a fix is idempotent), while a refused traffic run writes nothing."""
    # Through the sources' real formats and parsers (feeds/formats.py), as a real feed would.
    head = events[0]
    if isinstance(head, Location):
        located = _only(Location, events)
        fixes = [formats.location(e, tracker_device(e.reporter_id)) for e in located]
        await reporter_service.apply_fixes(r, keys, fixes)
    elif isinstance(head, Traffic):
        windows = formats.traffic(list(_only(Traffic, events)), now_ms())
        await story_service.record_traffic_batch(r, keys, windows)
    else:
        for event in events:
            if isinstance(event, Duty):
                await reporter_service.set_duty(r, keys, event.reporter_id, event.on_duty)
            elif isinstance(event, Story):
                await story_service.upsert_story(r, keys, formats.story(event, now_ms()))
            else:
                raise TypeError(f"write: a {event.type} event in a run of {head.type}")


def _only(kind: type[_E], events: Sequence[SimEvent]) -> Iterable[_E]:
    for event in events:
        if not isinstance(event, kind):
            raise TypeError(f"write: a {event.type} event in a run of {kind.__name__}")
        yield event


def _run(backlog: deque[SimEvent]) -> list[SimEvent]:
    """The events at the head of the backlog that are written together: its fixes up to the
    next other event, or its traffic windows likewise (at most MAX_BATCH), else the head alone.
    Runs never reach past another event, so every event is written in the model's order."""
    head = backlog[0]
    if not isinstance(head, Location | Traffic):
        return [head]
    same = itertools.takewhile(lambda e: type(e) is type(head), backlog)
    return list(itertools.islice(same, MAX_BATCH))


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
            # Oldest first past the bound: a newer fix or story supersedes it.
            _drop(backlog, len(backlog) - MAX_BACKLOG, stats)
            ready = await _drain(r, keys, backlog, stats)
            backoff, error = 0.0, ""
        except _REDIS_DOWN as exc:
            stats.errors += 1
            error = f"Redis error: {exc}"
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
    """Write the backlog in order, a run of fixes or traffic windows a round trip. Return False
    if a reporter has vanished (the database was flushed under us), so the roster is registered
    again. A Redis error ends it: the events not written stay in the backlog, except a traffic
    run, which may have been counted already and is dropped (never counted twice)."""
    still_registered, alone = True, 0
    while backlog:
        run = [backlog[0]] if alone else _run(backlog)
        alone = max(0, alone - 1)
        try:
            await write(r, keys, run)
            stats.events += len(run)
        except NewsroomError as exc:  # the service refused one: retrying would not help
            if len(run) > 1:  # again one at a time, so the refusal falls on its event alone
                alone = len(run)  # (safe: fixes are idempotent, a refused traffic run wrote none)
                continue
            log.warning("simulator: %s refused: %s", run[0].type, exc.text)
            stats.dropped += 1
            still_registered = still_registered and not isinstance(exc, NotFound)
        except _REDIS_DOWN:
            if isinstance(run[0], Traffic):
                _drop(backlog, len(run), stats)
            raise
        _drop(backlog, len(run))
    return still_registered


def _drop(backlog: deque[SimEvent], n: int, stats: Progress | None = None) -> None:
    """Take the first `n` events (if positive) off the backlog; with `stats`, count them as
    dropped."""
    n = max(0, n)
    for _ in range(n):
        backlog.popleft()
    if stats is not None:
        stats.dropped += n


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
        if not self._ready:
            await register(r, keys, self._model.roster())
            await backfill(r, keys, self._model.history(now_ms()))
            self._ready = True
        began = time.monotonic()
        dt = 0.0 if self._last is None else min(began - self._last, MAX_STEP_S)
        self._last = began
        self._backlog.extend(self._model.step(now_ms(), dt))
        _drop(self._backlog, len(self._backlog) - MAX_BACKLOG)
        self._ready = await _drain(r, keys, self._backlog, stats)
        return stats.events
