"""How a live page batches the bus: streams of fixes and traffic wait for a batch; a task, an
alert or a story change cuts the wait (the hall is waiting for those). And how it pushes: the
messages a Pusher queues with values encoded once are the ones Dash's set_props would queue."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import janus
from dash import html
from dash.backends.ws import FLUSH_SIGNAL, DashWebsocketCallback

from dashboards import batching, live
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
    assert not batching.urgent(fix())
    assert not batching.urgent(schema.encode(traffic))
    for message in (task(), schema.encode(story), schema.encode(alert), schema.encode(duty)):
        assert batching.urgent(message), message[:60]
    assert batching.urgent(RESYNC)


def test_fixes_wait_for_the_batch(run: Run) -> None:
    async def go() -> list[str]:
        sub = Subscription("live", 100)
        sub.offer(fix(0))
        asyncio.get_running_loop().call_later(0.05, sub.offer, fix(1))
        return await batching.next_batch(sub, timeout=1.0, hold=0.3)

    assert run(go()) == [fix(0), fix(1)]


def test_a_task_cuts_the_wait_short(run: Run) -> None:
    async def go() -> tuple[list[str], float]:
        sub = Subscription("live", 100)
        sub.offer(fix(0))
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, sub.offer, task())
        loop.call_later(0.05, sub.offer, fix(1))  # already queued behind the task: comes along
        began = time.monotonic()
        batch = await batching.next_batch(sub, timeout=1.0, hold=30.0)
        return batch, time.monotonic() - began

    batch, waited = run(go())
    assert batch == [fix(0), task(), fix(1)]
    assert waited < 15  # not the 30 s hold


def test_a_task_first_goes_at_once(run: Run) -> None:
    async def go() -> list[str]:
        sub = Subscription("live", 100)
        sub.offer(task())
        asyncio.get_running_loop().call_later(0.2, sub.offer, fix(1))
        return await batching.next_batch(sub, timeout=1.0, hold=30.0)

    assert run(go()) == [task()]


def test_pre_encoded_pushes_are_the_messages_dash_set_props_queues(run: Run) -> None:
    """The contract with Dash's private queue (batching.encoded_sender): the same messages,
    in the same order, as DashWebsocketCallback.set_prop_sync, queued as one JSON array (as
    Dash's sender batches them; one prop alone goes as itself), then the flush Dash queues when
    a callback returns (one websocket message a push, sent at once); nothing for a push with
    nothing new; none once the socket is shut."""
    values: dict[str, Any] = {
        "children": [html.Div("火灾 x", className="nr-row", id="r1"), "z", 3],
        "figure": live.to_patch({0: {"lat": [27.7, None], "color": ["#fff", "#000"]}}),
        "hidden": False,
        "data": {"b": [1, 2.5, None], "a": "文"},
    }

    async def go() -> tuple[list[Any], list[Any], list[str], bool, int]:
        queue: janus.Queue[str] = janus.Queue()
        shut = threading.Event()
        ws = DashWebsocketCallback({}, "renderer-1", queue, shut, asyncio.get_running_loop())
        for name, value in values.items():
            ws.set_prop_sync("wall-x", name, value)
        theirs = [json.loads(queue.sync_q.get_nowait()) for _ in values]
        pusher = batching.Pusher(ws)
        pusher.push(batching.frame({"wall-x": values}))
        ours = json.loads(queue.sync_q.get_nowait())
        flushes = [queue.sync_q.get_nowait()]
        pusher.push({"wall-x": values})  # the same again: only the Patch goes
        again = [json.loads(queue.sync_q.get_nowait())["payload"]["props"]]
        flushes.append(queue.sync_q.get_nowait())
        pusher.push({"wall-x": {"hidden": False}})  # nothing new: no message, no flush
        flushes.append(str(queue.sync_q.qsize()))
        shut.set()
        pusher.push({"wall-x": {"hidden": True}})
        left = queue.sync_q.qsize()
        queue.close()
        await queue.wait_closed()
        return theirs, ours + again, flushes, pusher.pre_encoded, left

    theirs, ours, flushes, pre_encoded, left = run(go())
    assert pre_encoded
    assert flushes == [FLUSH_SIGNAL, FLUSH_SIGNAL, "0"]
    assert ours[: len(values)] == theirs
    assert list(ours[-1]) == ["figure"]
    assert left == 0
