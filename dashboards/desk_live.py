"""The desk's own live nudges, beside the stream the desk shares with the wall (live.py).

The shared stream folds events into a snapshot of reporters and tasks; the desk also shows
lists it reads from Redis on demand (alerts with their acknowledgements, the story table, a
story's audience), filtered by what the supervisor picked in the browser. For those, the
desk's stream runs `watch` next to `live.stream`: it listens on the same process-wide bus and,
when an alert, an acknowledgement, a story or traffic arrives, pushes a new number into that
list's "tick" store; the list's HTTP callback (which re-checks the session) reads it again,
the same way each time: `refresh`. Ticks are throttled per list, so a burst of traffic costs
one re-read per interval.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from dash import html, set_props
from redis.exceptions import RedisError

from dashboards import ids_desk
from dispatch import escalation
from dispatch.auth import Principal
from dispatch.bus import RESYNC, Subscription
from dispatch.errors import Forbidden, Unauthorized
from dispatch.runtime import Runtime

Session = Callable[[], Awaitable[Principal]]  # re-checks the desk cookie and the role
LangOf = Callable[[Any], str]  # the page language, from the view ticket's store
ENDED = (Unauthorized, Forbidden)  # what `Session` raises when the session has ended
R = TypeVar("R")

ALERTS, STORIES, TRAFFIC = "alerts", "stories", "traffic"
TICKS = {
    ALERTS: ids_desk.DESK_ALERTS_TICK,
    STORIES: ids_desk.DESK_STORIES_TICK,
    TRAFFIC: ids_desk.DESK_TRAFFIC_TICK,
}
GAP_S = {ALERTS: 0.1, STORIES: 1.0, TRAFFIC: 5.0}  # at most one re-read per list per gap
KINDS = {"alert": ALERTS, escalation.ALERT_ACK: ALERTS, "story": STORIES, "traffic": TRAFFIC}


def lists_touched(raws: Iterable[str]) -> set[str]:
    """Which lists a batch of bus messages changes (RESYNC: all of them). Pure."""
    touched: set[str] = set()
    for raw in raws:
        if raw == RESYNC:
            return set(TICKS)
        if '"type"' not in raw:
            continue  # not an event (e.g. a reporter channel's nudge)
        try:
            kind = json.loads(raw).get("type")
        except (ValueError, AttributeError):
            continue
        if kind in KINDS:
            touched.add(KINDS[kind])
    return touched


class Ticker:
    """Per-list counters pushed no more often than GAP_S; pure apart from `send`."""

    def __init__(self, send: Callable[[str, int], None], clock: Callable[[], float]) -> None:
        self.send, self.clock = send, clock
        self.count = dict.fromkeys(TICKS, 0)
        self.sent_at = dict.fromkeys(TICKS, float("-inf"))
        self.pending: set[str] = set()

    def note(self, lists: set[str]) -> None:
        self.pending |= lists

    def flush(self) -> None:
        now = self.clock()
        for name in sorted(self.pending):
            if now - self.sent_at[name] >= GAP_S[name]:
                self.count[name] += 1
                self.sent_at[name] = now
                self.pending.discard(name)
                self.send(TICKS[name], self.count[name])

    def wait(self) -> float | None:
        """Seconds until a pending list may be pushed (None: nothing pending)."""
        if not self.pending:
            return None
        now = self.clock()
        return max(0.0, min(self.sent_at[n] + GAP_S[n] for n in self.pending) - now)


async def watch(runtime: Runtime) -> None:
    """Push the desk's list ticks until cancelled (the desk's stream cancels it when it ends)."""
    loop = asyncio.get_running_loop()
    ticker = Ticker(lambda tick_id, n: set_props(tick_id, {"data": n}), loop.time)
    async with runtime.bus.subscribe(runtime.keys.live_channel) as sub:
        while True:
            ticker.note(lists_touched(await _next(sub, ticker.wait())))
            ticker.flush()


async def _next(sub: Subscription, timeout: float | None) -> list[str]:
    try:
        first = await asyncio.wait_for(sub.get(), timeout)
    except TimeoutError:
        return []
    return [first, *sub.drain()]


def error(text: str) -> html.Div:
    """A message in place of what could not be shown or done."""
    return html.Div(text, className="nr-error")


async def refresh(session: Session, load: Callable[[], Awaitable[R]], ended: R, down: R) -> R:
    """What a desk callback that reads Redis returns: what `load` reads and builds, once the
    session is re-checked; `ended` when the session has ended; `down` when Redis cannot be
    read (the stale banner says so already, and the next tick reads again)."""
    try:
        await session()
        return await load()
    except ENDED:
        return ended
    except (RedisError, OSError):
        return down
