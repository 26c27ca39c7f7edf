"""A hypothesis stateful test of the task lifecycle through the real service and Redis:
one owner at a time, never a regression, every event idempotent."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from dispatch import auth, db, lifecycle, reporters, tasks
from dispatch.errors import NewsroomError
from dispatch.keys import Keys

pytestmark = pytest.mark.integration
KEYS = Keys("t-stateful")
DESK = auth.Principal(role="supervisor", subject="desk", token_hash="d" * 64)
STATUSES = sorted(lifecycle.BY_REPORTER)
ORDER = {
    s: i
    for i, s in enumerate(
        ["offered", "delivered", "accepted", "en_route", "on_scene", "filed", "done"]
    )
}


class TaskLife(RuleBasedStateMachine):
    def __init__(self, redis_url: str) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.r = db.connect(redis_url)
        self.call(self.r.flushall())
        self.reporters = [self.call(reporters.create(self.r, KEYS, n)) for n in ("甲", "乙", "丙")]
        self.people = [
            auth.Principal(role="reporter", subject=rep["reporter_id"], token_hash=str(i) * 64)
            for i, rep in enumerate(self.reporters)
        ]
        task, _ = self.call(
            tasks.create(
                self.r,
                KEYS,
                DESK,
                title="t",
                lat=27.7,
                lon=112.5,
                assignee=self.reporters[0]["reporter_id"],
            )
        )
        self.task_id = task["task_id"]
        self.sent: dict[str, dict[str, Any]] = {}  # client id -> first result
        self.last_version = task["version"]

    def call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.call(self.r.aclose())
        self.loop.close()

    @rule(
        who=st.integers(0, 2),
        status=st.sampled_from(STATUSES),
        cid=st.integers(0, 6),
        reason=st.sampled_from(["", "busy"]),
    )
    def reporter_acts(self, who: int, status: str, cid: int, reason: str) -> None:
        client_id = f"{who}:{cid}"
        before = self.call(tasks.get(self.r, KEYS, self.task_id))
        try:
            result = self.call(
                tasks.change(
                    self.r,
                    KEYS,
                    self.people[who],
                    self.task_id,
                    status,
                    reason=reason,
                    client_id=client_id,
                )
            )
        except NewsroomError:
            after = self.call(tasks.get(self.r, KEYS, self.task_id))
            assert after["version"] == before["version"], "a refused change changed the task"
            return
        if (
            client_id in self.sent
        ):  # idempotent: the same id returns the first result, applies nothing
            assert result.get("replayed") and result["version"] == self.sent[client_id]["version"]
            after = self.call(tasks.get(self.r, KEYS, self.task_id))
            assert after["version"] == before["version"]
            return
        assert before["assignee"] == self.people[who].subject, "someone else's task changed"
        self.sent[client_id] = result

    @rule(who=st.integers(0, 2))
    def desk_offers(self, who: int) -> None:
        try:
            self.call(
                tasks.change(
                    self.r,
                    KEYS,
                    DESK,
                    self.task_id,
                    "offered",
                    assignee=self.reporters[who]["reporter_id"],
                )
            )
        except NewsroomError:
            pass

    @rule()
    def desk_cancels(self) -> None:
        try:
            self.call(tasks.change(self.r, KEYS, DESK, self.task_id, "cancelled"))
        except NewsroomError:
            pass

    @invariant()
    def consistent(self) -> None:
        task = self.call(tasks.get(self.r, KEYS, self.task_id))
        versions = [e["version"] for e in task["timeline"]]
        assert versions == sorted(set(versions)), "timeline versions must strictly increase"
        assert task["version"] == versions[-1] and task["state"] == task["timeline"][-1]["state"]
        assert task["version"] >= self.last_version
        self.last_version = task["version"]
        # One owner at a time: every event names the single assignee of its moment.
        assert all(
            e["assignee"] in (None, *[p.subject for p in self.people]) for e in task["timeline"]
        )
        # Never a regression: between two offers, progress only moves forward.
        run = [e["state"] for e in task["timeline"][1:]]
        for prev, nxt in zip(run, run[1:], strict=False):
            if nxt in ORDER and prev in ORDER and nxt != "offered":
                assert ORDER[nxt] > ORDER[prev], f"{prev} -> {nxt}"
        assert task["state"] not in lifecycle.TERMINAL or task["task_id"] not in self.call(
            self.r.zrange(KEYS.tasks_open, 0, -1)
        )
        # The task is held by its assignee exactly while it is theirs, and by nobody else.
        holders = [
            p.subject
            for p in self.people
            if self.call(self.r.zscore(KEYS.held(p.subject), self.task_id)) is not None
        ]
        expected = [task["assignee"]] if task["state"] in lifecycle.HELD else []
        assert holders == expected, (task["state"], task["assignee"], holders)


def test_task_lifecycle_stateful(redis_url: str) -> None:
    # In a worker thread: the browser tests' Playwright keeps an event loop on the main one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(
            run_state_machine_as_test,
            lambda: TaskLife(redis_url),
            settings=settings(max_examples=25, stateful_step_count=25, deadline=None),
        ).result()
