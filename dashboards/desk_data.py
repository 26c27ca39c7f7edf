"""What the desk reads beyond the live snapshot: stories, and the tasks behind a story.
(Linking a task to its story is `dispatch.task_edits.edit` with `story_id`.)"""

from __future__ import annotations

import json
from typing import Any, cast

import redis.asyncio as aioredis

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
