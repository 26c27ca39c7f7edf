"""The shared half of the live pages (see live.py): one subscription, one `LiveState` and one
render per look for every page of a process, whatever the number of open walls.

The composition root makes one `Hub` per runtime (tenant); it does nothing until a page
joins. The first `join` starts its task (in a context of its own, so nothing it does can
reach one connection's set_props); the last `leave` cancels it, which unsubscribes from the
bus, and drops the state. Each look is a `View`: its render and on_beat (the first joining
page's; pages with equal keys are alike), its figure timing, and the frames it published,
numbered, the last FRAMES_KEPT kept, so each connection pushes the ones it has not pushed yet
(a connection that fell further behind gets the whole page). A failing render ends that
look's connections only (their watchdogs reload the pages); a failing batch makes the hub
reload the snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections import deque
from collections.abc import Hashable

from redis.exceptions import RedisError

from dashboards import model
from dashboards.batching import BATCH_S, Frame, Updates, decode, frame, next_batch
from dashboards.live import HEARTBEAT_S, Page, load_state, read_top
from dashboards.model import LiveState
from dispatch import reporters, sources, stories
from dispatch.bus import Subscription
from dispatch.clock import now_ms
from dispatch.errors import NotFound
from dispatch.runtime import Runtime

log = logging.getLogger(__name__)

FIGURE_INTERVAL_S = 0.5
FIGURE_GAP_S = 0.03  # figures follow news text in a separate message (see Hub.flush)
TOP_EVERY_S = 4.0  # re-read the top stories at most this often while traffic comes in
TOP_MAX_AGE_S = 30.0  # ... and at least this often (the window moves with the clock)
FRAMES_KEPT = 32  # a connection further behind than this gets the whole page again


class View:
    """One look, shared by the connections that draw it."""

    def __init__(self, page: Page) -> None:
        self.key = page.key
        self.render, self.on_beat, self.extras = page.render, page.on_beat, page.extras
        self.members = 0
        self.failed = False  # its render or on_beat raised: its connections end
        self.pending: set[str] = set()  # figure and ambient parts waiting for the next redraw
        self.last_figures = 0.0
        self.text_sent = 0.0  # when news text (not only AMBIENT parts) last went out
        self.seq = 0  # frames published so far
        self.frames: deque[Frame] = deque(maxlen=FRAMES_KEPT)
        self.whole: tuple[int, Frame] | None = None  # (state version, the whole page)
        self._loop = asyncio.get_running_loop()
        self._wake: asyncio.Future[None] = self._loop.create_future()

    def publish(self, updates: Updates) -> bool:
        """Hand `updates` to every connection of this look (nothing when empty)."""
        if not updates:
            return False
        self.frames.append(frame(updates))
        self.seq += 1
        self.ring()
        return True

    def ring(self) -> None:
        wake, self._wake = self._wake, self._loop.create_future()
        wake.set_result(None)

    def since(self, seen: int) -> list[Frame] | None:
        """The frames published after the `seen`-th; None if some of them are gone."""
        missed = self.seq - seen
        if missed > len(self.frames):
            return None
        return list(self.frames)[len(self.frames) - missed :] if missed > 0 else []

    async def wait(self, seen: int, timeout: float) -> None:
        """Until a frame after the `seen`-th is published (or the look fails), at most
        `timeout` seconds. Cancelling the waiter leaves the shared future alone."""
        if self.seq == seen and not self.failed:
            await asyncio.wait([self._wake], timeout=max(0.0, timeout))

    def figures_due(self) -> float:
        """When the pending figures may go: FIGURE_INTERVAL_S after the last redraw and
        FIGURE_GAP_S after the last news text, but at the latest one more interval on, so that
        no stream of text holds the map back for ever."""
        interval = self.last_figures + FIGURE_INTERVAL_S
        return min(max(interval, self.text_sent + FIGURE_GAP_S), interval + FIGURE_INTERVAL_S)


class Hub:
    """Every live page of one runtime: the shared state, its views and the task feeding them."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.views: dict[Hashable, View] = {}
        self.state: LiveState | None = None
        self.version = 0  # moves whenever the state may have changed (see `whole`)
        self.task: asyncio.Task[None] | None = None
        self.next_beat = self.last_push = self.last_top = 0.0

    # --- the connections' side ---------------------------------------------------------
    def join(self, page: Page) -> View:
        """The view for `page`'s look (made for it if it is the first); starts the hub."""
        view = self.views.get(page.key)
        if view is None or view.failed:
            view = self.views[page.key] = View(page)
        view.members += 1
        self.ensure_running()
        return view

    def leave(self, view: View) -> None:
        """One connection of `view` is gone; the last one of all stops the hub."""
        view.members -= 1
        if view.members <= 0 and self.views.get(view.key) is view:
            del self.views[view.key]
        if not self.views:
            self.stop()

    def whole(self, view: View) -> Frame | None:
        """The look's whole page from the shared state (None before the first snapshot),
        rendered once per state version however many connections join."""
        if self.state is None:
            return None
        if view.whole is None or view.whole[0] != self.version:
            updates = self.render(view, set(model.ALL), True, now_ms())
            if view.failed:
                return None
            view.whole = (self.version, frame(updates))
        return view.whole[1]

    def ensure_running(self) -> None:
        """Start the task if there are views and no task (the first join, or after a crash)."""
        if self.views and (self.task is None or self.task.done()):
            self.state = None
            self.task = asyncio.create_task(
                self.run(), name="live-hub", context=contextvars.Context()
            )
            self.task.add_done_callback(_log_crash)

    def stop(self) -> None:
        """Cancel the task (which unsubscribes) and drop the state."""
        if self.task is not None:
            self.task.cancel()
        self.task, self.state = None, None

    # --- the task ------------------------------------------------------------------------
    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self.next_beat = self.last_push = loop.time()
        async with self.runtime.bus.subscribe(self.runtime.keys.live_channel) as sub:
            await self.reload(sub, now_ms())
            while True:
                now = loop.time()
                raws = await next_batch(
                    sub, self.timeout(now), max(0.0, self.last_push + BATCH_S - now)
                )
                now, stamp = loop.time(), now_ms()
                changed = bool(raws) or now >= self.next_beat
                try:
                    await self.step(sub, raws, now, stamp)
                except Exception:
                    log.exception("live: a batch failed; reloading the snapshot")
                    self.state = None
                if changed:
                    # Joiners from now on get a new whole page; those that joined during this
                    # step got one a little older, but also this step's frames.
                    self.version += 1
                if raws:
                    self.last_push = now  # a burst right after this waits BATCH_S to join up

    async def step(self, sub: Subscription, raws: list[str], now: float, stamp: int) -> None:
        parts = await self.handle(sub, raws, now, stamp)
        if parts or now < self.next_beat:
            # The batch's news goes out before the tick's Redis reads, not after them.
            self.flush(parts, {}, now, stamp)
        if now >= self.next_beat:
            parts = await self.beat(now, stamp)
            self.flush(parts, await self.look_beats(stamp), now, stamp)

    def timeout(self, now: float) -> float:
        due = [v.figures_due() for v in self.views.values() if v.pending]
        return min([self.next_beat, *due]) - now

    async def reload(self, sub: Subscription, stamp: int) -> bool:
        """Read the snapshot again; every look gets its whole page."""
        sub.drain()  # the snapshot includes whatever is queued now
        try:
            state = await load_state(self.runtime, extras=True)
        except (RedisError, OSError) as exc:
            log.warning("live: could not read the snapshot (%s); retrying", exc)
            return False
        now = asyncio.get_running_loop().time()
        self.state, self.last_top = state, now
        self.version += 1
        for view in list(self.views.values()):
            view.publish(self.render(view, set(model.ALL), True, stamp))
            view.pending.clear()
            view.last_figures = now
        return True

    async def handle(self, sub: Subscription, raws: list[str], now: float, stamp: int) -> set[str]:
        """Fold a batch into the state (reloading it on RESYNC); return the changed parts."""
        events, resync = decode(raws)
        if resync or (self.state is None and now >= self.next_beat):
            reloaded = await self.reload(sub, stamp)
            if resync and reloaded and self.state is not None:
                self.state.last_event = ("resync", "", stamp)
                model.note_received(self.state, stamp)
                return {model.EVENT, model.COUNTS}
            return set()
        state = self.state
        if state is None:
            return set()
        parts: set[str] = set()
        for event in events:
            parts |= model.apply(state, event, stamp)
        if state.missing:
            with contextlib.suppress(RedisError, OSError):
                await _complete_reporters(self.runtime, state)
        return parts

    async def beat(self, now: float, stamp: int) -> set[str]:
        """The 2-second tick of the state: source health, the minute's roll-over, ages and
        rates, and the top stories while a page shows them."""
        self.next_beat = now + HEARTBEAT_S
        state = self.state
        if state is None:
            return set()
        r, keys = self.runtime.redis, self.runtime.keys
        parts = {model.TASKS, model.REPORTERS, model.COUNTS}
        with contextlib.suppress(RedisError, OSError):
            # Ages and staleness move with the clock, not with events: re-read each tick.
            state.feeds = await sources.health(r, keys, stamp)
            parts.add(model.FEEDS)
        if model.roll_traffic(state, stamp):
            # A new minute: re-read the totals, which also heals any drift.
            with contextlib.suppress(RedisError, OSError):
                state.traffic = await stories.traffic_last_hour(r, keys, stamp)
            parts.add(model.TRAFFIC)
            if model.drop_finished(state, stamp):
                parts.add(model.STAGES)
        if any(view.extras for view in self.views.values()) and (
            (state.top_dirty and now >= self.last_top + TOP_EVERY_S)
            or now >= self.last_top + TOP_MAX_AGE_S
        ):
            self.last_top = now
            state.top_dirty = False
            with contextlib.suppress(RedisError, OSError):
                state.top = await read_top(self.runtime, stamp)
                parts.add(model.TOP)
        return parts

    async def look_beats(self, stamp: int) -> dict[View, set[str]]:
        """Each look's own on_beat, once, whatever the number of its connections."""
        out: dict[View, set[str]] = {}
        for view in list(self.views.values()):
            if view.on_beat is None or view.failed or self.state is None:
                continue
            try:
                out[view] = await view.on_beat(self.state, stamp)
            except (RedisError, OSError):
                pass
            except Exception:
                self.fail(view)
        return out

    def flush(self, parts: set[str], looks: dict[View, set[str]], now: float, stamp: int) -> None:
        """News now; figures and ambient counts once FIGURE_INTERVAL_S has passed since the
        look's last redraw.

        News (a task, an alert, a story's stage: text outside model.AMBIENT) goes at once, in
        a message of its own, with the ambient counts that were waiting, and holds the figures
        back FIGURE_GAP_S so that it is drawn first: the browser applies one websocket message
        in one task. What every batch of fixes changes (the counts, the last event, the feed
        chips: model.AMBIENT) waits for the next figures and goes with them, so a stream of
        fixes costs the page two messages a second, not ten.
        """
        if self.state is None:
            return
        for view in list(self.views.values()):
            mine = parts | looks.get(view, set())
            text = mine - model.FIGURES
            if text - model.AMBIENT:
                waiting = view.pending & model.AMBIENT
                if view.publish(self.render(view, text | waiting, False, stamp)):
                    view.text_sent = now
                view.pending -= waiting
            else:
                view.pending |= text
            view.pending |= mine & model.FIGURES
            if view.pending and now >= view.figures_due():
                view.publish(self.render(view, view.pending, False, stamp))
                view.pending = set()
                view.last_figures = now

    def render(self, view: View, parts: set[str], full: bool, stamp: int) -> Updates:
        """The look's updates; a failing render fails the look, not the others."""
        if self.state is None or view.failed:
            return {}
        try:
            return view.render(self.state, parts, full, stamp)
        except Exception:
            self.fail(view)
            return {}

    def fail(self, view: View) -> None:
        log.exception("live: the look %r failed; ending its streams", view.key)
        view.failed = True
        view.ring()
        if self.views.get(view.key) is view:
            del self.views[view.key]


async def _complete_reporters(runtime: Runtime, state: LiveState) -> None:
    for reporter_id in sorted(state.missing):
        try:
            found = await reporters.get(runtime.redis, runtime.keys, reporter_id)
            model.merge_reporter(state, found)
        except NotFound:
            state.missing.discard(reporter_id)
            state.reporters.pop(reporter_id, None)


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("live: the shared stream stopped: %r (the next heartbeat restarts it)", exc)
