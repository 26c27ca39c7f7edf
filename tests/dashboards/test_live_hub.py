"""One render per process: the live hub folds each event once into one shared state, renders
once per look, and every connection of that look receives the same frames (real Redis)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from dashboards import batching, ids, live, live_hub, model, wall_live
from dashboards.batching import Frame, Updates
from dashboards.live_hub import FIGURE_INTERVAL_S, Hub, View
from dashboards.model import LiveState
from dashboards.wall import Look
from dispatch import auth, reporters, schema, tasks
from dispatch.bus import RESYNC
from dispatch.clock import now_ms
from dispatch.runtime import Runtime
from dispatch.settings import Settings

pytestmark = pytest.mark.integration

Scenario = Callable[[Runtime, Hub], Awaitable[None]]
PANELS = frozenset({"map", "stages", "traffic", "tasks", "top", "alerts"})


def in_hub(redis_url: str, scenario: Scenario) -> None:
    """Run `scenario` with a started Runtime and its hub, on a loop of its own in a thread;
    the hub is stopped (and its task awaited) afterwards."""

    async def go() -> None:
        runtime = Runtime(Settings(), redis_url=redis_url)
        await runtime.start()
        hub = Hub(runtime)
        try:
            await scenario(runtime, hub)
        finally:
            task = hub.task
            hub.stop()
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)
            await runtime.stop()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, go()).result()


class Counted:
    """A wall look's render that counts its calls and the parts it was asked for."""

    def __init__(self, look: Look) -> None:
        self.look = look
        self.calls: list[tuple[frozenset[str], bool]] = []

    def __call__(self, state: LiveState, parts: set[str], full: bool, now: int) -> Updates:
        self.calls.append((frozenset(parts), full))
        return wall_live.render(state, parts, full, now, self.look)


def wall_page(render: Counted, lang: str = "en") -> live.Page:
    async def authorize() -> bool:
        return True

    return live.Page(
        lang=lang,
        heartbeat_id=ids.WALL_HEARTBEAT,
        link_id=ids.WALL_LINK,
        key=("wall", render.look.key),
        render=render,
        authorize=authorize,
        denied=lambda: {},
        extras=True,
    )


async def frames_after(view: View, seen: int, timeout: float = 5.0) -> list[Frame]:
    """The frames `view` publishes after the `seen`-th (waiting for at least one)."""
    async with asyncio.timeout(timeout):
        while view.seq == seen:
            await view.wait(seen, timeout)
    frames = view.since(seen)
    assert frames is not None
    return frames


async def until(view: View, seen: int, found: Callable[[Frame], bool]) -> tuple[Frame, int]:
    """Wait for a frame of `view` for which `found` holds; return it and the new position."""
    while True:
        frames = await frames_after(view, seen)
        seen = view.seq
        for frame in frames:
            if found(frame):
                return frame, seen


def shows_task(title: str) -> Callable[[Frame], bool]:
    return lambda frame: title in str(frame.updates.get(ids.WALL_TASKS, {}))


async def create_task(runtime: Runtime, title: str) -> None:
    r, keys = runtime.redis, runtime.keys
    token, _ = await auth.create_token(r, keys, "supervisor")
    desk = await auth.authenticate(r, keys, token)
    await tasks.create(r, keys, desk, title=title, lat=27.7, lon=112.5)


