"""Deadlines and escalation: an offer nobody answers in time expires, the desk is alerted, and
the task can be re-offered to the next candidate; a declined task goes back the same way.

Timers live in Redis (`keys.timers`, scored by due time), written in the same transaction as
the offer, so they survive restarts. Every web process runs `run_timers`; a Lua script moves
due timers to a claimed set with a lease, so each fires in one process, and a timer claimed
by a process that died is put back when its lease runs out. Firing is idempotent besides: it
acts only if the task is still in the same offer (same offer number, checked under WATCH).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping
from typing import Any, cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from dispatch import reporters, schema, tasks
from dispatch.auth import Principal
from dispatch.clock import now_ms
from dispatch.errors import Conflict, InvalidInput, NewsroomError, NotFound
from dispatch.keys import Keys

log = logging.getLogger(__name__)
LEASE_MS = 30_000
ALERTS_KEPT = 10_000

# KEYS: timers, claimed; ARGV: now, lease ms, batch size. Returns the claimed members.
_CLAIM = """
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for _, m in ipairs(stale) do
  redis.call('ZREM', KEYS[2], m)
  redis.call('ZADD', KEYS[1], ARGV[1], m)
end
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, m in ipairs(due) do
  redis.call('ZREM', KEYS[1], m)
  redis.call('ZADD', KEYS[2], tonumber(ARGV[1]) + tonumber(ARGV[2]), m)
end
return due
"""


async def raise_alert(
    r: aioredis.Redis,
    keys: Keys,
    kind: str,
    subject: str,
    text: str,
    severity: schema.Severity = "warning",
) -> schema.Alert:
    """Record an alert (kept in a stream) and push it to every dashboard."""
    alert = schema.Alert(
        kind=kind, subject=subject, text=text, raised_at=now_ms(), severity=severity
    )
    body = schema.encode(alert)
    async with r.pipeline(transaction=True) as pipe:
        pipe.xadd(keys.alerts, {"alert": body}, maxlen=ALERTS_KEPT, approximate=True)
        pipe.publish(keys.live_channel, body)
        await pipe.execute()
    return alert


async def recent_alerts(r: aioredis.Redis, keys: Keys, count: int = 50) -> list[dict[str, Any]]:
    entries = cast(list[tuple[str, dict[str, str]]], await r.xrevrange(keys.alerts, count=count))
    return [schema.Alert.model_validate_json(fields["alert"]).model_dump() for _, fields in entries]


async def reoffer(
    r: aioredis.Redis, keys: Keys, task: dict[str, Any], ack_timeouts: Mapping[str, int]
) -> dict[str, Any] | None:
    """Offer the task to the best-ranked on-duty reporter it has not been offered to yet."""
    ranked = await reporters.nearest(r, keys, task["lat"], task["lon"], limit=20)
    tried = set(task.get("tried") or ())
    for candidate in ranked:
        if candidate["reporter_id"] in tried:
            continue
        try:
            return await tasks.change(
                r,
                keys,
                tasks.SYSTEM,
                task["task_id"],
                "offered",
                assignee=candidate["reporter_id"],
                ack_timeouts=ack_timeouts,
                expected_version=task["version"],
                reason=f"re-offered after {task['state']}",
            )
        except Conflict:
            return None  # someone (the desk) acted first: leave it to them
    await raise_alert(
        r,
        keys,
        "no_candidate",
        task["task_id"],
        f"“{task['title']}”: no other on-duty reporter to offer it to",
        "critical",
    )
    return None


async def after_change(
    r: aioredis.Redis,
    keys: Keys,
    task: dict[str, Any],
    reason: str,
    ack_timeouts: Mapping[str, int],
    auto_reoffer: bool,
) -> None:
    """What follows a reporter's answer: a decline goes back to the desk (and the next one)."""
    if task["state"] != "declined" or task.get("replayed"):
        return
    await raise_alert(
        r,
        keys,
        "task_declined",
        task["task_id"],
        f"“{task['title']}” declined by {task['assignee']}: {reason}",
        "warning",
    )
    if auto_reoffer:
        await reoffer(r, keys, task, ack_timeouts)


async def _fire(
    r: aioredis.Redis, keys: Keys, member: str, ack_timeouts: Mapping[str, int], auto_reoffer: bool
) -> None:
    task_id, _, number = member.rpartition("|")
    try:
        task = await tasks.load(r, keys, task_id)
    except NewsroomError:
        return
    if task.state not in tasks.AWAITING_ANSWER or str(len(task.tried)) != number:
        return  # answered, reassigned or cancelled since: nothing to do
    waited = ack_timeouts.get(task.priority, 600)
    try:
        expired = await tasks.change(
            r,
            keys,
            tasks.SYSTEM,
            task_id,
            "expired",
            expected_version=task.version,
            reason=f"no answer from {task.assignee} within {waited} s",
        )
    except Conflict:
        return
    severity: schema.Severity = "critical" if task.priority == "breaking" else "warning"
    await raise_alert(
        r,
        keys,
        "task_expired",
        task_id,
        f"“{task.title}” not answered by {task.assignee} within {waited} s",
        severity,
    )
    if auto_reoffer:
        await reoffer(r, keys, expired, ack_timeouts)


