"""Many fixes in one round trip (`reporters.apply_fixes`), and Lua scripts run by their SHA
(`db.eval_many`) surviving a Redis that forgot them: against a real Redis."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from dispatch import db, reporters, schema
from dispatch.clock import now_ms
from dispatch.errors import InvalidInput, NotFound
from dispatch.keys import Keys

pytestmark = pytest.mark.integration
Run = Callable[[Coroutine[Any, Any, Any]], Any]


def fix(rid: str, ts: int, lat: float = 27.7) -> schema.Location:
    return schema.Location(reporter_id=rid, lat=lat, lon=112.5, ts=ts, received_at=ts)


def test_a_batch_applies_in_order_and_keeps_the_rules(redis_url: str, run: Run) -> None:
    keys = Keys("t-batch")

    async def go() -> tuple[list[bool], dict[str, Any], int]:
        r = db.connect(redis_url)
        try:
            await reporters.create(r, keys, "A", [], reporter_id="r-a")
            await reporters.create(r, keys, "B", [], reporter_id="r-b")
            t = now_ms() - 10_000
            applied = await reporters.apply_fixes(
                r,
                keys,
                [
                    fix("r-a", t, 27.70),
                    fix("r-b", t, 27.80),
                    fix("r-a", t + 1000, 27.71),
                    fix("r-a", t + 500, 27.99),  # older than the one before it: ignored
                    fix("r-a", t + 1000, 27.98),  # as old: ignored
                ],
            )
            trail = await r.xlen(keys.trail("r-a"))
            return applied, await reporters.get(r, keys, "r-a"), int(trail)
        finally:
            await r.aclose()

    applied, a, trail = run(go())
    assert applied == [True, True, True, False, False]
    assert a["lat"] == 27.71
    assert trail == 2


def test_a_fix_from_the_future_refuses_the_whole_batch(redis_url: str, run: Run) -> None:
    keys = Keys("t-batch-future")

    async def go() -> dict[str, Any]:
        r = db.connect(redis_url)
        try:
            await reporters.create(r, keys, "A", [], reporter_id="r-a")
            t = now_ms()
            with pytest.raises(InvalidInput, match="in the future"):
                await reporters.apply_fixes(r, keys, [fix("r-a", t), fix("r-a", t + 3_600_000)])
            return await reporters.get(r, keys, "r-a")
        finally:
            await r.aclose()

    assert run(go())["fix_ts"] is None  # nothing was applied


def test_an_unknown_reporter_is_named_after_the_others_apply(redis_url: str, run: Run) -> None:
    keys = Keys("t-batch-unknown")

    async def go() -> dict[str, Any]:
        r = db.connect(redis_url)
        try:
            await reporters.create(r, keys, "A", [], reporter_id="r-a")
            t = now_ms()
            with pytest.raises(NotFound, match="r-nobody"):
                await reporters.apply_fixes(r, keys, [fix("r-nobody", t), fix("r-a", t)])
            return await reporters.get(r, keys, "r-a")
        finally:
            await r.aclose()

    assert run(go())["lat"] == 27.7


def test_scripts_are_loaded_again_after_redis_forgets_them(redis_url: str, run: Run) -> None:
    keys = Keys("t-batch-flush")

    async def go() -> list[bool]:
        r = db.connect(redis_url)
        try:
            await reporters.create(r, keys, "A", [], reporter_id="r-a")
            t = now_ms() - 5000
            first = await reporters.apply_fixes(r, keys, [fix("r-a", t)])
            await r.script_flush()  # as after a restart or a failover
            again = await reporters.apply_fixes(r, keys, [fix("r-a", t + 1), fix("r-a", t + 2)])
            await r.script_flush()
            one = await reporters.apply_fix(r, keys, fix("r-a", t + 3))
            return [*first, *again, one]
        finally:
            await r.aclose()

    assert run(go()) == [True, True, True, True]


def test_eval_one_loads_a_script_redis_never_saw(redis_url: str, run: Run) -> None:
    async def go() -> Any:
        r = db.connect(redis_url)
        try:
            await r.script_flush()
            return await db.eval_one(r, "return ARGV[1] .. KEYS[1]", ("k",), ("v-",))
        finally:
            await r.aclose()

    assert run(go()) == "v-k"
