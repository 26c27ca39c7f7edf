"""The task service: create, change state, deliver to the assignee's outbox, acknowledge.

Every change is one MULTI/EXEC under WATCH: the task document, its timeline entry, the
outbox entries for the reporters concerned and the nudges are written together, so a push
is never announced before it is stored, and two writers racing on one task get one winner.
Writes from outside carry an id (Idempotency-Key, the client-made status id): a retry
returns the first result instead of applying twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from dispatch import db, lifecycle, schema
from dispatch.auth import Principal
from dispatch.clock import new_id, now_ms
from dispatch.errors import Conflict, Forbidden, InvalidInput, NotFound
from dispatch.keys import Keys

IDEMPOTENCY_TTL_S = 24 * 3600
NUDGE = "outbox"
DEFAULT_ACK_TIMEOUTS_S: Mapping[str, int] = {"breaking": 30, "high": 120, "normal": 600}
AWAITING_ANSWER = frozenset({"offered", "delivered"})


def timer_member(task: schema.Task) -> str:
    """The timer of the task's current offer: its id and the offer's number."""
    return f"{task.task_id}|{len(task.tried)}"


def _offer(
    task: schema.Task, assignee: str, now: int, ack_timeouts: Mapping[str, int]
) -> dict[str, Any]:
    """The fields that change when a task is offered to `assignee`."""
    return {
        "state": "offered",
        "assignee": assignee,
        "tried": [*task.tried, assignee][-50:],
        "offer_deadline": now + 1000 * ack_timeouts.get(task.priority, 600),
    }


# KEYS: acked key, outbox stream; ARGV: cursor. Returns the previous cursor, or an error.
_ACK = """
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local ams, aseq = parse(ARGV[1])
if #last == 0 then return {err = 'unknown cursor'} end
local lms, lseq = parse(last[1][1])
if ams > lms or (ams == lms and aseq > lseq) then return {err = 'unknown cursor'} end
local prev = redis.call('GET', KEYS[1]) or '0-0'
local pms, pseq = parse(prev)
if ams < pms or (ams == pms and aseq <= pseq) then return prev end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('XTRIM', KEYS[2], 'MINID', ARGV[1])
return prev
"""


def push(kind: str, task: schema.Task, change: str = "") -> dict[str, str]:
    body: dict[str, Any] = {"type": kind, "v": schema.V}
    if change:
        body["change"] = change
    body["task"] = task.model_dump()
    return {
        "msg": json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        "task_id": task.task_id,
        "kind": kind,
        "version": str(task.version),
    }


def frame(cursor: str, msg: str) -> str:
    """The wire frame of an outbox entry: its stored JSON with the cursor spliced in."""
    return '{"cursor":"' + cursor + '",' + msg[1:]


async def load(r: aioredis.Redis | Any, keys: Keys, task_id: str) -> schema.Task:
    raw = await r.hget(keys.task(task_id), "doc")
    if not raw:
        raise NotFound(f"no task {task_id}")
    return schema.Task.model_validate_json(raw)


async def get(r: aioredis.Redis, keys: Keys, task_id: str) -> dict[str, Any]:
    """The task with its timeline, oldest event first."""
    task = await load(r, keys, task_id)
    entries = await db.xrange(r, keys.timeline(task_id))
    timeline = [json.loads(fields["event"]) for _, fields in entries]
    return {**task.model_dump(), "timeline": timeline}


async def _docs(r: aioredis.Redis, keys: Keys, ids: list[str]) -> list[dict[str, Any]]:
    async with r.pipeline(transaction=False) as pipe:
        for tid in ids:
            pipe.hget(keys.task(tid), "doc")
        docs = await pipe.execute()
    return [json.loads(d) for d in docs if d]


async def open_tasks(r: aioredis.Redis, keys: Keys, limit: int = 200) -> list[dict[str, Any]]:
    """Open tasks, newest first."""
    return await _docs(r, keys, cast(list[str], await r.zrevrange(keys.tasks_open, 0, limit - 1)))


async def held(
    r: aioredis.Redis, keys: Keys, reporter_id: str, limit: int = 100
) -> list[dict[str, Any]]:
    """The tasks a reporter holds now, oldest first (what a newly signed-in phone shows)."""
    ids = cast(list[str], await r.zrange(keys.held(reporter_id), 0, limit - 1))
    return await _docs(r, keys, ids)


def _event(task: schema.Task, actor: str, reason: str = "") -> dict[str, str]:
    ev = schema.TaskEvent(
        task_id=task.task_id,
        state=task.state,
        actor=actor,
        at=task.updated_at,
        version=task.version,
        reason=reason,
        assignee=task.assignee,
    )
    return {"event": schema.encode(ev)}


def write(
    pipe: Any,
    keys: Keys,
    task: schema.Task,
    actor: str,
    reason: str,
    pushes: list[tuple[str, dict[str, str]]],
) -> None:
    """Queue the writes of one change on a MULTI pipeline."""
    pipe.hset(keys.task(task.task_id), mapping={"doc": schema.encode(task), "state": task.state})
    pipe.xadd(keys.timeline(task.task_id), _event(task, actor, reason))
    if lifecycle.is_open(task.state):
        pipe.zadd(keys.tasks_open, {task.task_id: task.created_at})
    else:
        pipe.zrem(keys.tasks_open, task.task_id)
    if task.assignee and task.state in lifecycle.HELD:
        pipe.zadd(keys.held(task.assignee), {task.task_id: task.created_at})
    elif task.assignee:
        pipe.zrem(keys.held(task.assignee), task.task_id)
    if task.state == "offered" and task.offer_deadline:
        pipe.zadd(keys.timers, {timer_member(task): task.offer_deadline})
    elif task.state not in AWAITING_ANSWER:
        pipe.zrem(keys.timers, timer_member(task))
    for reporter_id, entry in pushes:
        pipe.xadd(keys.outbox(reporter_id), entry)
        pipe.publish(keys.reporter_channel(reporter_id), NUDGE)
    pipe.publish(keys.live_channel, schema.encode(task))


async def create(
    r: aioredis.Redis,
    keys: Keys,
    actor: Principal,
    *,
    title: str,
    brief: str = "",
    lat: float,
    lon: float,
    priority: str = "normal",
    assignee: str | None = None,
    deadline: int | None = None,
    idempotency_key: str | None = None,
    ack_timeouts: Mapping[str, int] = DEFAULT_ACK_TIMEOUTS_S,
) -> tuple[dict[str, Any], bool]:
    """Create a task (and offer it to `assignee`). Returns (task, created)."""
    actor.require("supervisor")
    now = now_ms()
    task = schema.validate(
        schema.Task,
        {
            "task_id": new_id("t"),
            "title": title,
            "brief": brief,
            "lat": lat,
            "lon": lon,
            "priority": priority,
            "assignee": assignee,
            "deadline": deadline,
            "state": "created",
            "created_by": actor.subject,
            "created_at": now,
            "updated_at": now,
        },
    )
    if assignee and not await r.exists(keys.reporter(assignee)):
        raise InvalidInput(f"assignee {assignee} is not a registered reporter")
    idem = keys.idempotency("task", idempotency_key) if idempotency_key else None
    for _ in range(5):
        async with r.pipeline(transaction=True) as pipe:
            try:
                if idem:
                    await pipe.watch(idem)
                    prior = await db.get(pipe, idem)
                    if prior:
                        return await get(r, keys, prior), False
                pipe.multi()
                if idem:
                    pipe.set(idem, task.task_id, ex=IDEMPOTENCY_TTL_S)
                pipe.zadd(keys.tasks_all, {task.task_id: now})
                write(pipe, keys, task, actor.subject, "", [])
                final = task
                if assignee:
                    final = task.model_copy(
                        update={**_offer(task, assignee, now, ack_timeouts), "version": 2}
                    )
                    write(pipe, keys, final, actor.subject, "", [(assignee, push("task", final))])
                await pipe.execute()
                return await get(r, keys, final.task_id), True
            except WatchError:
                continue
    raise Conflict("the same Idempotency-Key is being used by another request; retry", code="busy")


async def change(
    r: aioredis.Redis,
    keys: Keys,
    actor: Principal,
    task_id: str,
    target: str,
    *,
    reason: str = "",
    assignee: str | None = None,
    client_id: str | None = None,
    expected_version: int | None = None,
    ack_timeouts: Mapping[str, int] = DEFAULT_ACK_TIMEOUTS_S,
) -> dict[str, Any]:
    """Move a task to `target`, checked by the state machine and the actor's role. The server
    itself (SYSTEM) may also make the desk's moves: it re-offers expired and declined tasks."""
    if target in lifecycle.BY_REPORTER:
        actor.require("reporter")
    elif target in lifecycle.BY_DESK and actor.role != "system":
        actor.require("supervisor")
    elif target in lifecycle.BY_SYSTEM and actor.role != "system":
        raise Forbidden(f"only the server moves a task to {target}")
    if target == "offered" and not assignee:
        raise InvalidInput("offering a task needs an assignee")
    if assignee and not await r.exists(keys.reporter(assignee)):
        raise InvalidInput(f"assignee {assignee} is not a registered reporter")
    idem = keys.idempotency("change", client_id) if client_id else None
    for _ in range(10):
        async with r.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(keys.task(task_id), *([idem] if idem else []))
                if idem and (prior := await pipe.get(idem)):
                    # A repeat of an applied change: the first result, marked as a replay.
                    return {**json.loads(prior), "replayed": True}
                task = await load(pipe, keys, task_id)
                if actor.role == "reporter" and task.assignee != actor.subject:
                    raise Forbidden("this task is not assigned to you")
                if expected_version is not None and task.version != expected_version:
                    raise Conflict(
                        f"the task changed (now version {task.version}); reload and retry",
                        code="version_conflict",
                    )
                state = lifecycle.transition(task.state, target, reason)
                now = max(now_ms(), task.updated_at)
                update: dict[str, Any] = {
                    "state": state,
                    "version": task.version + 1,
                    "updated_at": now,
                }
                if target == "offered" and assignee:
                    update.update(_offer(task, assignee, now, ack_timeouts))
                elif state not in AWAITING_ANSWER:
                    update["offer_deadline"] = None
                new = task.model_copy(update=update)
                pushes: list[tuple[str, dict[str, str]]] = []
                if target == "offered":
                    if task.assignee and task.assignee != assignee:
                        pushes.append((task.assignee, push("task_update", new, "reassigned")))
                    pushes.append((new.assignee or "", push("task", new)))
                elif new.assignee and target != "delivered":
                    kind = {"cancelled": "cancelled", "expired": "expired"}.get(target, "status")
                    pushes.append((new.assignee, push("task_update", new, kind)))
                pipe.multi()
                if target == "offered":
                    pipe.zrem(keys.timers, timer_member(task))  # the previous offer's timer
                    if task.assignee and task.assignee != new.assignee:
                        pipe.zrem(keys.held(task.assignee), task_id)
                write(pipe, keys, new, actor.subject, reason, pushes)
                result = new.model_dump()
                if idem:
                    pipe.set(idem, json.dumps(result), ex=IDEMPOTENCY_TTL_S)
                await pipe.execute()
                return result
            except WatchError:
                continue
    raise Conflict("the task is changing too fast to apply this; retry", code="busy")


