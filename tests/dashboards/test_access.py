"""Who may watch the wall and the desk, and the snapshot a page starts from (real Redis)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable

import pytest

from dashboards import access, live
from dispatch import auth, reporters, schema, stories, tasks
from dispatch.clock import now_ms
from dispatch.errors import Unauthorized
from dispatch.runtime import Runtime
from dispatch.settings import Settings

pytestmark = pytest.mark.integration

Scenario = Callable[[Runtime], Awaitable[None]]


def in_runtime(redis_url: str, scenario: Scenario) -> None:
    """Run `scenario` against a started Runtime, on a loop of its own in its own thread
    (browser tests in the same session keep a loop running on the main thread)."""

    async def go() -> None:
        runtime = Runtime(Settings(), redis_url=redis_url)
        await runtime.start()
        try:
            await scenario(runtime)
        finally:
            await runtime.stop()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, go()).result()


def test_the_wall_opens_for_wall_supervisor_and_admin_keys_only(redis_url: str) -> None:
    async def scenario(runtime: Runtime) -> None:
        r, keys = runtime.redis, runtime.keys
        for role in ("wall", "supervisor", "admin"):
            token, _ = await auth.create_token(r, keys, role)
            assert await access.wall_principal(runtime, token) is not None, role
        feed, _ = await auth.create_token(r, keys, "feed")
        reporter = await reporters.create(r, keys, "王磊")
        for key in (feed, reporter["token"], "not-a-token", "", None, "x" * 500):
            assert await access.wall_principal(runtime, key) is None

        wall, wall_id = await auth.create_token(r, keys, "wall")
        await auth.revoke(r, keys, wall_id)
        assert await access.wall_principal(runtime, wall) is None

    in_runtime(redis_url, scenario)


def test_a_view_ticket_lives_as_long_as_its_session(redis_url: str) -> None:
    async def scenario(runtime: Runtime) -> None:
        r, keys = runtime.redis, runtime.keys
        token, _ = await auth.create_token(r, keys, "supervisor", "值班主任")
        session = await auth.open_session(r, keys, await auth.authenticate(r, keys, token))
        ticket = await access.issue_ticket(runtime, session)

        assert session not in ticket
        principal = await access.redeem_ticket(runtime, ticket)
        assert (principal.role, principal.subject) == ("supervisor", "值班主任")

        await auth.close_session(r, keys, session)
        with pytest.raises(Unauthorized):
            await access.redeem_ticket(runtime, ticket)
        with pytest.raises(Unauthorized):  # the failed redemption forgot the ticket
            await access.redeem_ticket(runtime, ticket)

    in_runtime(redis_url, scenario)


def test_a_view_ticket_ends_with_its_token_and_cannot_be_guessed(redis_url: str) -> None:
    async def scenario(runtime: Runtime) -> None:
        r, keys = runtime.redis, runtime.keys
        token, token_id = await auth.create_token(r, keys, "admin")
        session = await auth.open_session(r, keys, await auth.authenticate(r, keys, token))
        ticket = await access.issue_ticket(runtime, session)
        assert (await access.redeem_ticket(runtime, ticket)).role == "admin"

        for guess in (None, "", session, ticket[:-1], {"ticket": ticket}):
            with pytest.raises(Unauthorized):
                await access.redeem_ticket(runtime, guess)  # type: ignore[arg-type]

        await auth.revoke(r, keys, token_id)
        with pytest.raises(Unauthorized):
            await access.redeem_ticket(runtime, ticket)

    in_runtime(redis_url, scenario)


def test_the_snapshot_holds_reporters_open_tasks_stories_and_traffic(redis_url: str) -> None:
    async def scenario(runtime: Runtime) -> None:
        r, keys = runtime.redis, runtime.keys
        now = now_ms()
        rep = await reporters.create(r, keys, "李娜")
        await reporters.apply_fix(
            r,
            keys,
            schema.Location(
                reporter_id=rep["reporter_id"], lat=27.7, lon=112.5, ts=now, received_at=now
            ),
        )
        token, _ = await auth.create_token(r, keys, "supervisor")
        desk = await auth.authenticate(r, keys, token)
        kept, _ = await tasks.create(r, keys, desk, title="现场", lat=27.7, lon=112.5)
        gone, _ = await tasks.create(r, keys, desk, title="取消", lat=27.7, lon=112.5)
        await tasks.change(r, keys, desk, gone["task_id"], "cancelled")
        await stories.upsert_story(
            r, keys, schema.Story(story_id="s1", title="稿", stage="review", updated_at=now)
        )
        await stories.record_traffic(
            r, keys, schema.Traffic(channel="wechat", window_start=now, views=12)
        )

        state = await live.load_state(runtime)

        assert state.reporters[rep["reporter_id"]]["lat"] == 27.7
        assert set(state.tasks) == {kept["task_id"]}
        assert state.stages == {"s1": "review"}
        assert state.traffic["wechat"][-1] == 12

    in_runtime(redis_url, scenario)
