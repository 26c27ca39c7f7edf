"""A story's stage history: each stage entered once, in order; repeats and stale updates add
nothing (the after-action review draws it)."""

from __future__ import annotations

from typing import Any

from dispatch import db, schema, stories
from dispatch.keys import Keys

KEYS = Keys("stages")


def test_stage_history_records_each_stage_change_once(redis_url: str, run: Any) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        try:
            await r.flushdb()

            def story(stage: str, at: int) -> schema.Story:
                return schema.Story(story_id="s-1", title="稿", stage=stage, updated_at=at)  # type: ignore[arg-type]

            for stage, at in [("reporting", 1000), ("reporting", 2000), ("editing", 3000)]:
                assert await stories.upsert_story(r, KEYS, story(stage, at))
            assert not await stories.upsert_story(r, KEYS, story("review", 2500))  # stale
            assert await stories.upsert_story(r, KEYS, story("published", 4000))
            assert await stories.stage_history(r, KEYS, "s-1") == [
                (1000, "reporting"),
                (3000, "editing"),
                (4000, "published"),
            ]
            assert 0 < await r.pttl(KEYS.story_stages("s-1"))
            assert await stories.stage_history(r, KEYS, "s-none") == []
        finally:
            await r.aclose()

    run(go())