SYSTEM = Principal(role="system", subject="system", token_hash="")


async def ack(r: aioredis.Redis, keys: Keys, reporter_id: str, cursor: str) -> None:
    """Record that the reporter has everything up to `cursor`; offered tasks become delivered."""
    try:
        prev = await db.eval_one(
            r, _ACK, (keys.acked(reporter_id), keys.outbox(reporter_id)), (cursor,)
        )
    except Exception as exc:  # the script's error reply carries the reason
        if "unknown cursor" in str(exc):
            raise InvalidInput(f"cursor {cursor} was never sent to you") from None
        raise
    if prev == cursor:
        return
    entries = await db.xrange(r, keys.outbox(reporter_id), min=f"({prev}", max=cursor)
    for _, fields in entries:
        if fields.get("kind") != "task":
            continue
        task = await load(r, keys, fields["task_id"])
        if (
            task.state == "offered"
            and task.assignee == reporter_id
            and str(task.version) == fields["version"]
        ):
            try:
                await change(
                    r, keys, SYSTEM, task.task_id, "delivered", expected_version=task.version
                )
            except Conflict:
                pass  # changed meanwhile (accepted, reassigned): nothing to mark


async def pending(
    r: aioredis.Redis, keys: Keys, reporter_id: str, after: str | None, count: int = 500
) -> list[tuple[str, str]]:
    """Outbox entries after `after` (or after the acknowledged cursor), as (cursor, msg)."""
    start = after or await db.get(r, keys.acked(reporter_id)) or "0-0"
    entries = await db.xrange(r, keys.outbox(reporter_id), min=f"({start}", count=count)
    return [(eid, fields["msg"]) for eid, fields in entries]
