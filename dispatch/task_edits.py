"""Editing a task's details (title, brief, place, priority, deadline) without changing its state.

An edit is a change like any other: one MULTI/EXEC under WATCH that bumps the version, appends
a timeline entry (same state, the reason names the fields) and pushes a `task_update` with
change `edited` to the assignee. `expected_version` makes a concurrent edit a clear conflict.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from dispatch import lifecycle, schema, tasks
from dispatch.auth import Principal
from dispatch.clock import now_ms
from dispatch.errors import Conflict, InvalidInput
from dispatch.keys import Keys

EDITABLE = ("title", "brief", "lat", "lon", "priority", "deadline")


async def edit(
    r: aioredis.Redis,
    keys: Keys,
    actor: Principal,
    task_id: str,
    fields: dict[str, Any],
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Apply `fields` (a subset of EDITABLE) to an open task; the desk only."""
    actor.require("supervisor")
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise InvalidInput(f"cannot edit {', '.join(unknown)}; editable: {', '.join(EDITABLE)}")
    if not fields:
        raise InvalidInput("nothing to edit: give at least one of " + ", ".join(EDITABLE))
    for _ in range(10):
        async with r.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(keys.task(task_id))
                task = await tasks.load(pipe, keys, task_id)
                if expected_version is not None and task.version != expected_version:
                    raise Conflict(
                        f"the task changed (now version {task.version}); reload and retry",
                        code="version_conflict",
                    )
                if not lifecycle.is_open(task.state):
                    raise Conflict(
                        f"a {task.state} task cannot be edited", code="illegal_transition"
                    )
                now = max(now_ms(), task.updated_at)
                data = {
                    **task.model_dump(),
                    **fields,
                    "version": task.version + 1,
                    "updated_at": now,
                }
                new = schema.validate(schema.Task, data)
                changed = [f for f in EDITABLE if getattr(new, f) != getattr(task, f)]
                pushes = (
                    [(new.assignee, tasks.push("task_update", new, "edited"))]
                    if new.assignee
                    else []
                )
                pipe.multi()
                tasks.write(pipe, keys, new, actor.subject, "edited: " + ", ".join(changed), pushes)
                await pipe.execute()
                return new.model_dump()
            except WatchError:
                continue
    raise Conflict("the task is changing too fast to apply this; retry", code="busy")
