"""Source health: each feed collector's heartbeat, and whether its data can be trusted now.

The feeds process writes one heartbeat per collector after every step (a poll, a read of a
log, one simulator tick), successful or not, into the `keys.feed_health` hash (source name ->
JSON). Readers (`GET /api/v1/feeds`, the wall) get the heartbeats with a computed `status`:

- `ok`: the last successful step is recent: within 3 × interval_s + 10 s;
- `failing`: the collector is running (it heartbeats on schedule) but its recent steps failed;
- `stale`: no recent success and no sign of life. A dead feed process shows its sources as
  stale, never as a quiet source with zero traffic.

The status is computed when read (it depends on the time), never stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import redis.asyncio as aioredis

from dispatch import db
from dispatch.clock import now_ms
from dispatch.keys import Keys

STATUSES = ("ok", "stale", "failing")
FRESH_INTERVALS = 3  # a source is fresh while its last success is this many intervals old...
FRESH_GRACE_MS = 10_000  # ...plus this grace
# Kinds whose data is audience traffic: when all of them are stale, so is the traffic chart.
TRAFFIC_KINDS = frozenset({"accesslog", "simulator"})
ERROR_CHARS = 200


@dataclass
class Heartbeat:
    """One collector's running record; `asdict` of it is the JSON stored per source."""

    name: str
    kind: str
    interval_s: float
    ok: bool = False  # did the last step succeed?
    last_ok: int | None = None  # epoch ms of the last successful step
    last_attempt: int | None = None  # epoch ms of the last step, successful or not
    last_error: str = ""  # short text of the last error ("" after a success)
    items_total: int = 0  # items applied since the source was first seen
    items_last: int = 0  # items applied by the last step
    consecutive_errors: int = 0
    next_try: int | None = None  # epoch ms of the next planned step

    def succeeded(self, items: int, at: int, next_try: int) -> None:
        self.ok, self.last_ok, self.last_attempt, self.last_error = True, at, at, ""
        self.items_last, self.items_total = items, self.items_total + items
        self.consecutive_errors, self.next_try = 0, next_try

    def failed(self, error: str, at: int, next_try: int) -> None:
        self.ok, self.last_attempt, self.last_error = False, at, short_error(error)
        self.items_last, self.consecutive_errors = 0, self.consecutive_errors + 1
        self.next_try = next_try

    def resume(self, previous: Mapping[str, Any] | None) -> None:
        """Carry on from the record a previous run of the same source left (its last success
        and its running total), so a restart does not make an old feed look new."""
        if not previous:
            return
        if isinstance(previous.get("last_ok"), int):
            self.last_ok = previous["last_ok"]
        if isinstance(previous.get("items_total"), int):
            self.items_total = previous["items_total"]


def short_error(text: str) -> str:
    """One line, at most ERROR_CHARS characters: what the wall and the API show."""
    line = " ".join(text.split())
    return line if len(line) <= ERROR_CHARS else line[: ERROR_CHARS - 1] + "…"


def fresh_window_ms(interval_s: float) -> int:
    return int(FRESH_INTERVALS * interval_s * 1000) + FRESH_GRACE_MS


def status(beat: Mapping[str, Any], now: int) -> str:
    """`ok`, `failing` or `stale` for one stored heartbeat at time `now` (see the module)."""
    window = fresh_window_ms(float(beat.get("interval_s") or 0))
    last_ok = beat.get("last_ok")
    if isinstance(last_ok, int) and now - last_ok <= window:
        return "ok"
    last_attempt = beat.get("last_attempt")
    next_try = beat.get("next_try")
    # Alive: it stepped within the window, or a back-off pause that has not run out yet.
    alive = (isinstance(last_attempt, int) and now - last_attempt <= window) or (
        isinstance(next_try, int) and now <= next_try + FRESH_GRACE_MS
    )
    if alive and int(beat.get("consecutive_errors") or 0) > 0:
        return "failing"
    return "stale"


def with_status(beat: Mapping[str, Any], now: int) -> dict[str, Any]:
    """The heartbeat plus `status` and `age_ms` (since the last success; None if never)."""
    last_ok = beat.get("last_ok")
    age = max(0, now - last_ok) if isinstance(last_ok, int) else None
    return {**beat, "status": status(beat, now), "age_ms": age}


def traffic_stale(rows: Iterable[Mapping[str, Any]]) -> bool:
    """True when there are traffic sources and none of them is ok: the traffic chart's
    zeros would then mean "no data", not "no readers"."""
    traffic = [row for row in rows if row.get("kind") in TRAFFIC_KINDS]
    return bool(traffic) and all(row.get("status") != "ok" for row in traffic)


async def heartbeat(r: aioredis.Redis, keys: Keys, beat: Heartbeat) -> None:
    """Store one collector's heartbeat (one HSET)."""
    await r.hset(keys.feed_health, beat.name, json.dumps(asdict(beat), ensure_ascii=False))


async def previous(r: aioredis.Redis, keys: Keys, name: str) -> dict[str, Any] | None:
    """The heartbeat stored for `name`, if any (unreadable ones count as none)."""
    raw = await r.hget(keys.feed_health, name)
    return _decode(raw) if isinstance(raw, str) else None


async def health(r: aioredis.Redis, keys: Keys, now: int | None = None) -> list[dict[str, Any]]:
    """Every source's last heartbeat with its `status` and `age_ms`, sorted by name."""
    stamp = now_ms() if now is None else now
    rows = await db.hgetall(r, keys.feed_health)
    beats = (_decode(raw) for _, raw in sorted(rows.items()))
    return [with_status(beat, stamp) for beat in beats if beat is not None]


def _decode(raw: str) -> dict[str, Any] | None:
    try:
        beat = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(beat, dict) or not isinstance(beat.get("name"), str):
        return None
    return beat