def test_two_walls_alike_share_one_fold_and_one_render(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folded: list[str] = []
    apply = model.apply

    def counting_apply(state: LiveState, event: schema.Message, now: int) -> set[str]:
        folded.append(type(event).__name__)
        return apply(state, event, now)

    monkeypatch.setattr(model, "apply", counting_apply)

    async def scenario(runtime: Runtime, hub: Hub) -> None:
        look = Look("en", PANELS)
        first, second = Counted(look), Counted(look)
        view_a = hub.join(wall_page(first))
        view_b = hub.join(wall_page(second))  # a second wall with the same look
        assert view_a is view_b and view_a.members == 2
        whole = (await frames_after(view_a, 0))[0]  # the snapshot, rendered once for both
        assert ids.WALL_MAP in whole.updates and first.calls[0] == (model.ALL, True)
        seen = view_a.seq

        await create_task(runtime, "两屏同看")
        frame, _ = await until(view_a, seen, shows_task("两屏同看"))

        assert folded.count("Task") == 1  # folded once, not once per wall
        assert second.calls == []  # the look renders once, with the first wall's render
        assert sum(1 for parts, full in first.calls if full) == 1
        # both connections read the same frame, its props encoded once
        assert view_b.since(seen) == view_a.since(seen)
        assert frame.encoded[(ids.WALL_TASKS, "data-html")]

    in_hub(redis_url, scenario)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every snapshot the hub loads (its `extras` flag), in order."""
    seen: list[bool] = []
    load = live_hub.load_state

    async def counting_load(runtime: Runtime, extras: bool = False) -> LiveState:
        seen.append(extras)
        return await load(runtime, extras)

    monkeypatch.setattr(live_hub, "load_state", counting_load)
    return seen


def test_a_new_wall_gets_the_whole_page_from_the_shared_state(
    redis_url: str, loads: list[bool]
) -> None:
    async def scenario(runtime: Runtime, hub: Hub) -> None:
        look = Look("en", PANELS)
        view = hub.join(wall_page(Counted(look)))
        await frames_after(view, 0)
        await create_task(runtime, "先到")
        await until(view, view.seq, shows_task("先到"))

        late = Counted(look)
        assert hub.join(wall_page(late)) is view
        whole = hub.whole(view)
        assert whole is not None and "先到" in str(whole.updates[ids.WALL_TASKS])
        assert hub.whole(view) is whole  # a burst of joiners shares one whole render
        assert loads == [True]  # no second snapshot for the late wall

    in_hub(redis_url, scenario)


async def stream_fixes(
    runtime: Runtime, reporter_id: str, view: View, seconds: float
) -> tuple[list[Frame], int]:
    """Apply a fix every ~5 ms for `seconds` (the reporter moving without a pause); return the
    frames `view` published meanwhile and its position after them."""
    loop = asyncio.get_running_loop()
    start, seen, ts = loop.time(), view.seq, now_ms()
    frames: list[Frame] = []
    while loop.time() < start + seconds:
        ts += 5
        fix = schema.Location(
            reporter_id=reporter_id, lat=27.7 + (ts % 1000) * 1e-5, lon=112.5, ts=ts,
            received_at=ts,
        )  # fmt: skip
        await reporters.apply_fix(runtime.redis, runtime.keys, fix)
        await asyncio.sleep(0.005)
        got = view.since(seen)
        assert got is not None
        frames += got
        seen = view.seq
    return frames, seen


def test_the_map_keeps_moving_while_fixes_stream_in(redis_url: str) -> None:
    """Fixes arriving without a pause (200 a second) still redraw the map every
    FIGURE_INTERVAL_S or so: the text each batch sends must not postpone the figures for ever."""

    async def scenario(runtime: Runtime, hub: Hub) -> None:
        r, keys = runtime.redis, runtime.keys
        rep = await reporters.create(r, keys, "王磊")
        view = hub.join(wall_page(Counted(Look("en", PANELS))))
        await frames_after(view, 0)
        frames, _ = await stream_fixes(runtime, rep["reporter_id"], view, 3.0)
        maps = sum(ids.WALL_MAP_OVERLAY in f.updates for f in frames)
        assert maps >= 3, f"{maps} map redraws in 3 s of fixes (one each {FIGURE_INTERVAL_S} s)"

    in_hub(redis_url, scenario)


def test_fixes_send_their_counts_with_the_figures_and_news_goes_alone(redis_url: str) -> None:
    """What a stream of fixes changes (the counts, the last event) waits for the next figures
    and goes in their message, not in one of its own per batch; a task goes at once, in a
    message without figures."""

    async def scenario(runtime: Runtime, hub: Hub) -> None:
        r, keys = runtime.redis, runtime.keys
        rep = await reporters.create(r, keys, "王磊")
        view = hub.join(wall_page(Counted(Look("en", PANELS))))
        await frames_after(view, 0)
        frames, seen = await stream_fixes(runtime, rep["reporter_id"], view, 2.5)
        counts = [f for f in frames if ids.WALL_EVENT_RATE in f.updates]
        assert counts, "the counts never went out"
        alone = [f for f in counts if ids.WALL_MAP_OVERLAY not in f.updates
                 and ids.WALL_TASKS not in f.updates]  # fmt: skip
        assert not alone, f"{len(alone)} messages of counts alone: {list(alone[0].updates)}"
        await create_task(runtime, "县城东门火情")
        news, seen = await until(view, seen, shows_task("县城东门火情"))
        assert ids.WALL_MAP_OVERLAY not in news.updates
        assert ids.WALL_LAST_EVENT in news.updates

    in_hub(redis_url, scenario)


def test_a_wall_leaving_does_not_stop_the_others(redis_url: str) -> None:
    async def scenario(runtime: Runtime, hub: Hub) -> None:
        look = Look("en", PANELS)
        view = hub.join(wall_page(Counted(look)))
        other = hub.join(wall_page(Counted(Look("zh", PANELS)), "zh"))  # another look
        hub.join(wall_page(Counted(look)))
        await frames_after(view, 0)
        task = hub.task

        hub.leave(view)  # one of the two alike walls goes
        hub.leave(other)  # the only wall of the other look goes: its view goes too
        assert hub.task is task and not task.done() and list(hub.views.values()) == [view]
        await create_task(runtime, "还在")
        await until(view, view.seq, shows_task("还在"))

    in_hub(redis_url, scenario)


def test_the_hub_stops_when_the_last_wall_leaves(redis_url: str) -> None:
    async def scenario(runtime: Runtime, hub: Hub) -> None:
        channel = runtime.keys.live_channel
        views = [hub.join(wall_page(Counted(Look(lang, PANELS)), lang)) for lang in ("en", "zh")]
        await frames_after(views[0], 0)
        assert len(runtime.bus._subs[channel]) == 1  # one subscription for both looks
        task = hub.task
        assert task is not None

        for view in views:
            hub.leave(view)
        await asyncio.gather(task, return_exceptions=True)

        assert task.cancelled() and hub.task is None and hub.state is None
        assert channel not in runtime.bus._subs  # unsubscribed
        again = hub.join(wall_page(Counted(Look("en", PANELS))))  # a wall opens again
        assert (await frames_after(again, 0))[0].updates.get(ids.WALL_MAP)

    in_hub(redis_url, scenario)


def test_resync_reloads_once_and_every_look_gets_a_whole_page(
    redis_url: str, loads: list[bool]
) -> None:
    async def scenario(runtime: Runtime, hub: Hub) -> None:
        looks = [Counted(Look(lang, PANELS)) for lang in ("en", "zh")]
        views = [hub.join(wall_page(render)) for render in looks]
        for view in views:
            await frames_after(view, 0)
        seen = [view.seq for view in views]

        (sub,) = runtime.bus._subs[runtime.keys.live_channel]
        sub.offer(RESYNC)  # the bus dropped messages for the hub

        for view, at in zip(views, seen, strict=True):
            frame, _ = await until(view, at, lambda f: ids.WALL_MAP in f.updates)
            assert "figure" in frame.updates[ids.WALL_MAP]
        assert loads == [True, True]  # the first snapshot and one reload, for both looks
        for render in looks:
            assert [full for _, full in render.calls].count(True) == 2

    in_hub(redis_url, scenario)


def test_a_failing_look_ends_only_its_own_streams(redis_url: str) -> None:
    async def scenario(runtime: Runtime, hub: Hub) -> None:
        good = Counted(Look("en", PANELS))

        def broken(state: LiveState, parts: set[str], full: bool, now: int) -> Updates:
            if not full:
                raise RuntimeError("a bug in one look")
            return {}

        page = wall_page(Counted(Look("zh", PANELS)), "zh")
        page.render = broken
        bad = hub.join(page)
        view = hub.join(wall_page(good))
        await frames_after(view, 0)

        await create_task(runtime, "照常")
        await until(view, view.seq, shows_task("照常"))
        assert bad.failed and bad.key not in hub.views
        await bad.wait(bad.seq, 5.0)  # its connections wake at once, to end
        hub.leave(bad)
        assert hub.task is not None and not hub.task.done()

    in_hub(redis_url, scenario)


def test_a_waiting_connection_cancelled_leaves_the_others_waiting(redis_url: str) -> None:
    async def scenario(runtime: Runtime, hub: Hub) -> None:
        look = Look("en", PANELS)
        view = hub.join(wall_page(Counted(look)))
        hub.join(wall_page(Counted(look)))
        await frames_after(view, 0)
        seen = view.seq
        dying = asyncio.create_task(view.wait(seen, 30.0))
        staying = asyncio.create_task(frames_after(view, seen, 10.0))
        await asyncio.sleep(0.05)
        dying.cancel()  # a wall's callback cancelled while it waits
        hub.leave(view)
        await create_task(runtime, "不受影响")
        frames: list[Any] = await staying
        assert frames and all(isinstance(frame, Frame) for frame in frames)

    in_hub(redis_url, scenario)


def test_a_frame_encodes_each_prop_once_and_marks_its_patches() -> None:
    patch = live.to_patch({0: {"y": [1]}})
    shared = batching.frame({"a": {"children": "x", "figure": patch}})
    assert shared.encoded[("a", "children")] == '"x"'
    assert shared.encoded[("a", "figure")] == batching.encode(patch)
    assert shared.deltas == {("a", "figure")}
