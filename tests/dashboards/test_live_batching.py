"""How a live page batches the bus: streams of fixes and traffic wait for a batch; a task, an
alert or a story change cuts the wait (the hall is waiting for those)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

from dashboards import live
from dispatch import schema
from dispatch.bus import RESYNC, Subscription

NOW = 1_800_000_000_000
Run = Callable[[Coroutine[Any, Any, Any]], Any]


def fix(i: int = 0) -> str:
    return schema.encode(
        schema.Location(reporter_id="r1", lat=27.7, lon=112.5, ts=NOW + i, received_at=NOW + i)
    )


def task() -> str:
    return schema.encode(
        schema.Task(
            task_id="t1",
            title="火灾",
            lat=27.7,
            lon=112.5,
            state="offered",
            priority="breaking",
            created_at=NOW,
            updated_at=NOW,
            version=1,
        )
    )


def test_only_fixes_and_traffic_are_ambient() -> None:
    traffic = schema.Traffic(story_id="s1", channel="web", window_start=NOW, views=3)
    story = schema.Story(story_id="s1", title="t", desk="news", stage="editing", updated_at=NOW)
    alert = schema.Alert(kind="spike", subject="s1", text="x", raised_at=NOW)
    duty = schema.Duty(reporter_id="r1", on_duty=True, at=NOW)
    assert not live.urgent(fix())
    assert not live.urgent(schema.encode(traffic))
    for message in (task(), schema.encode(story), schema.encode(alert), schema.encode(duty)):
        assert live.urgent(message), message[:60]
    assert live.urgent(RESYNC)


def test_fixes_wait_for_the_batch(run: Run) -> None:
    async def go() -> list[str]:
        sub = Subscription("live", 100)
        sub.offer(fix(0))
        asyncio.get_running_loop().call_later(0.05, sub.offer, fix(1))
        return await live.next_batch(sub, timeout=1.0, hold=0.3)

    assert run(go()) == [fix(0), fix(1)]


def test_a_task_cuts_the_wait_short(run: Run) -> None:
    async def go() -> tuple[list[str], float]:
        sub = Subscription("live", 100)
        sub.offer(fix(0))
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, sub.offer, task())
        loop.call_later(0.05, sub.offer, fix(1))  # already queued behind the task: comes along
        began = time.monotonic()
        batch = await live.next_batch(sub, timeout=1.0, hold=30.0)
        return batch, time.monotonic() - began

    batch, waited = run(go())
    assert batch == [fix(0), task(), fix(1)]
    assert waited < 15  # not the 30 s hold


def test_a_task_first_goes_at_once(run: Run) -> None:
    async def go() -> list[str]:
        sub = Subscription("live", 100)
        sub.offer(task())
        asyncio.get_running_loop().call_later(0.2, sub.offer, fix(1))
        return await live.next_batch(sub, timeout=1.0, hold=30.0)

    assert run(go()) == [task()]