async def fire_due(
    r: aioredis.Redis,
    keys: Keys,
    ack_timeouts: Mapping[str, int],
    auto_reoffer: bool,
    now: int | None = None,
    batch: int = 50,
) -> int:
    """Fire every timer due by `now`; returns how many were claimed here."""
    claimed = cast(
        list[str],
        await r.eval(
            _CLAIM,
            2,
            keys.timers,
            keys.timers_claimed,
            str(now or now_ms()),
            str(LEASE_MS),
            str(batch),
        ),
    )
    for member in claimed:
        try:
            await _fire(r, keys, member, ack_timeouts, auto_reoffer)
        finally:
            await r.zrem(keys.timers_claimed, member)
    return len(claimed)


async def run_timers(
    r: aioredis.Redis,
    keys: Keys,
    ack_timeouts: Mapping[str, int],
    auto_reoffer: bool,
    tick_s: float = 0.25,
) -> None:
    """The timer loop every web process runs; survives Redis outages."""
    while True:
        try:
            while await fire_due(r, keys, ack_timeouts, auto_reoffer) > 0:
                pass
        except (RedisError, OSError) as exc:
            log.warning("timers: %s; retrying", exc)
            await asyncio.sleep(1.0)
        except Exception:  # a bug in one timer must not stop every later one
            log.exception("timers: firing failed")
        await asyncio.sleep(tick_s)


# --- acknowledging alerts ----------------------------------------------------------------------
# An alert's id is its entry id in the `alerts` stream. Acknowledging records who and when in
# `keys.alert_acks` (the first acknowledgement stands) and nudges every open desk with a small
# `alert_ack` message on the live channel (a nudge, not the record: a desk reads the acks back).
ALERT_ID = re.compile(r"^\d{1,15}-\d{1,10}$")
ALERT_ACK = "alert_ack"

# KEYS: acks hash, live channel. ARGV: alert id, ack JSON, nudge JSON.
# Returns the acknowledgement that stands (this one, or the one recorded before) and 1 if new.
_ACK = """
local prior = redis.call('HGET', KEYS[1], ARGV[1])
if prior then return {prior, 0} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PUBLISH', KEYS[2], ARGV[3])
return {ARGV[2], 1}
"""


def _check_alert_id(alert_id: str) -> str:
    if not isinstance(alert_id, str) or not ALERT_ID.fullmatch(alert_id):
        raise InvalidInput(
            "an alert id is its stream entry id, e.g. 1764210000000-0 (see GET /api/v1/alerts)"
        )
    return alert_id


async def alerts_with_acks(r: aioredis.Redis, keys: Keys, count: int = 50) -> list[dict[str, Any]]:
    """Recent alerts, newest first, each with its `alert_id` and `ack` ({by, at} or None)."""
    entries = cast(list[tuple[str, dict[str, str]]], await r.xrevrange(keys.alerts, count=count))
    if not entries:
        return []
    acks = cast(list[str | None], await r.hmget(keys.alert_acks, [eid for eid, _ in entries]))
    out = []
    for (eid, fields), ack in zip(entries, acks, strict=True):
        alert = schema.Alert.model_validate_json(fields["alert"]).model_dump()
        out.append({"alert_id": eid, **alert, "ack": json.loads(ack) if ack else None})
    return out


async def acknowledge(
    r: aioredis.Redis, keys: Keys, principal: Principal, alert_id: str
) -> dict[str, Any]:
    """Record that `principal` (a supervisor or admin) has seen the alert; every open desk is
    told. Idempotent: acknowledging an acknowledged alert changes nothing and returns who
    acknowledged it first. Returns {alert_id, by, at, new}. NotFound for an unknown alert."""
    principal.require("supervisor")
    _check_alert_id(alert_id)
    if not await r.xrange(keys.alerts, min=alert_id, max=alert_id):
        raise NotFound(f"no alert {alert_id} (alerts are kept while they are among the newest)")
    at = now_ms()
    record = json.dumps({"by": principal.subject, "at": at}, ensure_ascii=False)
    nudge = json.dumps(
        {"type": ALERT_ACK, "v": schema.V, "alert_id": alert_id, "by": principal.subject, "at": at},
        ensure_ascii=False,
    )
    stored, new = await r.eval(_ACK, 2, keys.alert_acks, keys.live_channel, alert_id, record, nudge)
    if new and await r.hlen(keys.alert_acks) > ALERTS_KEPT + ALERTS_KEPT // 10:
        await _forget_old_acks(r, keys)
    return {"alert_id": alert_id, **json.loads(stored), "new": bool(new)}


def _stream_id(eid: str) -> tuple[int, int]:
    ms, _, seq = eid.partition("-")
    return int(ms), int(seq or 0)


async def _forget_old_acks(r: aioredis.Redis, keys: Keys) -> None:
    """Drop the acknowledgements of alerts the stream has trimmed away."""
    oldest = cast(list[tuple[str, dict[str, str]]], await r.xrange(keys.alerts, count=1))
    if not oldest:
        return
    floor = _stream_id(oldest[0][0])
    gone = [
        eid
        for eid in cast(list[str], await r.hkeys(keys.alert_acks))
        if ALERT_ID.fullmatch(eid) and _stream_id(eid) < floor
    ]
    if gone:
        await r.hdel(keys.alert_acks, *gone)
