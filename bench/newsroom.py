"""The project under test: a real `newsroom serve` (uvicorn, one process) against the bench
Redis, started as tests/servers.py does, and bulk set-up straight through dispatch's own
services (reporters are created with `dispatch.reporters.create`, as the REST API does)."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from bench import harness
from bench.harness import ServerProc

TENANT = "default"
# Far above anything the bench sends: the limits are not what is measured (see
# tests/faults/test_faults.py BULK).
BULK = {"NEWSROOM_RATE_TOKEN": "100000000/60", "NEWSROOM_RATE_IP": "100000000/60"}


def serve(redis_url: str, name: str = "newsroom serve", extra_env: dict[str, str] | None = None,
          command: tuple[str, ...] = ("serve",), whatif: str = "") -> ServerProc:  # fmt: skip
    """A `newsroom serve` (or `up`) process; with `whatif`, through bench.peers.serve_whatif
    with those patches (see there)."""
    port = harness.free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="nr-bench-data-"))
    admin = "bench-admin-" + os.urandom(8).hex()
    env = {
        "NEWSROOM_PORT": str(port),
        "NEWSROOM_HOST": "127.0.0.1",
        "NEWSROOM_DATA_DIR": str(data_dir),
        "NEWSROOM_ADMIN_TOKEN": admin,
        "NEWSROOM_LANG": "en",
        "NEWSROOM_WEBHOOK_SECRET": "bench-webhook-secret",
        "NEWSROOM_TENANT": TENANT,
        "REDIS_URL": redis_url,
        **BULK,
        **(extra_env or {}),
    }
    module = "dispatch.cli"
    if whatif:
        module = "bench.peers.serve_whatif"
        env["BENCH_WHATIF"] = whatif
    proc = ServerProc(
        name, harness.python_module(module, *command), port, env=env, ready_path="/readyz"
    )
    proc.log_dir = data_dir
    proc.cleanup.append(data_dir)
    return proc


def admin_token(server: ServerProc) -> str:
    return server.env["NEWSROOM_ADMIN_TOKEN"]


async def _create_reporters(redis_url: str, n: int, devices: bool) -> list[dict[str, Any]]:
    from dispatch import db, reporters
    from dispatch.keys import Keys

    r = db.connect(redis_url, max_connections=64)
    keys = Keys(TENANT)
    sem = asyncio.Semaphore(64)

    async def one(i: int) -> dict[str, Any]:
        async with sem:
            return await reporters.create(
                r, keys, f"bench-{i}", reporter_id=f"r-bench{i:05d}",
                devices=[f"dev-{i:05d}"] if devices else None,
            )  # fmt: skip

    try:
        return list(await asyncio.gather(*(one(i) for i in range(n))))
    finally:
        await r.aclose()


def create_reporters(redis_url: str, n: int, devices: bool = False) -> list[dict[str, Any]]:
    """n reporters (ids r-bench00000…), each with a token (and a tracker device id)."""
    return harness.arun(_create_reporters(redis_url, n, devices))


# The server as shipped, only observed (its GC pauses are logged). The what-if patches of
# bench/peers/serve_whatif.py that were measured here are in the product now; add a variant
# (name, comma-separated patches) to measure a new one beside it.
VARIANTS = [("newsroom serve", "gcstats")]


def gc_pauses(server: ServerProc) -> dict[str, Any]:
    """GC pauses over 10 ms that the server logged (gcstats), from its log."""
    pauses = []
    for line in server.log_tail(2_000_000).splitlines():
        if line.startswith("bench-gc:"):
            pauses.append(float(line.split()[2]))
    return {"gc_pauses_over_10ms": len(pauses), "gc_max_ms": max(pauses) if pauses else None}


def hello(token: str) -> str:
    return json.dumps({"type": "hello", "v": 1, "token": token, "resume": None})
