"""Linking a task to its story (real Redis): the desk only, with the version it saw, a known
story, a task that is not cancelled; the assignee hears of it; the story finds its tasks."""

from __future__ import annotations

from typing import Any

import pytest

from dashboards import desk_data
from dispatch import auth, db, reporters, schema, stories, task_edits, tasks
from dispatch.clock import now_ms
from dispatch.errors import Conflict, Forbidden, NotFound
from dispatch.keys import Keys

pytestmark = pytest.mark.integration
KEYS = Keys("t-link")
DESK = auth.Principal(role="supervisor", subject="王主任", token_hash="0" * 64)


def test_a_task_is_linked_to_its_story_once_checked(redis_url: str, run: Any) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        try:
            rep = await reporters.create(r, KEYS, "杨帆")
            await stories.upsert_story(
                r,
                KEYS,
                schema.Story(story_id="s-1", title="稿", stage="filed", updated_at=now_ms()),
            )
            task, _ = await tasks.create(
                r, KEYS, DESK, title="现场", lat=27.7, lon=112.5, assignee=rep["reporter_id"]
            )
            reporter = auth.Principal(role="reporter", subject=rep["reporter_id"], token_hash="")
            with pytest.raises(Forbidden):
                await task_edits.edit(r, KEYS, reporter, task["task_id"], {"story_id": "s-1"})
            with pytest.raises(NotFound):
                await task_edits.edit(r, KEYS, DESK, task["task_id"], {"story_id": "s-unknown"})
            with pytest.raises(Conflict) as stale:
                await task_edits.edit(r, KEYS, DESK, task["task_id"], {"story_id": "s-1"}, 1)
            assert stale.value.code == "version_conflict" and "now version 2" in stale.value.text

            linked = await task_edits.edit(r, KEYS, DESK, task["task_id"], {"story_id": "s-1"}, 2)
            assert linked["story_id"] == "s-1" and linked["version"] == 3
            stored = await tasks.get(r, KEYS, task["task_id"])
            assert stored["timeline"][-1]["reason"] == "story: s-1"
            assert stored["timeline"][-1]["actor"] == "王主任"
            pushed = await tasks.pending(r, KEYS, rep["reporter_id"], None)
            assert '"change":"edited"' in pushed[-1][1] and '"story_id":"s-1"' in pushed[-1][1]
            assert [t["task_id"] for t in await desk_data.tasks_for_story(r, KEYS, "s-1")] == [
                task["task_id"]
            ]
            assert await desk_data.tasks_for_story(r, KEYS, "s-2") == []
            assert (await desk_data.story(r, KEYS, "s-1") or {})["stage"] == "filed"
            assert await desk_data.story(r, KEYS, "s-2") is None

            await tasks.change(r, KEYS, DESK, task["task_id"], "cancelled")
            with pytest.raises(Conflict):
                await task_edits.edit(r, KEYS, DESK, task["task_id"], {"story_id": "s-1"})
        finally:
            await r.aclose()

    run(go())
