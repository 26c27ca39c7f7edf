"""Bad input, including hypothesis-generated messages, against a real server: each gets a close
code or a 4xx with a reason, nothing is stored, and the server never errors."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import redis
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from dispatch.api import TaskIn
from servers import Server

pytestmark = pytest.mark.integration
BULK = {"NEWSROOM_RATE_TOKEN": "1000000/60", "NEWSROOM_RATE_IP": "1000000/60"}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "type",
    "v",
    "cursor",
    "id",
    "task_id",
    "status",
    "reason",
    "lat",
    "lon",
    "ts",
    "token",
    "resume",
]


def messages(other_task: str) -> st.SearchStrategy[str]:
    shaped = st.fixed_dictionaries(
        {"type": st.sampled_from(["ack", "task_status", "location", "ping", "hello", "bogus"])},
        optional={k: json_values for k in FIELDS[1:]},
    ).map(json.dumps)
    theirs = st.builds(
        lambda i, s: json.dumps(
            {"type": "task_status", "v": 1, "id": i, "task_id": other_task, "status": s}
        ),
        st.text("abc123", min_size=1, max_size=8),
        st.sampled_from(["accepted", "done", "declined", "en_route"]),
    )
    return st.one_of(shaped, theirs, json_values.map(json.dumps), st.text(max_size=200))


@pytest.fixture
def bulk_server(redis_url: str, tmp_path: Any) -> Any:
    srv = Server(redis_url, tmp_path, extra_env=BULK).start()
    yield srv
    srv.stop()


def test_hypothesis_messages_on_the_reporter_socket(bulk_server: Server, redis_url: str) -> None:
    admin = {"Authorization": f"Bearer {bulk_server.admin_token}"}
    me = httpx.post(
        bulk_server.url + "/api/v1/reporters", json={"name": "甲"}, headers=admin
    ).json()
    other = httpx.post(
        bulk_server.url + "/api/v1/reporters", json={"name": "乙"}, headers=admin
    ).json()
    theirs = httpx.post(
        bulk_server.url + "/api/v1/tasks",
        headers=admin,
        json={"title": "theirs", "lat": 27.7, "lon": 112.5, "assignee": other["reporter_id"]},
    ).json()
    url = bulk_server.url.replace("http", "ws", 1) + "/ws/reporter"
    before = httpx.get(f"{bulk_server.url}/api/v1/tasks/{theirs['task_id']}", headers=admin).json()

    async def exchange(raw: str) -> tuple[str, Any]:
        async with websockets.connect(url, max_size=None) as ws:
            await ws.send(json.dumps({"type": "hello", "v": 1, "token": me["token"]}))
            assert json.loads(await ws.recv())["type"] == "welcome"
            await ws.send(raw)
            await ws.send(json.dumps({"type": "ping", "v": 1}))
            replies = []
            try:
                while True:
                    reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    if reply["type"] == "pong":
                        return "ok", replies
                    replies.append(reply)
            except ConnectionClosed as exc:
                return "closed", exc.rcvd.code if exc.rcvd else None

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(messages(theirs["task_id"]))
    def check(raw: str) -> None:
        outcome, detail = asyncio.run(exchange(raw))
        if outcome == "closed":
            assert detail in (1008, 1009), detail  # a policy close, never a server error (1011)
            return
        for reply in detail:
            assert reply["type"] in ("error", "pong", "task_update"), reply
            if reply["type"] == "error":
                assert (
                    reply["code"]
                    in (
                        "invalid_input",
                        "forbidden",
                        "not_found",
                        "illegal_transition",
                        "rate_limited",
                    )
                    and reply["text"]
                )

    with ThreadPoolExecutor(1) as pool:
        pool.submit(check).result()
    after = httpx.get(f"{bulk_server.url}/api/v1/tasks/{theirs['task_id']}", headers=admin).json()
    assert after == before, "another reporter's task changed"
    log = bulk_server.log_path.read_text()
    assert "Traceback" not in log, log[-3000:]


def test_hypothesis_bodies_on_the_rest_api(bulk_server: Server, redis_url: str) -> None:
    admin = {
        "Authorization": f"Bearer {bulk_server.admin_token}",
        "Content-Type": "application/json",
    }
    c = redis.Redis.from_url(redis_url)

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.one_of(
            json_values.map(json.dumps),
            st.text(max_size=100),
            st.fixed_dictionaries(
                {"title": json_values, "lat": json_values, "lon": json_values},
                optional={"priority": json_values, "assignee": json_values, "brief": json_values},
            ).map(json.dumps),
        )
    )
    def check(body: str) -> None:
        count = c.zcard("nr:{default}:tasks:all")
        r = httpx.post(bulk_server.url + "/api/v1/tasks", content=body, headers=admin)
        assert r.status_code < 500, r.text
        if r.status_code == 201:
            TaskIn.model_validate_json(body)  # only a valid body creates anything
            assert c.zcard("nr:{default}:tasks:all") == count + 1
        else:
            assert 400 <= r.status_code < 500 and r.json()["detail"]
            assert c.zcard("nr:{default}:tasks:all") == count

    with ThreadPoolExecutor(1) as pool:
        pool.submit(check).result()
    c.close()
    for path, body in (
        ("/api/v1/reporters", "{"),
        ("/api/v1/reporters", '{"name": ""}'),
        ("/api/v1/tasks/t-x/transitions", '{"state": "flying"}'),
    ):
        r = httpx.post(bulk_server.url + path, content=body, headers=admin)
        assert r.status_code in (404, 422) and r.json()["detail"]
    assert "Traceback" not in bulk_server.log_path.read_text()
