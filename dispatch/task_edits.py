"""Editing a task's details (title, brief, place, priority, deadline, the story it produces)
without changing its state.

An edit is a change like any other: one MULTI/EXEC under WATCH that bumps the version, appends
a timeline entry (same state, the reason names the fields) and pushes a `task_update` with
change `edited` to the assignee. `expected_version` makes a concurrent edit a clear conflict.
Linking the story a task produced (`story_id` alone) is allowed after the task is done too: a
story often exists only then. The story must be known.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from dispatch import lifecycle, schema, tasks
from dispatch.auth import Principal
from dispatch.clock import now_ms
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.keys import Keys

EDITABLE = ("title", "brief", "lat", "lon", "priority", "deadline", "story_id")


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
    linking = set(fields) == {"story_id"}
    story_id = fields.get("story_id")
    if story_id is not None and not (
        isinstance(story_id, str)
        and len(story_id) <= 64
        and await r.hexists(keys.stories, story_id)
    ):
        raise NotFound(f"no story {str(story_id)[:64]}")
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
                if task.state == "cancelled" or not (linking or lifecycle.is_open(task.state)):
                    raise Conflict(
                        f"a {task.state} task cannot be edited"
                        + ("" if linking else "; a done task can still be linked to its story"),
                        code="illegal_transition",
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
                    if new.assignee and lifecycle.is_open(new.state)
                    else []
                )
                reason = f"story: {story_id}" if linking else "edited: " + ", ".join(changed)
                pipe.multi()
                tasks.write(pipe, keys, new, actor.subject, reason, pushes)
                await pipe.execute()
                return new.model_dump()
            except WatchError:
                continue
    raise Conflict("the task is changing too fast to apply this; retry", code="busy")
