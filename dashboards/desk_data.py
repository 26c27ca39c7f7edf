"""What the desk reads beyond the live snapshot (stories, the tasks behind a story) and the one
write it makes that no core service offers yet: linking a task to the story it produces.

`link_story` is a service in the core's sense (it re-checks the role, writes under WATCH with
the task's version, appends a timeline entry and pushes `task_update` with change `edited` to
the assignee, exactly as `dispatch.task_edits.edit` does). It lives here only until
`task_edits.EDITABLE` accepts `story_id`; then the desk calls `task_edits.edit` instead.
"""

from __future__ import annotations

import json
from typing import Any, cast

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from dispatch import lifecycle, tasks
from dispatch.auth import Principal
from dispatch.clock import now_ms
from dispatch.errors import Conflict, NotFound
from dispatch.keys import Keys

MAX_ID = 64
RECENT_TASKS = 500  # how far back the desk looks for the tasks of a story (a county: days)


async def story(r: aioredis.Redis, keys: Keys, story_id: str) -> dict[str, Any] | None:
    """The latest version of one story, or None."""
    raw = cast("str | None", await r.hget(keys.stories, story_id))
    return cast(dict[str, Any], json.loads(raw)) if raw else None


async def tasks_for_story(
    r: aioredis.Redis, keys: Keys, story_id: str, scan: int = RECENT_TASKS
) -> list[dict[str, Any]]:
    """The recent tasks linked to `story_id`, newest first."""
    ids = cast(list[str], await r.zrevrange(keys.tasks_all, 0, scan - 1))
    if not ids:
        return []
    async with r.pipeline(transaction=False) as pipe:
        for task_id in ids:
            pipe.hget(keys.task(task_id), "doc")
        docs = await pipe.execute()
    found = [json.loads(d) for d in docs if d]
    return [t for t in found if t.get("story_id") == story_id]


async def link_story(
    r: aioredis.Redis,
    keys: Keys,
    actor: Principal,
    task_id: str,
    story_id: str,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Record that the task produces `story_id` (the desk only). The story must be known; the
    task may be open or done (a story is often linked once it exists), not cancelled.
    Conflict (version_conflict) when the task moved past `expected_version`."""
    actor.require("supervisor")
    if not story_id or len(story_id) > MAX_ID or not await r.hexists(keys.stories, story_id):
        raise NotFound(f"no story {story_id}")
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
                if task.state == "cancelled":
                    raise Conflict("a cancelled task produces no story", code="illegal_transition")
                now = max(now_ms(), task.updated_at)
                new = task.model_copy(
                    update={"story_id": story_id, "version": task.version + 1, "updated_at": now}
                )
                pushes = (
                    [(new.assignee, tasks.push("task_update", new, "edited"))]
                    if new.assignee and lifecycle.is_open(new.state)
                    else []
                )
                pipe.multi()
                tasks.write(pipe, keys, new, actor.subject, f"story: {story_id}", pushes)
                await pipe.execute()
                return new.model_dump()
            except WatchError:
                continue
    raise Conflict("the task is changing too fast to apply this; retry", code="busy")
