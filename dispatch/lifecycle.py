"""The task state machine (design.md §4.3), pure: states in, state out, no I/O.

created → offered → delivered → accepted → en_route → on_scene → filed → done
with declined (reason required), cancelled (desk) and expired (no acknowledgement in time).
"""

from __future__ import annotations

from dispatch.errors import Conflict, InvalidInput

TERMINAL = frozenset({"done", "cancelled"})
# States in which the assignee holds the task: it is on their phone and theirs to answer or work.
HELD = frozenset({"offered", "delivered", "accepted", "en_route", "on_scene", "filed"})

TRANSITIONS: dict[str, frozenset[str]] = {
    "created": frozenset({"offered", "cancelled"}),
    "offered": frozenset({"offered", "delivered", "accepted", "declined", "cancelled", "expired"}),
    "delivered": frozenset({"offered", "accepted", "declined", "cancelled", "expired"}),
    "accepted": frozenset({"offered", "en_route", "on_scene", "filed", "cancelled"}),
    "en_route": frozenset({"offered", "on_scene", "cancelled"}),
    "on_scene": frozenset({"filed", "done", "cancelled"}),
    "filed": frozenset({"done", "cancelled"}),
    "declined": frozenset({"offered", "cancelled"}),
    "expired": frozenset({"offered", "cancelled"}),
    "done": frozenset(),
    "cancelled": frozenset(),
}

# Who may move a task into each state.
BY_REPORTER = frozenset({"accepted", "declined", "en_route", "on_scene", "filed", "done"})
BY_DESK = frozenset({"offered", "cancelled"})
BY_SYSTEM = frozenset({"delivered", "expired"})


def transition(current: str, target: str, reason: str = "") -> str:
    """Return `target` if the move is legal, else raise Conflict(code='illegal_transition')."""
    if current not in TRANSITIONS:
        raise InvalidInput(f"unknown task state {current!r}")
    if target == "declined" and not reason.strip():
        raise InvalidInput("a reason is required to decline a task")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (the task is closed)"
        raise Conflict(
            f"a task that is {current} cannot become {target}; it can become: {allowed}",
            code="illegal_transition",
        )
    return target


def is_open(state: str) -> bool:
    return state not in TERMINAL
