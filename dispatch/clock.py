"""Time and ids. Times on the wire are UTC epoch milliseconds."""

from __future__ import annotations

import secrets
import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_id(prefix: str) -> str:
    """A short random id with a readable prefix, e.g. `t-3f9a1c2b7d`."""
    return f"{prefix}-{secrets.token_hex(5)}"
