"""End to end against a real `newsroom serve` process: REST → Redis → the reporter's websocket."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

pytestmark = pytest.mark.integration


def _admin(server: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.admin_token}"}


def _new_reporter(server: Any, name: str = "王磊") -> dict[str, Any]:
    r = httpx.post(
        server.url + "/api/v1/reporters",
        json={"name": name, "skills": ["camera"]},
        headers=_admin(server),
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _ws_url(server: Any) -> str:
    return server.url.replace("http", "ws", 1) + "/ws/reporter"


async def _hello(ws: Any, token: str, resume: str | None = None) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "hello", "v": 1, "token": token, "resume": resume}))
    welcome = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert welcome["type"] == "welcome"
    return welcome  # type: ignore[no-any-return]


def test_health_docs_and_errors(server: Any) -> None:
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    assert httpx.get(server.url + "/readyz").json() == {"status": "ready"}
    assert "swagger" in httpx.get(server.url + "/api/docs").text.lower()
    assert "/api/v1/tasks" in httpx.get(server.url + "/api/openapi.json").json()["paths"]
    r = httpx.post(server.url + "/api/v1/tasks", json={"title": "x", "lat": 1, "lon": 1})
    assert r.status_code == 401 and "token" in r.json()["detail"]
    r = httpx.post(
        server.url + "/api/v1/tasks",
        json={"title": "x", "lat": 100, "lon": 1},
        headers=_admin(server),
    )
    assert r.status_code == 422 and "lat" in r.json()["detail"]
    reporter = _new_reporter(server)
    r = httpx.post(
        server.url + "/api/v1/tasks",
        json={"title": "x", "lat": 1, "lon": 1},
        headers={"Authorization": f"Bearer {reporter['token']}"},
    )
    assert r.status_code == 403 and "supervisor" in r.json()["detail"]


def test_task_reaches_the_reporter_and_is_redelivered_until_acked(server: Any, run: Any) -> None:
    reporter = _new_reporter(server)

    async def go() -> None:
        async with websockets.connect(_ws_url(server)) as ws:
            welcome = await _hello(ws, reporter["token"])
            assert welcome["reporter"]["reporter_id"] == reporter["reporter_id"]
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            r = await asyncio.to_thread(
                httpx.post,
                server.url + "/api/v1/tasks",
                headers=_admin(server),
                json={
                    "title": "县城防汛检查",
                    "brief": "dam at 3 pm",
                    "lat": 27.73,
                    "lon": 112.53,
                    "priority": "breaking",
                    "assignee": reporter["reporter_id"],
                },
            )
            assert r.status_code == 201, r.text
            task_id = r.json()["task_id"]
            push = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
            assert loop.time() - t0 < 1.0
            assert push["type"] == "task" and push["task"]["task_id"] == task_id and push["cursor"]
            first_cursor = push["cursor"]
        # Reconnect without acking: the task comes again.
        async with websockets.connect(_ws_url(server)) as ws:
            await _hello(ws, reporter["token"])
            again = json.loads(await asyncio.wait_for(ws.recv(), 2))
            assert again["task"]["task_id"] == task_id and again["cursor"] == first_cursor
            await ws.send(json.dumps({"type": "ack", "v": 1, "cursor": again["cursor"]}))
            await ws.send(json.dumps({"type": "ping", "v": 1, "t": 1}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 2))["type"] == "pong"
        # After the ack: nothing is redelivered, and the task is delivered.
        async with websockets.connect(_ws_url(server)) as ws:
            await _hello(ws, reporter["token"])
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.5)
        got = await asyncio.to_thread(
            httpx.get, f"{server.url}/api/v1/tasks/{task_id}", headers=_admin(server)
        )
        assert got.json()["state"] == "delivered"
        assert [e["state"] for e in got.json()["timeline"]] == ["created", "offered", "delivered"]

    run(go())


def test_status_change_and_illegal_transition_over_the_socket(server: Any, run: Any) -> None:
    reporter = _new_reporter(server)
    r = httpx.post(
        server.url + "/api/v1/tasks",
        headers=_admin(server),
        json={"title": "t", "lat": 27.7, "lon": 112.5, "assignee": reporter["reporter_id"]},
    )
    task_id = r.json()["task_id"]

    async def go() -> None:
        async with websockets.connect(_ws_url(server)) as ws:
            await _hello(ws, reporter["token"])
            push = json.loads(await asyncio.wait_for(ws.recv(), 2))
            await ws.send(json.dumps({"type": "ack", "v": 1, "cursor": push["cursor"]}))
            await ws.send(
                json.dumps(
                    {
                        "type": "task_status",
                        "v": 1,
                        "id": "s1",
                        "task_id": task_id,
                        "status": "done",
                    }
                )
            )
            err = json.loads(await asyncio.wait_for(ws.recv(), 2))
            assert err["type"] == "error" and err["code"] == "illegal_transition"
            assert err["id"] == "s1"
            for _ in range(2):  # the same id twice is applied once
                await ws.send(
                    json.dumps(
                        {
                            "type": "task_status",
                            "v": 1,
                            "id": "s2",
                            "task_id": task_id,
                            "status": "accepted",
                        }
                    )
                )
            update = json.loads(await asyncio.wait_for(ws.recv(), 2))
            assert update["type"] == "task_update" and update["task"]["state"] == "accepted"
            await ws.send(json.dumps({"type": "bogus"}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 2))["code"] == "invalid_input"
        got = await asyncio.to_thread(
            httpx.get, f"{server.url}/api/v1/tasks/{task_id}", headers=_admin(server)
        )
        assert [e["state"] for e in got.json()["timeline"]].count("accepted") == 1

    run(go())


def test_welcome_lists_held_tasks_and_duty_is_set_over_the_socket(server: Any, run: Any) -> None:
    """A second device catches up on what the first one acknowledged; going off duty from the
    phone takes the reporter off the map and out of the ranking."""
    me, other = _new_reporter(server, "林晓"), _new_reporter(server, "黄河")

    def task(title: str, assignee: str) -> str:
        r = httpx.post(
            server.url + "/api/v1/tasks",
            headers=_admin(server),
            json={"title": title, "lat": 27.73, "lon": 112.53, "assignee": assignee},
        )
        return r.json()["task_id"]  # type: ignore[no-any-return]

    def move(task_id: str, body: dict[str, Any]) -> None:
        r = httpx.post(
            f"{server.url}/api/v1/tasks/{task_id}/transitions", headers=_admin(server), json=body
        )
        assert r.status_code == 200, r.text

    kept, cancelled, moved = (task(t, me["reporter_id"]) for t in ("kept", "cancelled", "moved"))

    async def go() -> None:
        async with websockets.connect(_ws_url(server)) as ws:
            welcome = await _hello(ws, me["token"])
            assert {t["task_id"] for t in welcome["tasks"]} == {kept, cancelled, moved}
            cursor = ""
            for _ in range(3):
                cursor = json.loads(await asyncio.wait_for(ws.recv(), 2))["cursor"]
            await ws.send(json.dumps({"type": "ack", "v": 1, "cursor": cursor}))
            await ws.send(json.dumps({"type": "ping", "v": 1}))  # acks are answered by nothing
            assert json.loads(await asyncio.wait_for(ws.recv(), 2))["type"] == "pong"
            await asyncio.to_thread(move, cancelled, {"state": "cancelled"})
            await asyncio.to_thread(
                move, moved, {"state": "offered", "assignee": other["reporter_id"]}
            )
            now_ms = int(time.time() * 1000)
            fix = {"type": "location", "v": 1, "lat": 27.73, "lon": 112.53, "ts": now_ms}
            await ws.send(json.dumps(fix))
            await ws.send(json.dumps({"type": "duty", "v": 1, "on_duty": False}))
            while (msg := json.loads(await asyncio.wait_for(ws.recv(), 2)))["type"] != "duty":
                pass
            assert msg == {"type": "duty", "v": 1, "on_duty": False}
        async with websockets.connect(_ws_url(server)) as ws:  # a new phone, no cursor
            welcome = await _hello(ws, me["token"])
            assert [t["task_id"] for t in welcome["tasks"]] == [kept]
            assert welcome["reporter"]["on_duty"] is False
        nearest = await asyncio.to_thread(
            httpx.get,
            server.url + "/api/v1/reporters/nearest",
            params={"lat": 27.73, "lon": 112.53},
            headers=_admin(server),
        )
        assert me["reporter_id"] not in [r["reporter_id"] for r in nearest.json()]

    run(go())


@pytest.mark.parametrize(
    "first",
    [
        {"type": "hello", "v": 1, "token": "wrong"},
        {"type": "ping", "v": 1},
    ],
)
def test_wrong_token_or_no_hello_is_closed_1008(
    server: Any, run: Any, first: dict[str, Any]
) -> None:
    async def go() -> None:
        async with websockets.connect(_ws_url(server)) as ws:
            await ws.send(json.dumps(first))
            with pytest.raises(ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), 5)
            assert info.value.rcvd is not None and info.value.rcvd.code == 1008

    run(go())


def test_oversized_message_is_closed_1009_and_bad_origin_refused(server: Any, run: Any) -> None:
    reporter = _new_reporter(server)

    async def go() -> None:
        async with websockets.connect(_ws_url(server), max_size=None) as ws:
            await _hello(ws, reporter["token"])
            await ws.send("x" * (70 * 1024))
            with pytest.raises(ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), 5)
            assert info.value.rcvd is not None and info.value.rcvd.code == 1009
        with pytest.raises(InvalidStatus) as refused:  # refused at the handshake
            async with websockets.connect(
                _ws_url(server), origin=Origin("http://evil.example")
            ) as ws:
                await _hello(ws, reporter["token"])
        assert refused.value.response.status_code == 403

    run(go())


def test_revoked_token_closes_the_socket(server: Any, run: Any) -> None:
    reporter = _new_reporter(server)

    async def go() -> None:
        async with websockets.connect(_ws_url(server)) as ws:
            await _hello(ws, reporter["token"])
            cmd = [sys.executable, "-m", "dispatch.cli", "tokens", "revoke", reporter["token_id"]]
            out = await asyncio.to_thread(
                subprocess.run, cmd, env=server.env, capture_output=True, text=True
            )
            assert out.returncode == 0, out.stderr
            with pytest.raises(ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), 2)
            assert info.value.rcvd is not None and info.value.rcvd.code == 1008

    run(go())


def test_edit_over_rest(server: Any) -> None:
    reporter = _new_reporter(server)
    task = httpx.post(
        server.url + "/api/v1/tasks",
        headers=_admin(server),
        json={"title": "t", "lat": 27.7, "lon": 112.5, "assignee": reporter["reporter_id"]},
    ).json()
    url = f"{server.url}/api/v1/tasks/{task['task_id']}"
    r = httpx.patch(url, json={"brief": "bring the drone"}, headers=_admin(server))
    assert r.status_code == 200 and r.json()["brief"] == "bring the drone"
    r = httpx.patch(url, json={"state": "done"}, headers=_admin(server))
    assert r.status_code == 422 and "state" in r.json()["detail"]
    mine = {"Authorization": f"Bearer {reporter['token']}"}
    assert httpx.patch(url, json={"title": "x"}, headers=mine).status_code == 403
