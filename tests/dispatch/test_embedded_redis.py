"""The embedded Redis: one server per data directory, shared while it runs, data kept on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from dispatch import redis_server

pytestmark = pytest.mark.integration


def test_one_server_per_data_dir_and_data_survives_restart(tmp_path: Path) -> None:
    url, owner = redis_server.acquire(tmp_path, long_lived=True)
    assert owner is not None
    url2, second = redis_server.acquire(tmp_path, long_lived=False)
    assert second is None and url2 == url  # reused, not a second server on the same files
    client = redis.Redis.from_url(url)
    assert client.config_get("appendonly")["appendonly"] == "yes"
    client.set("kept", "yes")
    client.close()
    redis_server.release(owner)
    url3, third = redis_server.acquire(tmp_path, long_lived=False)
    try:
        client = redis.Redis.from_url(url3)
        assert client.get("kept") == b"yes"
        client.close()
    finally:
        redis_server.release(third)


def test_an_orphaned_server_is_replaced_not_doubled(tmp_path: Path) -> None:
    server = redis_server.EmbeddedRedis(tmp_path)
    server.start()  # started without an owner record: like an owner killed with -9
    try:
        _, owner = redis_server.acquire(tmp_path, long_lived=True)
        assert owner is not None
        assert server.process is not None and server.process.wait(timeout=10) == 0
        redis_server.release(owner)
    finally:
        server.stop()
