"""The task state machine, pure, plus a hypothesis stateful test of its invariants."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from dispatch import lifecycle
from dispatch.errors import Conflict, InvalidInput

HAPPY = ["offered", "delivered", "accepted", "en_route", "on_scene", "filed", "done"]


def test_happy_path_is_legal() -> None:
    state = "created"
    for target in HAPPY:
        state = lifecycle.transition(state, target)
    assert state == "done" and not lifecycle.is_open(state)


def test_illegal_transition_says_what_is_allowed() -> None:
    with pytest.raises(Conflict) as info:
        lifecycle.transition("created", "done")
    assert info.value.code == "illegal_transition"
    assert "created cannot become done" in info.value.text and "offered" in info.value.text


def test_decline_needs_a_reason() -> None:
    with pytest.raises(InvalidInput, match="reason"):
        lifecycle.transition("offered", "declined", "  ")
    assert lifecycle.transition("offered", "declined", "on another job") == "declined"


@pytest.mark.parametrize("closed", sorted(lifecycle.TERMINAL))
def test_closed_tasks_stay_closed(closed: str) -> None:
    for target in lifecycle.TRANSITIONS:
        with pytest.raises((Conflict, InvalidInput)):
            lifecycle.transition(closed, target, "r")


ORDER = {s: i for i, s in enumerate(HAPPY)}


class Lifecycle(RuleBasedStateMachine):
    """Any sequence of attempted moves: the state is always known, progress along the happy
    path only moves forward unless the desk re-offers, and closed tasks never reopen."""

    def __init__(self) -> None:
        super().__init__()
        self.state = "created"
        self.closed = False

    @rule(move=st.sampled_from(sorted(lifecycle.TRANSITIONS)), reason=st.sampled_from(["", "busy"]))
    def attempt(self, move: str, reason: str) -> None:
        before = self.state
        try:
            after = lifecycle.transition(before, move, reason)
        except (Conflict, InvalidInput):
            assert self.state == before
            return
        assert not self.closed, "a closed task changed"
        if before in ORDER and after in ORDER and after != "offered":
            assert ORDER[after] > ORDER[before], f"{before} -> {after} went backwards"
        self.state = after
        self.closed = not lifecycle.is_open(after)

    @invariant()
    def known(self) -> None:
        assert self.state in lifecycle.TRANSITIONS


TestLifecycle = Lifecycle.TestCase
TestLifecycle.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
