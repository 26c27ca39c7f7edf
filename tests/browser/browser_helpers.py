"""Helpers for browser tests: finding Chromium, and seeding the test Redis through the real
services."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from dispatch import auth, db, reporters, schema
from dispatch.clock import now_ms
from dispatch.keys import Keys

T = TypeVar("T")
KEYS = Keys("default")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str:
    for candidate in (
        os.environ.get("NEWSROOM_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError(
        "no Chromium found: run `make test` (it installs or names one), "
        "or set NEWSROOM_CHROMIUM to a Chromium binary"
    )


def arun(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion in a worker thread (Playwright's sync API owns this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def seed_reporters(redis_url: str, n: int) -> list[str]:
    async def go() -> list[str]:
        r = db.connect(redis_url)
        ids = []
        for i in range(n):
            rep = await reporters.create(r, KEYS, f"记者{i + 1}", ["camera"])
            ids.append(rep["reporter_id"])
            await reporters.apply_fix(
                r,
                KEYS,
                schema.Location(
                    reporter_id=rep["reporter_id"],
                    lat=27.734 + 0.01 * i,
                    lon=112.533 - 0.01 * i,
                    accuracy_m=8,
                    battery=80,
                    ts=now_ms(),
                    received_at=now_ms(),
                    source="app",
                ),
            )
        await r.aclose()
        return ids

    return arun(go())


def wall_key(redis_url: str) -> str:
    async def go() -> str:
        r = db.connect(redis_url)
        token, _ = await auth.create_token(r, KEYS, "wall", label="browser test")
        await r.aclose()
        return token

    return arun(go())


# The wall map's markers, as its overlay canvas last received them (assets/map_overlay.js):
# the map's traces in order (dashboards.maps.MAP_*), each {lat, lon, size, color, opacity},
# positions rounded to 1e-5 degrees.
MARKERS = "document.getElementById('wall-map-overlay')?.nrMarkers?.traces"


def move(redis_url: str, reporter_id: str, lat: float) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        await reporters.apply_fix(
            r,
            KEYS,
            schema.Location(
                reporter_id=reporter_id,
                lat=lat,
                lon=112.52,
                accuracy_m=5,
                battery=70,
                ts=now_ms(),
                received_at=now_ms(),
                source="app",
            ),
        )
        await r.aclose()

    arun(go())
