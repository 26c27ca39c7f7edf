"""The streaming plumbing shared by the wall and the desk.

A page's persistent websocket callback calls `stream(runtime, page)`, which never returns
while the browser is there:

1. subscribe to the tenant's live channel on the process-wide bus, *then* read the snapshot
   (so nothing published in between is lost) and push it whole;
2. fold each batch of events into the connection's own `LiveState` (a local variable, never a
   module global) and push only what changed: text at once (the first event after a quiet
   spell, and any task, alert or story change, goes out immediately; streams of fixes and
   traffic counts are coalesced into ~100 ms batches), figures as `Patch` deltas at most
   twice a second;
3. every 2 s: a heartbeat (assets/watchdog.js marks the page stale without it), ages, the
   events-per-minute rate and the feed sources' health (re-read: it changes with the clock),
   then the page's own `on_beat` (the wall: stuck stories, top stories, fading map dots);
   every 15 s: the page's credentials are checked again (revoked wall keys and ended desk
   sessions stop the stream); every 30 s: a liveness probe, because Dash's shared websocket
   stays open while a closed tab's callback would stream on forever;
4. on RESYNC (the bus dropped messages, or Redis came back) reload the snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import plotly.utils  # type: ignore[import-untyped]
from dash import Patch, ctx, set_props
from redis.exceptions import RedisError

from dashboards import i18n, maps, model, panels
from dashboards.model import LiveState
from dispatch import escalation, reporters, schema, sources, stories, tasks
from dispatch.bus import RESYNC, Subscription
from dispatch.clock import now_ms
from dispatch.errors import InvalidInput, NotFound
from dispatch.runtime import Runtime

log = logging.getLogger(__name__)

HEARTBEAT_S = 2.0
BATCH_S = 0.1
FIGURE_INTERVAL_S = 0.5
FIGURE_GAP_S = 0.03  # figures follow text in a separate message (see _Connection.flush)
AUTH_RECHECK_S = 15.0
PROBE_EVERY_S = 30.0
PROBE_TIMEOUT_S = 10.0

Updates = dict[str, dict[str, Any]]  # component id -> prop -> value
Render = Callable[[LiveState, set[str], bool, int], Updates]


@dataclass
class Page:
    """What the stream needs to know about one page."""

    lang: str
    heartbeat_id: str
    link_id: str
    render: Render  # (state, parts, full, now_ms) -> updates
    authorize: Callable[[], Awaitable[bool]]
    denied: Callable[[], Updates]  # what to show when the credentials stop working
    updated_id: str | None = None  # "last update" time, if the page shows one
    extras: bool = False  # load top stories and recent alerts too
    # Called on every heartbeat tick with the state and the time: the page's own clock-driven
    # refreshes (re-reads, ageing figures); returns the parts that changed. Errors from Redis
    # are ignored for that tick.
    on_beat: Callable[[LiveState, int], Awaitable[set[str]]] | None = None


TOP_MINUTES = 5  # "top stories now": the most read in the last few minutes


async def read_top(runtime: Runtime, now: int | None = None) -> list[dict[str, Any]]:
    """The most read stories now (what the wall's top list shows)."""
    rows = await stories.top_stories(
        runtime.redis, runtime.keys, minutes=TOP_MINUTES, limit=model.TOP_KEPT, now=now
    )
    return [dict(row) for row in rows]


async def load_state(runtime: Runtime, extras: bool = False) -> LiveState:
    """The snapshot a page starts from (and reloads on RESYNC); with `extras`, also the top
    stories and the recent alerts (the wall shows them)."""
    r, keys = runtime.redis, runtime.keys
    reps, open_tasks, all_stories, traffic, feeds = await asyncio.gather(
        reporters.all_reporters(r, keys),
        tasks.open_tasks(r, keys),
        stories.all_stories(r, keys),
        stories.traffic_last_hour(r, keys),
        sources.health(r, keys),
    )
    top: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    if extras:
        top, alerts = await asyncio.gather(
            read_top(runtime), escalation.recent_alerts(r, keys, count=model.ALERTS_KEPT)
        )
    state = model.from_snapshot(reps, open_tasks, all_stories, traffic, now_ms(), top, alerts)
    state.feeds = feeds
    return state


MARKER_PROPS = frozenset({"color", "size", "opacity"})


def to_patch(arrays: dict[int, dict[str, list[Any]]]) -> Patch:
    """A figure Patch replacing the given per-trace arrays (`color`, `size` and `opacity` mean
    the marker's)."""
    patch = Patch()
    for index, props in arrays.items():
        for name, values in props.items():
            if name in MARKER_PROPS:
                patch["data"][index]["marker"][name] = values
            else:
                patch["data"][index][name] = values
    return patch


def map_updates(
    state: LiveState,
    full: bool,
    lang: str,
    map_id: str,
    count_id: str,
    *,
    now: int | None = None,
    scale: float = 1.0,
    tiles: str | None = None,
    zoom: float = maps.ZOOM,
) -> Updates:
    """The map (a whole figure when `full`, else a Patch of the marker arrays) and its count.

    Dots fade with the age of their fix at `now` (default: the current time); `scale` sizes
    fonts and markers; `tiles` is an optional tile URL (else the map is local layers only).
    """
    reps, open_tasks = state.reporters.values(), state.tasks.values()
    stamp = now_ms() if now is None else now
    figure: Any
    if full:
        figure = maps.map_figure(
            reps, open_tasks, lang, zoom=zoom, now=stamp, scale=scale, tiles=tiles
        )
    else:
        figure = to_patch(maps.map_arrays(reps, open_tasks, lang, stamp, scale))
    return {map_id: {"figure": figure}, count_id: {"children": str(state.on_map)}}


def decode(raws: Iterable[str]) -> tuple[list[schema.Message], bool]:
    """Events from raw bus messages, and whether a RESYNC was among them."""
    events: list[schema.Message] = []
    resync = False
    for raw in raws:
        if raw == RESYNC:
            resync = True
            continue
        try:
            events.append(schema.decode_event(raw))
        except InvalidInput as exc:
            log.debug("live: skipped a message the schema refuses: %s", exc)
    return events, resync


# The high-rate events (fixes, traffic counts) that may wait for a batch; anything else (a
# task, its events, an alert, a story's stage) is what the hall watches for: it cuts the wait.
AMBIENT_TYPES = ('"type":"location"', '"type":"traffic"')


def urgent(raw: str) -> bool:
    """Whether a bus message (schema.encode's JSON: "v" then "type" first) ends a batch."""
    head = raw[:40]
    return raw == RESYNC or not any(kind in head for kind in AMBIENT_TYPES)


async def next_batch(sub: Subscription, timeout: float, hold: float) -> list[str]:
    """Wait up to `timeout` for a message; then up to `hold` seconds for more to join it,
    unless an urgent one arrives (it goes out at once, with what came before it)."""
    try:
        first = await asyncio.wait_for(sub.get(), timeout=max(0.0, timeout))
    except TimeoutError:
        return []
    batch = [first, *sub.drain()]
    if hold <= 0 or any(urgent(raw) for raw in batch):
        return batch
    loop = asyncio.get_running_loop()
    until = loop.time() + hold
    while (left := until - loop.time()) > 0:
        try:
            async with asyncio.timeout(left):
                raw = await sub.get()
        except TimeoutError:
            break
        batch.append(raw)
        if urgent(raw):
            break
    batch.extend(sub.drain())
    return batch


class Pusher:
    """set_props with memory: a value equal to the last one sent is not sent again."""

    def __init__(self) -> None:
        self._sent: dict[tuple[str, str], str] = {}

    def push(self, updates: Updates) -> None:
        """Send what differs from what was sent before (Patches always go)."""
        for component_id, props in updates.items():
            fresh: dict[str, Any] = {}
            for name, value in props.items():
                if isinstance(value, Patch):
                    self._sent.pop((component_id, name), None)
                    fresh[name] = value
                    continue
                encoded = json.dumps(value, cls=plotly.utils.PlotlyJSONEncoder, sort_keys=True)
                if self._sent.get((component_id, name)) != encoded:
                    self._sent[(component_id, name)] = encoded
                    fresh[name] = value
            if fresh:
                set_props(component_id, fresh)


async def _load(runtime: Runtime, sub: Subscription, extras: bool) -> LiveState | None:
    sub.drain()  # the snapshot includes whatever is queued now
    try:
        return await load_state(runtime, extras)
    except (RedisError, OSError) as exc:
        log.warning("live: could not read the snapshot (%s); retrying", exc)
        return None


async def _complete_reporters(runtime: Runtime, state: LiveState) -> None:
    for reporter_id in sorted(state.missing):
        try:
            found = await reporters.get(runtime.redis, runtime.keys, reporter_id)
            model.merge_reporter(state, found)
        except NotFound:
            state.missing.discard(reporter_id)
            state.reporters.pop(reporter_id, None)


class _Connection:
    """One page's stream: its state, what it has sent, and its timers (all per connection)."""

    def __init__(self, runtime: Runtime, page: Page, sub: Subscription) -> None:
        self.runtime, self.page, self.sub = runtime, page, sub
        self.loop = asyncio.get_running_loop()
        self.pusher = Pusher()
        self.state: LiveState | None = None
        self.beats = 0
        self.pending: set[str] = set()
        now = self.loop.time()
        self.last_push = self.last_figures = self.text_sent = 0.0
        self.next_beat = now
        self.next_auth = now + AUTH_RECHECK_S
        self.next_probe = now + PROBE_EVERY_S
        self.probe: asyncio.Task[Any] | None = None

    async def reload(self, stamp: int) -> None:
        self.state = await _load(self.runtime, self.sub, self.page.extras)
        if self.state is not None:
            self.pusher.push(self.page.render(self.state, set(model.ALL), True, stamp))
            self.pending.clear()
            self.last_figures = self.loop.time()

    def timeout(self, now: float) -> float:
        wake = [self.next_beat] + ([self.figures_due()] if self.pending else [])
        return min(wake) - now

    async def handle(self, raws: list[str], now: float, stamp: int) -> set[str]:
        """Fold a batch into the state (reloading it on RESYNC); return the changed parts."""
        events, resync = decode(raws)
        if resync or (self.state is None and now >= self.next_beat):
            await self.reload(stamp)
            if resync and self.state is not None:
                self.state.last_event = ("resync", "", stamp)
                model.note_received(self.state, stamp)
                return {model.EVENT, model.COUNTS}
            return set()
        if self.state is None:
            return set()
        parts: set[str] = set()
        for event in events:
            parts |= model.apply(self.state, event, stamp)
        if self.state.missing:
            with contextlib.suppress(RedisError, OSError):
                await _complete_reporters(self.runtime, self.state)
        return parts

    async def beat(self, now: float, stamp: int) -> set[str]:
        """The 2-second tick: heartbeat, link status, minute roll-over, ages and rates."""
        self.beats += 1
        self.next_beat = now + HEARTBEAT_S
        ok = self.state is not None and self.runtime.bus.connected
        status = "live" if ok else "degraded"
        link = panels.link_status(status, self.page.lang)
        updates: Updates = {
            self.page.heartbeat_id: {"children": f"{status} {self.beats}"},
            self.page.link_id: {"children": link},
        }
        if self.page.updated_id and ok:
            updates[self.page.updated_id] = {"children": i18n.clock(stamp)}
        self.pusher.push(updates)
        if self.state is None:
            return set()
        parts = {model.TASKS, model.REPORTERS, model.COUNTS}
        with contextlib.suppress(RedisError, OSError):
            # Ages and staleness move with the clock, not with events: re-read each tick.
            self.state.feeds = await sources.health(self.runtime.redis, self.runtime.keys, stamp)
            parts.add(model.FEEDS)
        if model.roll_traffic(self.state, stamp):
            # A new minute: re-read the totals, which also heals any drift.
            with contextlib.suppress(RedisError, OSError):
                self.state.traffic = await stories.traffic_last_hour(
                    self.runtime.redis, self.runtime.keys, stamp
                )
            parts.add(model.TRAFFIC)
        if self.page.on_beat is not None:
            with contextlib.suppress(RedisError, OSError):
                parts |= await self.page.on_beat(self.state, stamp)
        return parts

    def figures_due(self) -> float:
        return max(self.last_figures + FIGURE_INTERVAL_S, self.text_sent + FIGURE_GAP_S)

    def flush(self, parts: set[str], now: float, stamp: int) -> None:
        """Text now; figures once FIGURE_INTERVAL_S has passed since the last redraw.

        Figures never travel with text: the browser applies one websocket message in one
        task, and a slow WebGL map redraw in that task would hold the text back with it.
        """
        if self.state is None:
            return
        if parts - model.FIGURES:
            self.pusher.push(self.page.render(self.state, parts - model.FIGURES, False, stamp))
            self.text_sent = now
        self.pending |= parts & model.FIGURES
        if self.pending and now >= self.figures_due():
            self.pusher.push(self.page.render(self.state, self.pending, False, stamp))
            self.pending = set()
            self.last_figures = now

    async def still_wanted(self, now: float) -> bool:
        """False once the credentials stop working or the page stops answering."""
        if now >= self.next_auth:
            self.next_auth = now + AUTH_RECHECK_S
            try:
                allowed = await self.page.authorize()
            except (RedisError, OSError):
                allowed = True  # Redis is down: the page already says so; ask again later
            if not allowed:
                set_props_all(self.page.denied())
                return False
        ws = ctx.websocket
        if self.probe is None and now >= self.next_probe:
            self.probe = asyncio.create_task(
                ws.get_prop(self.page.heartbeat_id, "children", timeout=PROBE_TIMEOUT_S)
            )
        elif self.probe is not None and self.probe.done():
            if self.probe.cancelled() or self.probe.exception() is not None:
                log.info("live: the page stopped answering; ending its stream")
                return False
            self.probe, self.next_probe = None, now + PROBE_EVERY_S
        return True

    async def run(self) -> None:
        ws = ctx.websocket
        await self.reload(now_ms())
        try:
            while not ws.is_shutdown:
                now = self.loop.time()
                raws = await next_batch(
                    self.sub, self.timeout(now), max(0.0, self.last_push + BATCH_S - now)
                )
                now, stamp = self.loop.time(), now_ms()
                parts = await self.handle(raws, now, stamp)
                if now >= self.next_beat:
                    parts |= await self.beat(now, stamp)
                self.flush(parts, now, stamp)
                if raws:
                    self.last_push = now  # a burst right after this waits BATCH_S to join up
                if not await self.still_wanted(now):
                    return
        finally:
            if self.probe is not None and not self.probe.done():
                self.probe.cancel()


async def stream(runtime: Runtime, page: Page) -> str:
    """Run a page's live view until the browser goes away; see the module docstring.

    Returns "" (the value of the callback's placeholder output) when the stream ends.
    """
    if ctx.websocket is None:
        return ""  # reached over HTTP (a browser without SharedWorker): the page stays a snapshot
    if not await page.authorize():
        set_props_all(page.denied())
        return ""
    async with runtime.bus.subscribe(runtime.keys.live_channel) as sub:
        await _Connection(runtime, page, sub).run()
    return ""


def set_props_all(updates: Updates) -> None:
    """Send every update as is (no memory), e.g. the "access ended" message."""
    for component_id, props in updates.items():
        set_props(component_id, props)
