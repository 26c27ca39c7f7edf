"""The streaming plumbing shared by the wall and the desk: one render per process, one push per
connection.

A page's persistent websocket callback calls `stream(hub, page)`, which never returns while
the browser is there. The work is split in two:

- the shared half (`live_hub.Hub`, one per process and tenant runtime, started by the first
  page and stopped, unsubscribed and its state dropped, when the last one leaves) subscribes
  to the tenant's live channel on the process-wide bus, *then* reads the snapshot (so nothing
  published in between is lost), and folds each batch of events into the one `LiveState`:
  news at once (any task, alert or story change cuts a batch short and goes out immediately),
  while what the stream of fixes and traffic counts changes (the map, charts, counts and the
  last event) goes at most twice a second, figures as `Patch` deltas, never in the same
  message as news. It renders
  once per *look* (`Page.key`: the page kind and everything its render depends on, such as
  language, panels, scale, tiles) and publishes each message as a `batching.Frame`, its
  props JSON-encoded once. Every 2 s it re-reads what moves with the clock (the feed
  sources' health, the minute's traffic, the top stories while a page shows them) and runs
  each look's `on_beat` once (the wall: stuck stories, fading map dots). On RESYNC (the bus
  dropped messages, or Redis came back) it reloads the snapshot once and every look gets a
  whole page.
- each connection (`_Connection`, here) joins its look, pushes the whole page from the shared
  state, then waits for the look's next frames and pushes them from its own callback task
  through its own `Pusher` (its memory of what this browser has), which queues the values as
  the frame encoded them, the message set_props would queue, without encoding them again. Per
  connection too: the 2 s heartbeat ("live N" with its own count; assets/watchdog.js marks
  the page stale without it), the credentials checked again every 15 s (revoked wall keys and
  ended desk sessions stop the stream), and a liveness probe every 30 s (Dash's shared
  websocket stays open while a closed tab's callback would stream on forever).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dash import Patch, ctx
from redis.exceptions import RedisError

from dashboards import i18n, maps, model, panels
from dashboards.batching import Pusher, Updates, set_props_all
from dashboards.model import LiveState
from dispatch import escalation, reporters, sources, stories, tasks
from dispatch.clock import now_ms
from dispatch.runtime import Runtime

if TYPE_CHECKING:
    from dashboards.live_hub import Hub, View

log = logging.getLogger(__name__)

HEARTBEAT_S = 2.0
AUTH_RECHECK_S = 15.0
PROBE_EVERY_S = 30.0
PROBE_TIMEOUT_S = 10.0

Render = Callable[[LiveState, set[str], bool, int], Updates]
Beat = Callable[[LiveState, int], Awaitable[set[str]]]


@dataclass
class Page:
    """What the stream needs to know about one page."""

    lang: str
    heartbeat_id: str
    link_id: str
    # The look: pages with equal keys draw the same thing, so they share one render. It must
    # name everything `render` and `on_beat` depend on (page kind, language, panels, size...).
    key: Hashable
    render: Render  # (state, parts, full, now_ms) -> updates; run in the hub, once per look
    authorize: Callable[[], Awaitable[bool]]
    denied: Callable[[], Updates]  # what to show when the credentials stop working
    updated_id: str | None = None  # "last update" time, if the page shows one
    extras: bool = False  # shows the top stories: the hub keeps them fresh while it is open
    # Called once per look on every heartbeat tick with the shared state and the time: the
    # look's own clock-driven refreshes (ageing figures); returns the parts that changed.
    # Its memory is the look's, not the state's. Errors from Redis are ignored for that tick.
    on_beat: Beat | None = None


TOP_MINUTES = 5  # "top stories now": the most read in the last few minutes


async def read_top(runtime: Runtime, now: int | None = None) -> list[dict[str, Any]]:
    """The most read stories now (what the wall's top list shows)."""
    rows = await stories.top_stories(
        runtime.redis, runtime.keys, minutes=TOP_MINUTES, limit=model.TOP_KEPT, now=now
    )
    return [dict(row) for row in rows]


async def load_state(runtime: Runtime, extras: bool = False) -> LiveState:
    """The snapshot a page starts from (the hub reloads it on RESYNC); with `extras`, also the
    top stories and the recent alerts (the wall shows them)."""
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


class _Connection:
    """One page's end of the stream: what it has sent, and its timers (all per connection);
    the state and the renders are the hub's."""

    def __init__(self, hub: Hub, page: Page) -> None:
        self.hub, self.page = hub, page
        self.loop = asyncio.get_running_loop()
        self.pusher = Pusher(ctx.websocket)
        self.beats = 0
        now = self.loop.time()
        self.next_beat = now
        self.next_auth = now + AUTH_RECHECK_S
        self.next_probe = now + PROBE_EVERY_S
        self.probe: asyncio.Task[Any] | None = None

    def catch_up(self, view: View, seen: int) -> None:
        """Push the look's frames published after `seen` (the whole page if some are gone)."""
        frames = view.since(seen)
        if frames is None:
            whole = self.hub.whole(view)
            if whole is not None:
                self.pusher.push(whole)
            return
        for frame in frames:
            self.pusher.push(frame)

    def beat(self, now: float) -> None:
        """The 2-second tick: heartbeat, link status and the "last update" clock."""
        self.beats += 1
        self.next_beat = now + HEARTBEAT_S
        self.hub.ensure_running()
        ok = self.hub.state is not None and self.hub.runtime.bus.connected
        status = "live" if ok else "degraded"
        updates: Updates = {
            self.page.heartbeat_id: {"children": f"{status} {self.beats}"},
            self.page.link_id: {"children": panels.link_status(status, self.page.lang)},
        }
        if self.page.updated_id and ok:
            updates[self.page.updated_id] = {"children": i18n.clock(now_ms())}
        self.pusher.push(updates)

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
        view = self.hub.join(self.page)
        try:
            seen = view.seq
            whole = self.hub.whole(view)  # None before the first snapshot: the hub sends it
            if whole is not None:
                self.pusher.push(whole)
            while not ws.is_shutdown:
                await view.wait(seen, self.next_beat - self.loop.time())
                if view.failed:
                    return  # its render failed (the hub logged why); the watchdog reloads
                self.catch_up(view, seen)
                seen = view.seq
                now = self.loop.time()
                if now >= self.next_beat:
                    self.beat(now)
                if not await self.still_wanted(now):
                    return
        finally:
            self.hub.leave(view)
            if self.probe is not None and not self.probe.done():
                self.probe.cancel()


async def stream(hub: Hub, page: Page) -> str:
    """Run a page's live view until the browser goes away; see the module docstring.

    Returns "" (the value of the callback's placeholder output) when the stream ends.
    """
    if ctx.websocket is None:
        return ""  # reached over HTTP (a browser without SharedWorker): the page stays a snapshot
    if not await page.authorize():
        set_props_all(page.denied())
        return ""
    await _Connection(hub, page).run()
    return ""
