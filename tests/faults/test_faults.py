"""Fault tests against real processes and a real Redis: nothing acknowledged is ever lost, and
nothing is shown or applied twice, whatever is killed, restarted or cut."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import websockets
from fault_helpers import Phone, create_task, wait_until

from dispatch.redis_server import EmbeddedRedis
from servers import Server

pytestmark = pytest.mark.integration
# Load far beyond the default per-token limit on purpose: these tests are about faults.
BULK = {"NEWSROOM_RATE_TOKEN": "1000000/60", "NEWSROOM_RATE_IP": "1000000/60"}


def _reporters(srv: Server, n: int) -> list[dict[str, Any]]:
    admin = {"Authorization": f"Bearer {srv.admin_token}"}
    return [
        httpx.post(srv.url + "/api/v1/reporters", json={"name": f"记者{i}"}, headers=admin).json()
        for i in range(n)
    ]


def _ws(srv: Server) -> str:
    return srv.url.replace("http", "ws", 1) + "/ws/reporter"


def _count_tasks(redis_url: str) -> int:
    client = redis.Redis.from_url(redis_url)
    try:
        return int(client.zcard("nr:{default}:tasks:all"))
    finally:
        client.close()


def test_kill_9_of_a_server_while_1000_tasks_are_created(
    redis_url: str, tmp_path: Path, run: Any
) -> None:
    a = Server(redis_url, tmp_path, extra_env=BULK).start()
    b = Server(
        redis_url, tmp_path, extra_env={**BULK, "NEWSROOM_ADMIN_TOKEN": a.admin_token}
    ).start()
    reps = _reporters(a, 10)
    try:

        async def go() -> None:
            stop = asyncio.Event()
            phones = [
                Phone([_ws(a), _ws(b)] if i % 2 else [_ws(b), _ws(a)], r["token"])
                for i, r in enumerate(reps)
            ]
            runners = [asyncio.create_task(p.run(stop)) for p in phones]
            await wait_until(lambda: all(p.connects for p in phones), 10, "phones to connect")
            acked: list[dict[str, Any]] = []
            sem = asyncio.Semaphore(16)
            async with httpx.AsyncClient() as client:

                async def one(i: int) -> None:
                    async with sem:
                        task = await create_task(
                            client,
                            [a.url, b.url],
                            a.admin_token,
                            {
                                "title": f"task {i:04d}",
                                "lat": 27.73,
                                "lon": 112.53,
                                "assignee": reps[i % 10]["reporter_id"],
                            },
                        )
                        acked.append(task)
                        if len(acked) == 300:
                            a.kill()  # kill -9 in the middle of the run

                await asyncio.gather(*(one(i) for i in range(1000)))
            assert a.proc is not None and a.proc.returncode == -9
            by_reporter = Counter(t["assignee"] for t in acked)
            await wait_until(
                lambda: all(
                    len(p.shown) >= by_reporter[r["reporter_id"]]
                    for p, r in zip(phones, reps, strict=True)
                ),
                60,
                "every task shown",
            )
            stop.set()
            await asyncio.gather(*runners)
            for phone, rep in zip(phones, reps, strict=True):
                shown = [t["task_id"] for t in phone.shown]
                assert len(shown) == len(set(shown)), "a task was shown twice"
                assert set(shown) == {
                    t["task_id"] for t in acked if t["assignee"] == rep["reporter_id"]
                }
            assert len({t["task_id"] for t in acked}) == 1000

        run(go())
        assert _count_tasks(redis_url) == 1000  # retries with the same key created nothing twice
    finally:
        a.stop()
        b.stop()


def test_offline_reporter_gets_exactly_their_200_in_order_across_restarts(
    redis_url: str, tmp_path: Path, run: Any
) -> None:
    srv = Server(redis_url, tmp_path, extra_env=BULK).start()
    admin = srv.admin_token
    offline, *others = _reporters(srv, 21)
    state = {"srv": srv}
    try:

        async def go() -> None:
            sem = asyncio.Semaphore(16)
            async with httpx.AsyncClient() as client:

                async def other(i: int) -> None:
                    async with sem:
                        await create_task(
                            client,
                            [state["srv"].url],
                            admin,
                            {
                                "title": f"other {i}",
                                "lat": 27.7,
                                "lon": 112.5,
                                "assignee": others[i % 20]["reporter_id"],
                            },
                        )

                async def mine() -> None:
                    for i in range(200):
                        await create_task(
                            client,
                            [state["srv"].url],
                            admin,
                            {
                                "title": f"mine {i:03d}",
                                "lat": 27.7,
                                "lon": 112.5,
                                "assignee": offline["reporter_id"],
                            },
                        )
                        if i == 100:  # restart the server in the middle
                            old = state["srv"]
                            old.stop()
                            again = Server(
                                redis_url,
                                tmp_path,
                                port=old.port,
                                extra_env={**BULK, "NEWSROOM_ADMIN_TOKEN": admin},
                            )
                            state["srv"] = await asyncio.to_thread(again.start)

                await asyncio.gather(mine(), *(other(i) for i in range(5000)))
            phone = Phone([_ws(state["srv"])], offline["token"])
            stop = asyncio.Event()
            runner = asyncio.create_task(phone.run(stop))
            await wait_until(lambda: len(phone.shown) >= 200, 30, "the 200 tasks")
            await asyncio.sleep(0.5)  # anything extra would arrive now
            stop.set()
            await runner
            assert phone.titles() == [f"mine {i:03d}" for i in range(200)]

        run(go())
    finally:
        state["srv"].stop()


def test_redis_killed_and_restarted_loses_no_acknowledged_task(tmp_path: Path, run: Any) -> None:
    store = EmbeddedRedis(tmp_path / "redis")
    store.start()
    srv = Server(store.url, tmp_path, extra_env=BULK).start()
    reps = _reporters(srv, 3)
    try:

        async def go() -> None:
            stop = asyncio.Event()
            phones = [Phone([_ws(srv)], r["token"]) for r in reps]
            runners = [asyncio.create_task(p.run(stop)) for p in phones]
            acked: list[dict[str, Any]] = []
            sem = asyncio.Semaphore(8)
            async with httpx.AsyncClient() as client:

                async def one(i: int) -> None:
                    async with sem:
                        acked.append(
                            await create_task(
                                client,
                                [srv.url],
                                srv.admin_token,
                                {
                                    "title": f"t{i}",
                                    "lat": 27.7,
                                    "lon": 112.5,
                                    "assignee": reps[i % 3]["reporter_id"],
                                },
                            )
                        )
                        if len(acked) == 150:
                            assert store.process is not None
                            store.process.kill()  # kill -9 Redis mid-run
                            store.process.wait()
                            await asyncio.sleep(0.5)
                            store.start()  # same data directory, append-only file

                await asyncio.gather(*(one(i) for i in range(300)))
            await wait_until(
                lambda: sum(len(p.shown) for p in phones) >= 300, 60, "every task shown"
            )
            stop.set()
            await asyncio.gather(*runners)
            shown = [t["task_id"] for p in phones for t in p.shown]
            assert sorted(shown) == sorted(t["task_id"] for t in acked)

        run(go())
        assert _count_tasks(store.url) == 300
    finally:
        srv.stop()
        store.stop()


def _frame(payload: bytes, fin: bool = True) -> bytes:
    """A masked client text frame (RFC 6455)."""
    mask = os.urandom(4)
    head = bytes([0x81 if fin else 0x01])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    else:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def _raw_connect(srv: Server, token: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", srv.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/reporter HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    assert b" 101 " in sock.recv(4096)
    sock.sendall(_frame(json.dumps({"type": "hello", "v": 1, "token": token}).encode()))
    sock.settimeout(5)
    assert b"welcome" in sock.recv(65536)
    return sock


def test_a_connection_cut_mid_message_applies_nothing(server: Server, run: Any) -> None:
    (rep,) = _reporters(server, 1)
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    task = httpx.post(
        server.url + "/api/v1/tasks",
        headers=admin,
        json={"title": "t", "lat": 27.7, "lon": 112.5, "assignee": rep["reporter_id"]},
    ).json()
    status = json.dumps(
        {
            "type": "task_status",
            "v": 1,
            "id": "cut-1",
            "task_id": task["task_id"],
            "status": "accepted",
        }
    ).encode()
    for cut in (len(status) // 2, len(status) - 1):
        sock = _raw_connect(server, rep["token"])
        frame = _frame(status)
        sock.sendall(frame[: 6 + cut])  # header and mask, then part of the payload
        sock.close()
    # A fragmented message whose last fragment never comes:
    sock = _raw_connect(server, rep["token"])
    sock.sendall(_frame(status[:20], fin=False))
    sock.close()
    url = f"{server.url}/api/v1/tasks/{task['task_id']}"
    assert httpx.get(url, headers=admin).json()["state"] == "offered"

    async def go() -> None:  # the whole message, twice (a retry after the cut): applied once
        for _ in range(2):
            async with websockets.connect(_ws(server)) as ws:
                await ws.send(json.dumps({"type": "hello", "v": 1, "token": rep["token"]}))
                await ws.recv()
                await ws.send(status.decode())
                await ws.send(json.dumps({"type": "ping", "v": 1}))
                while json.loads(await asyncio.wait_for(ws.recv(), 3))["type"] != "pong":
                    pass

    run(go())
    states = [e["state"] for e in httpx.get(url, headers=admin).json()["timeline"]]
    assert states.count("accepted") == 1


def test_the_same_status_change_through_two_processes_is_applied_once(
    redis_url: str, tmp_path: Path, run: Any
) -> None:
    a = Server(redis_url, tmp_path, extra_env=BULK).start()
    b = Server(
        redis_url, tmp_path, extra_env={**BULK, "NEWSROOM_ADMIN_TOKEN": a.admin_token}
    ).start()
    try:
        (rep,) = _reporters(a, 1)
        admin = {"Authorization": f"Bearer {a.admin_token}"}
        ids = [
            httpx.post(
                a.url + "/api/v1/tasks",
                headers=admin,
                json={"title": f"t{i}", "lat": 27.7, "lon": 112.5, "assignee": rep["reporter_id"]},
            ).json()["task_id"]
            for i in range(20)
        ]

        async def send_all(url: str) -> None:
            async with websockets.connect(url) as ws:
                await ws.send(json.dumps({"type": "hello", "v": 1, "token": rep["token"]}))
                await ws.recv()
                for tid in ids:
                    await ws.send(
                        json.dumps(
                            {
                                "type": "task_status",
                                "v": 1,
                                "id": f"acc-{tid}",
                                "task_id": tid,
                                "status": "accepted",
                            }
                        )
                    )
                await ws.send(json.dumps({"type": "ping", "v": 1}))
                while json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] != "pong":
                    pass

        async def go() -> None:
            await asyncio.gather(send_all(_ws(a)), send_all(_ws(b)))

        run(go())
        for tid in ids:
            states = [
                e["state"]
                for e in httpx.get(f"{a.url}/api/v1/tasks/{tid}", headers=admin).json()["timeline"]
            ]
            assert states.count("accepted") == 1, states
    finally:
        a.stop()
        b.stop()


def test_a_client_that_stops_acknowledging_gets_a_bounded_window_and_slows_no_one(
    redis_url: str, tmp_path: Path, run: Any
) -> None:
    from dispatch.ws import WINDOW

    srv = Server(redis_url, tmp_path, extra_env=BULK).start()
    slow, fast = _reporters(srv, 2)
    try:

        async def go() -> None:
            stop = asyncio.Event()
            phone = Phone([_ws(srv)], fast["token"])
            runner = asyncio.create_task(phone.run(stop))
            async with websockets.connect(_ws(srv)) as ws:
                await ws.send(json.dumps({"type": "hello", "v": 1, "token": slow["token"]}))
                await ws.recv()
                sem = asyncio.Semaphore(16)
                async with httpx.AsyncClient() as client:

                    async def one(i: int, who: dict[str, Any]) -> None:
                        async with sem:
                            await create_task(
                                client,
                                [srv.url],
                                srv.admin_token,
                                {
                                    "title": f"{i}",
                                    "lat": 27.7,
                                    "lon": 112.5,
                                    "assignee": who["reporter_id"],
                                },
                            )

                    await asyncio.gather(
                        *(one(i, slow) for i in range(WINDOW + 20)),
                        *(one(i, fast) for i in range(20)),
                    )
                await wait_until(lambda: len(phone.shown) == 20, 10, "the fast reporter's tasks")
                cursors, first = [], []
                while True:  # the slow client reads but never acknowledges
                    try:
                        msg = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
                    except TimeoutError:
                        break
                    cursors.append(msg["cursor"])
                    first.append(msg["task"]["title"])
                assert len(cursors) == WINDOW
            # Reconnect and resume from the last cursor it processed: exactly the rest.
            async with websockets.connect(_ws(srv)) as ws:
                await ws.send(
                    json.dumps(
                        {"type": "hello", "v": 1, "token": slow["token"], "resume": cursors[-1]}
                    )
                )
                await ws.recv()
                rest = []
                while True:
                    try:
                        rest.append(
                            json.loads(await asyncio.wait_for(ws.recv(), 1.0))["task"]["title"]
                        )
                    except TimeoutError:
                        break
                assert len(rest) == 20 and sorted(first + rest, key=int) == [
                    str(i) for i in range(WINDOW + 20)
                ]
            stop.set()
            await runner

        run(go())
    finally:
        srv.stop()


def test_two_supervisors_on_two_processes_one_winner_and_a_clear_conflict(
    redis_url: str, tmp_path: Path, run: Any
) -> None:
    a = Server(redis_url, tmp_path, extra_env=BULK).start()
    b = Server(
        redis_url, tmp_path, extra_env={**BULK, "NEWSROOM_ADMIN_TOKEN": a.admin_token}
    ).start()
    try:
        admin = {"Authorization": f"Bearer {a.admin_token}"}
        first, second, third = _reporters(a, 3)
        task = httpx.post(
            a.url + "/api/v1/tasks",
            headers=admin,
            json={"title": "t", "lat": 27.7, "lon": 112.5, "assignee": first["reporter_id"]},
        ).json()

        async def both() -> list[httpx.Response]:
            async with httpx.AsyncClient() as client:
                return list(
                    await asyncio.gather(
                        *(
                            client.post(
                                f"{srv.url}/api/v1/tasks/{task['task_id']}/transitions",
                                headers=admin,
                                json={
                                    "state": "offered",
                                    "assignee": who["reporter_id"],
                                    "expected_version": task["version"],
                                },
                            )
                            for srv, who in ((a, second), (b, third))
                        )
                    )
                )

        for _ in range(5):
            answers = run(both())
            codes = sorted(r.status_code for r in answers)
            assert codes == [200, 409], [r.text for r in answers]
            loser = next(r for r in answers if r.status_code == 409).json()
            assert loser["error"] == "version_conflict" and "reload" in loser["detail"]
            task = httpx.get(f"{a.url}/api/v1/tasks/{task['task_id']}", headers=admin).json()
    finally:
        a.stop()
        b.stop()
