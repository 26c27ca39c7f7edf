"""Desk sessions against a real server: a login is an HttpOnly cookie whose session expires
on the server, and logging out ends it there (an old cookie gets the login form again)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
import redis

from dispatch import auth, db, escalation
from dispatch.keys import Keys

pytestmark = pytest.mark.integration
KEYS = Keys("default")


def page(http: httpx.Client, cookie: str | None) -> str:
    """What the router renders at /desk for this cookie (a Dash callback over HTTP, as the
    browser makes it): the JSON of the page."""
    body = {
        "output": "page.children",
        "outputs": {"id": "page", "property": "children"},
        "inputs": [
            {"id": "url", "property": "pathname", "value": "/desk"},
            {"id": "url", "property": "search", "value": ""},
        ],
        "changedPropIds": ["url.pathname"],
        "state": [],
    }
    got = http.post("/_dash-update-component", json=body, headers=jar(cookie))
    got.raise_for_status()
    return got.text


def jar(cookie: str | None) -> dict[str, str]:
    """The Cookie header a browser holding `cookie` sends (the client keeps no cookies)."""
    return {"Cookie": f"{auth.SESSION_COOKIE}={cookie}"} if cookie else {}


def is_desk(rendered: str) -> bool:
    return '"desk-title"' in rendered and '"desk-login"' not in rendered


def is_login(rendered: str) -> bool:
    return '"desk-login"' in rendered and '"desk-title"' not in rendered


def login(http: httpx.Client, token: str) -> httpx.Response:
    got = http.post("/desk/login", data={"token": token, "lang": "en"})
    assert got.status_code == 303
    http.cookies.clear()
    return got


def test_logging_out_ends_the_session_on_the_server(server: Any, sync_redis: redis.Redis) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert is_login(page(http, None))
        got = login(http, server.admin_token)
        cookie = got.cookies[auth.SESSION_COOKIE]
        header = got.headers["set-cookie"].lower()
        assert "httponly" in header and "samesite=strict" in header
        assert f"max-age={auth.SESSION_TTL_S}" in header
        assert is_desk(page(http, cookie))

        out = http.post("/desk/logout", headers=jar(cookie))
        assert out.status_code == 303 and auth.SESSION_COOKIE in out.headers["set-cookie"]
        assert not sync_redis.exists(KEYS.session(auth.hash_token(cookie)))
        # Someone who kept the cookie gets nothing from it.
        assert is_login(page(http, cookie))


def test_a_session_expires_on_the_server(server: Any, sync_redis: redis.Redis) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        cookie = login(http, server.admin_token).cookies[auth.SESSION_COOKIE]
        key = KEYS.session(auth.hash_token(cookie))
        ttl = sync_redis.ttl(key)
        assert isinstance(ttl, int) and auth.SESSION_TTL_S - 60 < ttl <= auth.SESSION_TTL_S
        assert is_desk(page(http, cookie))
        assert sync_redis.ttl(key) <= ttl  # using the desk does not stretch the session

        sync_redis.pexpire(key, 300)  # twelve hours later
        time.sleep(0.6)
        assert is_login(page(http, cookie))


def test_a_wrong_or_non_desk_token_opens_no_session(
    server: Any, sync_redis: redis.Redis, run: Any
) -> None:
    async def wall_token() -> str:
        r = db.connect(server.env["REDIS_URL"])
        try:
            return (await auth.create_token(r, KEYS, "wall"))[0]
        finally:
            await r.aclose()

    wall = run(wall_token())
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for token in ("not-a-token", wall):
            got = http.post("/desk/login", data={"token": token})
            assert got.status_code == 303 and got.headers["location"].startswith("/desk?error=1")
            assert auth.SESSION_COOKIE not in got.cookies
        assert not list(sync_redis.scan_iter(match=KEYS.session("*")))


def acknowledge(http: httpx.Client, cookie: str, alert_id: str) -> str:
    """The desk's acknowledge button, as the browser calls it (a Dash callback over HTTP)."""
    button = {"alert": alert_id, "type": "desk-alert-ack"}
    body = {
        "output": "..desk-alerts-status.children...desk-alerts-local.data..",
        "outputs": [
            {"id": "desk-alerts-status", "property": "children"},
            {"id": "desk-alerts-local", "property": "data"},
        ],
        "inputs": [[{"id": button, "property": "n_clicks", "value": 1}]],
        "changedPropIds": [json.dumps(button, separators=(",", ":")) + ".n_clicks"],
        "state": [{"id": "desk-ticket", "property": "data", "value": {"lang": "en"}}],
    }
    got = http.post("/_dash-update-component", json=body, headers=jar(cookie))
    got.raise_for_status()
    return got.text


def test_a_desk_action_after_logout_is_refused_on_the_server(
    server: Any, sync_redis: redis.Redis, run: Any
) -> None:
    async def two_alerts() -> list[str]:
        r = db.connect(server.env["REDIS_URL"])
        try:
            for subject in ("t-1", "t-2"):
                await escalation.raise_alert(r, KEYS, "task_expired", subject, "not answered")
            return [a["alert_id"] for a in await escalation.alerts_with_acks(r, KEYS)]
        finally:
            await r.aclose()

    second, first = run(two_alerts())
    with httpx.Client(base_url=server.url, timeout=10) as http:
        cookie = login(http, server.admin_token).cookies[auth.SESSION_COOKIE]
        assert "Acknowledged by admin" in acknowledge(http, cookie, first)
        http.post("/desk/logout", headers=jar(cookie))
        refused = acknowledge(http, cookie, second)
        assert "session has ended" in refused and "Acknowledged" not in refused
    assert sync_redis.hexists(KEYS.alert_acks, first)
    assert not sync_redis.hexists(KEYS.alert_acks, second)
