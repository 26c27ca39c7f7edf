"""The security checklist of the Dispatch issue, each against a real server and Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import websockets
from websockets.exceptions import ConnectionClosed

from dispatch import auth, db
from dispatch.keys import Keys
from servers import Server

pytestmark = pytest.mark.integration
KEYS = Keys("default")


def _admin(srv: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {srv.admin_token}"}


def _reporter(srv: Server, name: str = "王磊") -> dict[str, Any]:
    rep = httpx.post(srv.url + "/api/v1/reporters", json={"name": name}, headers=_admin(srv))
    assert rep.status_code == 201
    return rep.json()  # type: ignore[no-any-return]


def _fresh_window(window_s: int = 60) -> None:
    """Rate limits count in fixed windows aligned to the clock: start a burst well inside one."""
    if time.time() % window_s > window_s - 10:
        time.sleep(window_s - time.time() % window_s + 0.1)


def _ws(srv: Server) -> str:
    return srv.url.replace("http", "ws", 1) + "/ws/reporter"


def test_tokens_are_random_256_bit_stored_only_as_hashes_and_shown_once(
    server: Server, redis_url: str
) -> None:
    reps = [_reporter(server, f"r{i}") for i in range(5)]
    tokens = [r["token"] for r in reps]
    assert len(set(tokens)) == 5 and all(len(t) == 43 for t in tokens)  # 32 random bytes, base64url
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    everything = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind == "hash":
            everything.append(json.dumps(client.hgetall(key)))
        elif kind == "string":
            everything.append(str(client.get(key)))
        elif kind == "set":
            everything.append(json.dumps(sorted(client.smembers(key))))
        elif kind == "stream":
            everything.append(json.dumps(client.xrange(key)))
        everything.append(key)
    client.close()
    blob = "\n".join(everything)
    assert not any(t in blob for t in tokens) and server.admin_token not in blob
    assert auth.hash_token(tokens[0]) in blob
    shown = httpx.get(
        f"{server.url}/api/v1/reporters/{reps[0]['reporter_id']}", headers=_admin(server)
    ).json()
    assert "token" not in shown


def test_revocation_closes_the_holders_sockets_within_a_second(
    server: Server, redis_url: str, run: Any
) -> None:
    rep = _reporter(server)

    async def go() -> None:
        async with websockets.connect(_ws(server)) as ws:
            await ws.send(json.dumps({"type": "hello", "v": 1, "token": rep["token"]}))
            assert json.loads(await ws.recv())["type"] == "welcome"
            r = db.connect(redis_url)
            await auth.revoke(r, KEYS, rep["token_id"])
            await r.aclose()
            with pytest.raises(ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), 1.0)
            assert info.value.rcvd is not None and info.value.rcvd.code == 1008
            assert "revoked" in info.value.rcvd.reason
        async with websockets.connect(_ws(server)) as ws:  # and it cannot come back
            await ws.send(json.dumps({"type": "hello", "v": 1, "token": rep["token"]}))
            with pytest.raises(ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), 2.0)
            assert info.value.rcvd is not None and info.value.rcvd.code == 1008

    run(go())


def test_auth_only_in_the_first_message_within_5_s_never_in_the_url(
    server: Server, run: Any
) -> None:
    rep = _reporter(server)

    async def go() -> None:
        async with websockets.connect(_ws(server) + f"?token={rep['token']}") as ws:
            t0 = time.monotonic()
            with pytest.raises(ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), 8)
            assert info.value.rcvd is not None and info.value.rcvd.code == 1008
            assert "hello" in info.value.rcvd.reason and 4.5 < time.monotonic() - t0 < 7.5

    run(go())


def test_origin_allowlist_and_no_compression(redis_url: str, tmp_path: Path, run: Any) -> None:
    srv = Server(
        redis_url, tmp_path, extra_env={"NEWSROOM_ALLOWED_ORIGINS": "https://app.example.cn"}
    ).start()
    try:
        rep = _reporter(srv)

        async def go() -> None:
            for origin, ok in (
                ("https://app.example.cn", True),
                (srv.url, True),
                ("http://evil.example", False),
            ):
                try:
                    async with websockets.connect(_ws(srv), origin=websockets.Origin(origin)) as ws:
                        assert ws.response is not None
                        assert (
                            ws.response.headers.get("Sec-WebSocket-Extensions") is None
                        )  # no deflate
                        await ws.send(json.dumps({"type": "hello", "v": 1, "token": rep["token"]}))
                        assert json.loads(await ws.recv())["type"] == "welcome"
                        assert ok, origin
                except (websockets.InvalidStatus, ConnectionClosed) as exc:
                    assert not ok, (origin, exc)

        run(go())
    finally:
        srv.stop()


def test_rate_limits_are_shared_by_every_process(redis_url: str, tmp_path: Path) -> None:
    env = {"NEWSROOM_RATE_TOKEN": "8/60", "NEWSROOM_RATE_IP": "1000/60"}
    a = Server(redis_url, tmp_path, extra_env=env).start()
    b = Server(
        redis_url, tmp_path, extra_env={**env, "NEWSROOM_ADMIN_TOKEN": a.admin_token}
    ).start()
    try:
        token = _reporter(a)["token"]
        _fresh_window()
        mine = {"Authorization": f"Bearer {token}"}
        codes = [
            httpx.get(f"{srv.url}/api/v1/tasks/t-none", headers=mine).status_code
            for srv in [a, b] * 6
        ]
        assert codes[:8] == [404] * 8 and codes[8:] == [429] * 4, codes
        refused = httpx.get(f"{b.url}/api/v1/tasks/t-none", headers=mine)
        assert (
            "at most 8 in 60 s" in refused.json()["detail"]
            and int(refused.headers["Retry-After"]) >= 1
        )
        # Another token is not affected.
        assert httpx.get(f"{a.url}/api/v1/tasks/t-none", headers=_admin(a)).status_code == 404
    finally:
        a.stop()
        b.stop()


def test_rate_limit_per_address(redis_url: str, tmp_path: Path, run: Any) -> None:
    srv = Server(redis_url, tmp_path, extra_env={"NEWSROOM_RATE_IP": "5/60"}).start()
    try:
        _fresh_window()
        codes = [
            httpx.get(
                f"{srv.url}/api/v1/tasks", headers={"Authorization": f"Bearer x{i}"}
            ).status_code
            for i in range(7)
        ]
        assert codes == [401] * 5 + [429] * 2, codes

        async def refused_socket() -> tuple[int, str]:
            ws_url = srv.url.replace("http", "ws", 1) + "/ws/reporter"
            async with websockets.connect(ws_url) as ws:
                # The refusal may arrive before the hello is sent: then sending fails too.
                with contextlib.suppress(ConnectionClosed):
                    await ws.send(json.dumps({"type": "hello", "v": 1, "token": "x"}))
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.recv()
            assert closed.value.rcvd is not None
            return closed.value.rcvd.code, closed.value.rcvd.reason

        # Sockets count against the same address; 1013 (try later), not 1008 (give up).
        code, reason = run(refused_socket())
        assert code == 1013 and "at most 5 in 60 s" in reason, (code, reason)
    finally:
        srv.stop()


def test_reporters_see_and_change_only_their_own_and_the_wall_changes_nothing(
    server: Server, run: Any
) -> None:
    me, other = _reporter(server, "甲"), _reporter(server, "乙")
    wall, _ = run(_token(server, "wall"))
    theirs = httpx.post(
        server.url + "/api/v1/tasks",
        headers=_admin(server),
        json={"title": "theirs", "lat": 27.7, "lon": 112.5, "assignee": other["reporter_id"]},
    ).json()
    mine = {"Authorization": f"Bearer {me['token']}"}
    url = f"{server.url}/api/v1/tasks/{theirs['task_id']}"
    assert httpx.get(url, headers=mine).status_code == 403
    assert (
        httpx.post(url + "/transitions", json={"state": "accepted"}, headers=mine).status_code
        == 403
    )
    assert (
        httpx.get(f"{server.url}/api/v1/reporters/{other['reporter_id']}", headers=mine).status_code
        == 403
    )
    walls = {"Authorization": f"Bearer {wall}"}
    assert httpx.get(url, headers=walls).status_code == 200
    for method, path, body in (
        ("POST", "/api/v1/tasks", {"title": "x", "lat": 1, "lon": 1}),
        ("POST", f"/api/v1/tasks/{theirs['task_id']}/transitions", {"state": "cancelled"}),
        ("POST", "/api/v1/reporters", {"name": "x"}),
    ):
        assert httpx.request(method, server.url + path, json=body, headers=walls).status_code == 403

    async def go() -> None:
        async with websockets.connect(_ws(server)) as ws:
            await ws.send(json.dumps({"type": "hello", "v": 1, "token": me["token"]}))
            await ws.recv()
            await ws.send(
                json.dumps(
                    {
                        "type": "task_status",
                        "v": 1,
                        "id": "x1",
                        "task_id": theirs["task_id"],
                        "status": "accepted",
                    }
                )
            )
            err = json.loads(await asyncio.wait_for(ws.recv(), 2))
            assert err["code"] == "forbidden" and err["id"] == "x1"

    run(go())
    after = httpx.get(url, headers=_admin(server)).json()
    assert after["state"] == "offered" and len(after["timeline"]) == 2


async def _token(srv: Server, role: str) -> tuple[str, str]:
    r = db.connect(srv.env["REDIS_URL"])
    made = await auth.create_token(r, KEYS, role)
    await r.aclose()
    return made


def test_tokens_never_start_with_a_dash() -> None:
    """A token follows `--token` on a command line; one starting with "-" read as an option (a
    1-in-64 chance per token before). 5,000 draws would show it almost surely."""
    drawn = [auth.new_token() for _ in range(5000)]
    assert not [t for t in drawn if t.startswith("-")]
    assert len(set(drawn)) == 5000 and min(map(len, drawn)) == 43
