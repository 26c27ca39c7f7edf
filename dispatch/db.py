"""Connecting to Redis: the embedded server by default, REDIS_URL otherwise. Same code path.

The clients decode replies (decode_responses=True), so every string they return is a str;
redis-py's types cannot know that and say `bytes | str`. The readers at the end of this module
say so once for the replies the services read most.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, cast
from urllib.parse import urlparse

import redis
import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import NoScriptError

from dispatch import redis_server
from dispatch.settings import Settings

# No automatic retries: a retried write after a lost reply can apply twice. Every write from
# outside carries an id instead, so the caller can retry safely (design.md §6).
_CLIENT_OPTS = dict(
    decode_responses=True,
    socket_connect_timeout=5,
    health_check_interval=15,
    retry_on_timeout=False,
)


def resolve(settings: Settings, long_lived: bool) -> tuple[str, redis_server.EmbeddedRedis | None]:
    """The Redis URL to use, starting the embedded server when there is no REDIS_URL."""
    if settings.redis_url:
        return settings.redis_url, None
    return redis_server.acquire(settings.data_dir, long_lived=long_lived)


def _sentinel_parts(url: str) -> tuple[list[tuple[str, int]], str, str | None]:
    """sentinel://[:password@]host:port[,host:port]/service_name"""
    parsed = urlparse(url)
    hosts = parsed.netloc.rsplit("@", 1)[-1]
    nodes = []
    for part in hosts.split(","):
        host, _, port = part.partition(":")
        nodes.append((host, int(port or 26379)))
    return nodes, parsed.path.strip("/") or "mymaster", parsed.password


def connect(url: str, max_connections: int = 200) -> aioredis.Redis:
    """An asyncio client. The pool is large enough for many sockets; pub/sub uses one."""
    if url.startswith("sentinel://"):
        nodes, service, password = _sentinel_parts(url)
        sentinel = Sentinel(nodes, password=password, **_CLIENT_OPTS)
        return cast(aioredis.Redis, sentinel.master_for(service))
    return aioredis.from_url(url, max_connections=max_connections, **_CLIENT_OPTS)


def connect_sync(url: str) -> redis.Redis:
    if url.startswith("sentinel://"):
        from redis.sentinel import Sentinel as SyncSentinel

        nodes, service, password = _sentinel_parts(url)
        sentinel = SyncSentinel(nodes, password=password, **_CLIENT_OPTS)
        return cast(redis.Redis, sentinel.master_for(service))
    return redis.Redis.from_url(url, **_CLIENT_OPTS)


# --- Lua scripts, by their SHA1 -----------------------------------------------------------------
ScriptCall = tuple[Sequence[str], Sequence[str | int | float]]  # (keys, args)


async def eval_many(r: aioredis.Redis, script: str, calls: Sequence[ScriptCall]) -> list[Any]:
    """Run `script` once per (keys, args), in order, all in one round trip (EVALSHA in a
    pipeline, not a transaction: each call is atomic on its own). Redis forgets scripts when it
    restarts or fails over: the calls it refused for that (nothing ran) are sent again after
    loading it. Raises the first other error after every call has run."""
    sha = _sha(script)
    results: list[Any] = [None] * len(calls)
    todo = list(range(len(calls)))
    for attempt in range(2):
        async with r.pipeline(transaction=False) as pipe:
            for i in todo:
                keys, args = calls[i]
                pipe.evalsha(sha, len(keys), *keys, *args)
            replies = await pipe.execute(raise_on_error=False)
        for i, reply in zip(todo, replies, strict=True):
            results[i] = reply
        todo = [i for i in todo if isinstance(results[i], NoScriptError)]
        if not todo:
            break
        if attempt == 0:
            await r.script_load(script)
    for reply in results:
        if isinstance(reply, Exception):
            raise reply
    return results


async def eval_one(
    r: aioredis.Redis, script: str, keys: Sequence[str], args: Sequence[str | int | float]
) -> Any:
    """Run `script` once by its SHA1, loading it if Redis does not know it (then EVAL)."""
    try:
        return await r.evalsha(_sha(script), len(keys), *keys, *args)
    except NoScriptError:
        return await r.eval(script, len(keys), *keys, *args)


_SHAS: dict[str, str] = {}


def _sha(script: str) -> str:
    if (sha := _SHAS.get(script)) is None:
        sha = _SHAS[script] = hashlib.sha1(script.encode()).hexdigest()
    return sha


# --- typed readers (see the module docstring) --------------------------------------------------
StreamEntries = list[tuple[str, dict[str, str]]]


async def get(r: aioredis.Redis, key: str) -> str | None:
    return cast("str | None", await r.get(key))


async def hgetall(r: aioredis.Redis, key: str) -> dict[str, str]:
    return cast(dict[str, str], await r.hgetall(key))


async def smembers(r: aioredis.Redis, key: str) -> set[str]:
    return cast(set[str], await r.smembers(key))


async def xrange(
    r: aioredis.Redis, key: str, min: str = "-", max: str = "+", count: int | None = None
) -> StreamEntries:
    """Stream entries as (id, fields), oldest first."""
    return cast(StreamEntries, await r.xrange(key, min=min, max=max, count=count))
